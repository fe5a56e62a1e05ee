import RelevoBasics
import RelevoPlan
import RelevoYAML

/// Turns YAML nodes into typed values, reporting every structural mistake as
/// a diagnostic and going on, so that one run shows all of them.
struct Reader {
    let source: SourceFile
    var diagnostics: [Diagnostic] = []

    init(source: SourceFile) { self.source = source }

    mutating func report(_ code: DiagnosticCode, _ summary: String, at range: SourceRange?,
                         help: String? = nil, notes: [DiagnosticNote] = [], fixIt: FixIt? = nil) {
        diagnostics.append(Diagnostic(code, summary, at: range, help: help, fixIt: fixIt, notes: notes))
    }

    // MARK: Mappings

    /// The entries of a mapping node, keyed by name, after checking that each
    /// key is known and each required key is present. Nil (and a diagnostic)
    /// when the node is not a mapping.
    mutating func fields(_ node: YAMLNode, in context: String, known: [String],
                         required: [String] = []) -> [String: YAMLPair]? {
        guard let pairs = node.pairs else {
            report(Codes.wrongType, "\(context) must be a mapping, not \(node.kindDescription)", at: node.range)
            return nil
        }
        var out: [String: YAMLPair] = [:]
        for pair in pairs {
            let name = pair.name
            if known.contains(name) {
                out[name] = pair
            } else {
                let suggestion = Suggest.closest(to: name, in: known)
                report(Codes.unknownKey, "unknown key '\(name)' in \(context)", at: pair.key.range,
                       help: suggestion.map { "did you mean '\($0)'?" }
                           ?? "known keys: " + known.joined(separator: ", "),
                       fixIt: suggestion.map { FixIt(range: pair.key.range, replacement: $0) })
            }
        }
        for name in required where out[name] == nil {
            report(Codes.missingKey, "\(context) is missing '\(name)'", at: startRange(node))
        }
        return out
    }

    /// A one-column range at the start of a node (for "missing key" errors,
    /// which belong to the whole mapping).
    func startRange(_ node: YAMLNode) -> SourceRange {
        SourceRange(file: node.range.file, line: node.range.start.line, column: node.range.start.column)
    }

    // MARK: Scalars

    mutating func string(_ node: YAMLNode, _ what: String) -> String? {
        guard let s = node.scalar, !node.isNull else {
            report(Codes.wrongType, "\(what) must be a string, not \(node.kindDescription)", at: node.range)
            return nil
        }
        return s
    }

    mutating func ref(_ node: YAMLNode, _ what: String) -> Ref? {
        guard let s = string(node, what) else { return nil }
        return Ref(s, at: node.range)
    }

    mutating func refs(_ node: YAMLNode, _ what: String) -> [Ref] {
        if let items = node.items { return items.compactMap { ref($0, what) } }
        return ref(node, what).map { [$0] } ?? []
    }

    mutating func int(_ node: YAMLNode, _ what: String, min: Int = Int.min) -> Int? {
        guard let s = node.scalar, node.style == .plain, let i = Int(s) else {
            report(Codes.wrongType, "\(what) must be an integer, not \(describe(node))", at: node.range)
            return nil
        }
        if i < min {
            report(Codes.invalidValue, "\(what) must be at least \(min), not \(i)", at: node.range)
            return nil
        }
        return i
    }

    mutating func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        if let s = node.scalar, node.style == .plain {
            if ["true", "True", "TRUE"].contains(s) { return true }
            if ["false", "False", "FALSE"].contains(s) { return false }
        }
        report(Codes.wrongType, "\(what) must be true or false, not \(describe(node))", at: node.range,
               help: ["yes", "no", "on", "off"].contains(node.scalar ?? "") ? "write true or false" : nil)
        return nil
    }

    func describe(_ node: YAMLNode) -> String {
        if let s = node.scalar, !node.isNull { return "'\(s)'" }
        return node.kindDescription
    }

    /// `30s`, `5m`, `2h`, `1d`, `250ms` or a plain number of seconds.
    mutating func duration(_ node: YAMLNode, _ what: String) -> Double? {
        guard let s = node.scalar, !node.isNull else {
            report(Codes.wrongType, "\(what) must be a duration, not \(node.kindDescription)", at: node.range)
            return nil
        }
        if let d = Self.parseDuration(s) { return d }
        report(Codes.invalidValue, "\(what): '\(s)' is not a duration", at: node.range,
               help: "write a number with a unit: 250ms, 30s, 5m, 2h, 1d")
        return nil
    }

    static func parseDuration(_ s: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (unit, factor) in units where s.hasSuffix(unit) {
            if let n = Double(s.dropLast(unit.count)), n >= 0, n.isFinite { return n * factor }
        }
        if let n = Double(s), n >= 0, n.isFinite { return n }
        return nil
    }

    // MARK: Templates

    /// Parses `${field}` placeholders; offsets are columns from the node's start.
    mutating func template(_ node: YAMLNode, _ text: String, offset base: Int = 0) -> Template? {
        var parts: [Template.Part] = []
        var literal = ""
        let scalars = Array(text.unicodeScalars)
        var i = 0
        var ok = true
        while i < scalars.count {
            if scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{" {
                var j = i + 2
                var name = ""
                while j < scalars.count, scalars[j] != "}" {
                    name.unicodeScalars.append(scalars[j])
                    j += 1
                }
                let valid = !name.isEmpty && name.unicodeScalars.allSatisfy {
                    $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
                }
                if j >= scalars.count || !valid {
                    let offset = base + columnOffset(of: i, in: node, text: text)
                    report(Codes.badTemplate,
                           j >= scalars.count ? "unterminated '${' placeholder" : "'${\(name)}' is not a valid placeholder",
                           at: node.range.subrange(columnOffset: offset, length: min(j, scalars.count) - i + 1),
                           help: "placeholders are ${name}, with letters, digits, '_' and '-'")
                    ok = false
                    break
                }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.field(name, offset: base + columnOffset(of: i, in: node, text: text)))
                i = j + 1
            } else {
                literal.unicodeScalars.append(scalars[i])
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return ok ? Template(parts: parts) : nil
    }

    /// The column offset, from the node's start, of the scalar index `index`
    /// of its value (exact for values written on one line without escapes).
    func columnOffset(of index: Int, in node: YAMLNode, text: String) -> Int {
        let quote = (node.style == .singleQuoted || node.style == .doubleQuoted) ? 1 : 0
        return index + quote
    }

    // MARK: Typed parameters

    mutating func parameters(_ node: YAMLNode, specs: [ParamSpec], context: String) -> Parameters? {
        guard let entries = fields(node, in: context, known: specs.map(\.name),
                                   required: specs.filter(\.required).map(\.name)) else { return nil }
        var out: [(name: Ref, value: Value)] = []
        // Keep the order written.
        for pair in node.pairs ?? [] {
            guard entries[pair.name] != nil, let spec = specs.first(where: { $0.name == pair.name }) else { continue }
            if let v = value(pair.value, spec.type, "'\(spec.name)' of \(context)") {
                out.append((Ref(pair.name, at: pair.key.range), v))
            }
        }
        return Parameters(out)
    }

    mutating func value(_ node: YAMLNode, _ type: ParamType, _ what: String) -> Value? {
        let r = node.range
        switch type {
        case .string:
            return string(node, what).map { Value(.string($0), at: r) }
        case .int(let min):
            return int(node, what, min: min).map { Value(.int($0), at: r) }
        case .bool:
            return bool(node, what).map { Value(.bool($0), at: r) }
        case .duration:
            return duration(node, what).map { Value(.duration($0), at: r) }
        case .oneOf(let choices):
            guard let s = string(node, what) else { return nil }
            guard choices.contains(s) else {
                report(Codes.invalidValue, "\(what) must be \(type), not '\(s)'", at: r,
                       help: Suggest.didYouMean(s, in: choices))
                return nil
            }
            return Value(.string(s), at: r)
        case .template, .email, .dn:
            guard let s = string(node, what), let t = template(node, s) else { return nil }
            return Value(.template(t), at: r)
        case .filter:
            guard let s = string(node, what) else { return nil }
            if !Self.balancedFilter(s) {
                report(Codes.invalidValue, "\(what): '\(s)' is not an LDAP filter", at: r,
                       help: "a filter is parenthesised, e.g. (objectClass=qmailUser)")
                return nil
            }
            return Value(.string(s), at: r)
        case .ldapURL:
            guard let s = string(node, what) else { return nil }
            let scheme = ["ldap://", "ldaps://", "ldapi://"].first { s.hasPrefix($0) }
            guard let scheme, s.count > scheme.count else {
                report(Codes.invalidValue, "\(what): '\(s)' is not an ldap://, ldaps:// or ldapi:// URL", at: r)
                return nil
            }
            return Value(.string(s), at: r)
        case .host, .element, .redirect, .set, .notify, .redirectValue:
            return ref(node, what).map { Value(.ref($0), at: r) }
        case .secret:
            guard let s = string(node, what) else { return nil }
            guard let secret = SecretRef(parsing: s) else {
                let looksLikeRef = s.hasPrefix("env:") || s.hasPrefix("file:")
                report(Codes.literalSecret,
                       looksLikeRef ? "\(what): '\(s)' is not a valid secret reference" : "\(what) is written in the plan",
                       at: r, help: "write a reference instead: env:NAME or file:PATH")
                return nil
            }
            return Value(.secret(secret), at: r)
        case .storePath:
            guard let s = string(node, what) else { return nil }
            guard let colon = s.firstIndex(of: ":"), colon != s.startIndex else {
                report(Codes.wrongType, "\(what) must be STORE:PATH, not '\(s)'", at: r,
                       help: "name the store element, a colon, then the path under its root")
                return nil
            }
            let store = String(s[..<colon])
            let quote = (node.style == .singleQuoted || node.style == .doubleQuoted) ? 1 : 0
            let storeRange = r.subrange(columnOffset: quote, length: store.unicodeScalars.count)
            let pathText = String(s[s.index(after: colon)...])
            let pathOffset = store.unicodeScalars.count + 1
            guard let t = template(node, pathText, offset: pathOffset) else { return nil }
            return Value(.storePath(store: Ref(store, at: storeRange), path: t), at: r)
        case .absolutePath:
            guard let s = string(node, what) else { return nil }
            guard s.hasPrefix("/"), !s.split(separator: "/").contains("..") else {
                report(Codes.invalidValue, "\(what) must be an absolute path without '..', not '\(s)'", at: r)
                return nil
            }
            return Value(.string(s), at: r)
        case .localFile:
            return string(node, what).map { Value(.string($0), at: r) }
        case .owner:
            guard let s = string(node, what), let t = template(node, s) else { return nil }
            // Placeholders (a user's own name) are checked at run time; the
            // rest must have the user:group shape.
            let skeleton = t.parts.map { if case .literal(let l) = $0 { l } else { "x" } }.joined()
            let parts = skeleton.split(separator: ":", omittingEmptySubsequences: false)
            let valid = parts.count == 2 && parts.allSatisfy { p in
                !p.isEmpty && p.count <= 32 && !p.hasPrefix("-")
                    && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
            }
            guard valid else {
                report(Codes.invalidValue, "\(what) must be user:group, not '\(s)'", at: r)
                return nil
            }
            return Value(t.isLiteral ? .string(s) : .template(t), at: r)
        case .list(let element):
            guard let items = node.items else {
                report(Codes.wrongType, "\(what) must be a list, not \(node.kindDescription)", at: r)
                return nil
            }
            return Value(.list(items.compactMap { value($0, element, what) }), at: r)
        case .map(let element):
            guard let pairs = node.pairs else {
                report(Codes.wrongType, "\(what) must be a mapping, not \(node.kindDescription)", at: r)
                return nil
            }
            var out: [(key: Ref, value: Value)] = []
            for p in pairs {
                if let v = value(p.value, element, "'\(p.name)' in \(what)") {
                    out.append((Ref(p.name, at: p.key.range), v))
                }
            }
            return Value(.map(out), at: r)
        case .record(let specs):
            guard let params = parameters(node, specs: specs, context: what) else { return nil }
            return Value(.map(params.entries.map { (key: $0.name, value: $0.value) }), at: r)
        }
    }

    static func balancedFilter(_ s: String) -> Bool {
        guard s.hasPrefix("("), s.hasSuffix(")") else { return false }
        var depth = 0
        var escaped = false
        for c in s {
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1; if depth < 0 { return false } }
        }
        return depth == 0
    }
}
