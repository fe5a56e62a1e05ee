import Foundation
import RelevoPlan

/// Plan values as the reports print them, in YAML's flow style. A secret is
/// printed as its reference (`env:LDAP_PASSWORD`): a report never holds a
/// secret, because the plan never does and nothing here resolves one.
enum ValueText {
    static func text(_ v: Value) -> String {
        switch v.content {
        case .string(let s): s
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .duration(let d): seconds(d)
        case .secret(let ref): ref.description
        case .ref(let r): r.name
        case .template(let t): t.description
        case .storePath(let store, let path): "\(store.name):\(path.description)"
        case .list(let items): "[" + items.map(text).joined(separator: ", ") + "]"
        case .map(let entries): "{" + entries.map { "\($0.key.name): \(text($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// `name: value, ...` in the order written, without `skipping`'s names.
    static func parameters(_ p: Parameters, skipping: Set<String> = []) -> String {
        p.entries.filter { !skipping.contains($0.name.name) }.map { "\($0.name.name): \(text($0.value))" }
            .joined(separator: ", ")
    }

    /// `250ms`, `2s`, `1.5s`, `5m`, `2h`.
    static func seconds(_ d: Double) -> String {
        if d < 1 { return number(d * 1000) + "ms" }
        if d >= 3600, d.truncatingRemainder(dividingBy: 3600) == 0 { return number(d / 3600) + "h" }
        if d >= 60, d.truncatingRemainder(dividingBy: 60) == 0 { return number(d / 60) + "m" }
        return number(d) + "s"
    }

    /// At most three decimals, trailing zeros dropped.
    static func number(_ d: Double) -> String {
        var s = String(format: "%.3f", d)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
