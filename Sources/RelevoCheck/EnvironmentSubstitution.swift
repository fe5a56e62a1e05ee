import RelevoBasics
import RelevoYAML

/// `${env:NAME}` in a plan's scalar values: configuration that differs per
/// machine (an address, a port, a store root) read from the environment
/// when the plan is loaded, so one plan file serves a testbed and
/// production (`examples/exalumno/live.yaml` reads what `scripts/testbed up`
/// exports).
///
/// It is for configuration, never for secrets: a secret parameter takes a
/// reference (`env:NAME`, `file:PATH`) that is resolved only when a driver
/// needs it; a `${env:...}` there would put the secret's value into the
/// plan, which the checker then refuses as a literal secret (E060).
///
/// Substitution happens before anything else reads the plan; keys are
/// never substituted. A variable that is not set is E062 at the
/// placeholder, and the placeholder is left as it was.
enum EnvironmentSubstitution {
    static let prefix = Array("${env:".unicodeScalars)

    static func apply(_ node: YAMLNode, environment: [String: String], diagnostics: inout [Diagnostic]) -> YAMLNode {
        var node = node
        switch node.content {
        case .scalar(let text, let style):
            guard text.contains("${env:") else { return node }
            node.content = .scalar(substitute(text, in: node, style: style, environment: environment,
                                              diagnostics: &diagnostics), style)
        case .mapping(let pairs):
            node.content = .mapping(pairs.map {
                var pair = $0
                pair.value = apply($0.value, environment: environment, diagnostics: &diagnostics)
                return pair
            })
        case .sequence(let items):
            node.content = .sequence(items.map { apply($0, environment: environment, diagnostics: &diagnostics) })
        }
        return node
    }

    private static func substitute(_ text: String, in node: YAMLNode, style: ScalarStyle, environment: [String: String],
                                   diagnostics: inout [Diagnostic]) -> String {
        let scalars = Array(text.unicodeScalars)
        let quote = (style == .singleQuoted || style == .doubleQuoted) ? 1 : 0
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            guard i + prefix.count <= scalars.count, Array(scalars[i..<(i + prefix.count)]) == prefix else {
                out.append(scalars[i])
                i += 1
                continue
            }
            var j = i + prefix.count
            var name = ""
            while j < scalars.count, scalars[j] != "}" {
                name.unicodeScalars.append(scalars[j])
                j += 1
            }
            let range = node.range.subrange(columnOffset: i + quote, length: min(j, scalars.count - 1) - i + 1)
            let valid = !name.isEmpty && !(name.first?.isNumber ?? true)
                && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
            if j >= scalars.count || !valid {
                diagnostics.append(Diagnostic(Codes.badTemplate,
                                              j >= scalars.count ? "unterminated '${env:' placeholder" : "'${env:\(name)}' does not name an environment variable",
                                              at: range, help: "write ${env:NAME}, NAME of letters, digits and '_'"))
                out.append(contentsOf: scalars[i...])
                break
            }
            if let value = environment[name] {
                out.append(contentsOf: value.unicodeScalars)
            } else {
                diagnostics.append(Diagnostic(Codes.unsetVariable, "the environment variable \(name) is not set", at: range,
                                              help: "export \(name) before running relevo (for the testbed: eval \"$(scripts/testbed up)\")"))
                out.append(contentsOf: scalars[i...j])
            }
            i = j + 1
        }
        return String(out)
    }
}
