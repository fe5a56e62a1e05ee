import RelevoBasics
import RelevoPlan
import RelevoYAML

/// The generated half of docs/plan-language.md: element kinds, steps and
/// gates with their typed parameters, the YAML limits and every diagnostic
/// code, all read from the tables the loader and the checker run on, so the
/// reference cannot drift from the implementation.
///
/// The document holds the output between `beginMarker` and `endMarker`;
/// LanguageReferenceTests fails when it is out of date, and rewrites it with
/// `RELEVO_UPDATE_DOCS=1 swift test --filter LanguageReferenceTests`.
public enum LanguageReference {
    /// The line that opens the generated block in docs/plan-language.md.
    public static let beginMarker = "<!-- BEGIN GENERATED REFERENCE (LanguageReference.markdown) -->"
    /// The line that closes it.
    public static let endMarker = "<!-- END GENERATED REFERENCE -->"
    /// How to regenerate the block.
    public static let regenerate = "RELEVO_UPDATE_DOCS=1 swift test --filter LanguageReferenceTests"

    /// The reference, in Markdown. Deterministic: catalogue order throughout,
    /// capabilities sorted by name.
    public static func markdown() -> String {
        var out = """
        ## Reference

        This part is generated from the catalogue the loader and the checker use
        (`Sources/RelevoPlan/Catalogue.swift`, `Operations.swift`,
        `Sources/RelevoYAML/YAMLLimits.swift`, `Sources/RelevoCheck/Codes.swift`);
        do not edit it by hand. Regenerate it with:
        `\(regenerate)`.

        In the parameter tables, a dotted name (`bind.dn`) is a key of a nested
        mapping, and `KEY` stands for a key you choose (`split.KEY.pattern`: the
        `pattern` of each attribute listed under `split`). A nested key marked
        required must be given when its parent is.


        """
        out += elementKinds()
        out += operations("Steps", Operations.steps, gates: false)
        out += operations("Gates", Operations.gates, gates: true)
        out += limits()
        out += diagnosticCodes()
        return out
    }

    // MARK: Sections

    private static func elementKinds() -> String {
        var s = "### Element kinds\n\n"
        s += "| Kind | What it is | Capabilities | Runs on a host (`on:`) |\n"
        s += "|------|------------|--------------|------------------------|\n"
        for kind in ElementKind.allCases {
            s += row([code(kind.rawValue), kind.summary, capabilities(kind), hostColumn(kind)])
        }
        s += "\n"
        for kind in ElementKind.allCases {
            s += "#### `\(kind.rawValue)`\n\n"
            s += sentence(kind.summary) + "\n\n"
            s += "Capabilities: \(capabilities(kind)).\n\n"
            s += parameterTable(kind.parameters, empty: "No parameters besides `kind`.")
        }
        return s
    }

    private static func operations(_ title: String, _ ops: [Operation], gates: Bool) -> String {
        var s = "### \(title)\n\n"
        if gates {
            s += "| Gate | Scope | What it checks |\n"
            s += "|------|-------|----------------|\n"
            for op in ops { s += row([code(op.name), scope(op.scope), op.summary]) }
        } else {
            s += "| Step | Scope | Changes live state | Inverse | Shorthand | What it does |\n"
            s += "|------|-------|--------------------|---------|-----------|--------------|\n"
            for op in ops {
                s += row([code(op.name), scope(op.scope), op.changesLiveState ? "yes" : "no",
                          inverse(op), op.shorthand.map(code) ?? "–", op.summary])
            }
        }
        s += "\n"
        for op in ops {
            s += "#### `\(op.name)`\n\n"
            s += op.summary + "\n\n"
            s += "- Kind: \(op.isGate ? "gate (under `gates:`)" : "step (under `steps:`)")\n"
            s += "- Scope: \(scope(op.scope))\n"
            s += "- Changes live state: \(op.changesLiveState ? "yes" : "no")\n"
            s += "- Inverse: \(inverse(op))\n"
            if let short = op.shorthand {
                s += "- Shorthand: `- \(op.name): VALUE` sets `\(short)`\n"
            }
            s += "\n"
            s += parameterTable(op.parameters, empty: "No parameters.")
        }
        return s
    }

    private static func limits() -> String {
        let l = YAMLLimits.default
        var s = "### YAML limits\n\n"
        s += "Every plan is held to these bounds before it is read (`YAMLLimits.default`).\n\n"
        s += "| Limit | Value | Diagnostic |\n"
        s += "|-------|-------|------------|\n"
        s += row(["Largest document", bytes(l.maxDocumentBytes), YAMLCodes.sizeLimit.id])
        s += row(["Deepest nesting of mappings and lists", "\(l.maxDepth) levels", YAMLCodes.depthLimit.id])
        s += row(["Most alias uses (`*name`) in one document", "\(l.maxAliases)", YAMLCodes.aliasLimit.id])
        s += row(["Most nodes once every alias is expanded", "\(l.maxExpandedNodes)", YAMLCodes.aliasLimit.id])
        s += row(["Longest scalar", bytes(l.maxScalarBytes), YAMLCodes.sizeLimit.id])
        return s + "\n"
    }

    private static func diagnosticCodes() -> String {
        var s = "### Diagnostic codes\n\n"
        s += "Every diagnostic the YAML reader, the loader and the checker report (`Codes.all`). "
        s += "Lint rules (`L…`) are listed in [rules.md](rules.md). "
        s += "`relevo explain ID` prints a code's explanation with an example and its correction.\n\n"
        s += "| ID | Name | Severity | Title |\n"
        s += "|----|------|----------|-------|\n"
        for c in Codes.all {
            s += row([c.id, code(c.name), c.severity.rawValue, c.title])
        }
        return s
    }

    // MARK: Parameters

    private static func parameterTable(_ specs: [ParamSpec], empty: String) -> String {
        guard !specs.isEmpty else { return empty + "\n\n" }
        var s = "| Parameter | Type | Required | Meaning |\n"
        s += "|-----------|------|----------|---------|\n"
        for (name, spec) in flatten(specs, prefix: "") {
            s += row([code(name), spec.type.description, spec.required ? "yes" : "no", spec.help])
        }
        return s + "\n"
    }

    /// Each parameter, followed by the parameters of any record it holds
    /// (directly, or as the values of a mapping or the items of a list).
    private static func flatten(_ specs: [ParamSpec], prefix: String) -> [(String, ParamSpec)] {
        specs.flatMap { spec -> [(String, ParamSpec)] in
            let name = prefix + spec.name
            var out = [(name, spec)]
            if let (inner, path) = record(in: spec.type, path: name) {
                out += flatten(inner, prefix: path + ".")
            }
            return out
        }
    }

    private static func record(in type: ParamType, path: String) -> ([ParamSpec], String)? {
        switch type {
        case .record(let specs): (specs, path)
        case .map(let inner): record(in: inner, path: path + ".KEY")
        case .list(let inner): record(in: inner, path: path + "[]")
        default: nil
        }
    }

    // MARK: Cells

    private static func capabilities(_ kind: ElementKind) -> String {
        let names = kind.capabilities.map(\.rawValue).sorted()
        return names.isEmpty ? "none" : names.map(code).joined(separator: ", ")
    }

    private static func hostColumn(_ kind: ElementKind) -> String {
        guard let on = kind.parameters.first(where: { $0.name == "on" }) else { return "no" }
        return on.required ? "required" : "optional"
    }

    private static func scope(_ s: OperationScope) -> String {
        switch s {
        case .global: "global phases only"
        case .perSet: "per-set phases only"
        case .either: "any phase"
        }
    }

    private static func inverse(_ op: Operation) -> String {
        if let inverse = op.inverse { return inverse }
        return op.changesLiveState ? "none (the phase needs `on-failure:`)" : "not needed"
    }

    private static func bytes(_ n: Int) -> String {
        if n % (1 << 20) == 0 { return "\(n) bytes (\(n >> 20) MiB)" }
        if n % (1 << 10) == 0 { return "\(n) bytes (\(n >> 10) KiB)" }
        return "\(n) bytes"
    }

    private static func code(_ s: String) -> String { "`\(s)`" }

    private static func sentence(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst() + (s.hasSuffix(".") ? "" : ".")
    }

    /// One table row; pipes inside cells are escaped, newlines flattened.
    private static func row(_ cells: [String]) -> String {
        "| " + cells.map(escape).joined(separator: " | ") + " |\n"
    }

    static func escape(_ cell: String) -> String {
        var out = ""
        for ch in cell {
            switch ch {
            case "|": out += "\\|"
            case "\n": out += " "
            default: out.append(ch)
            }
        }
        return out
    }
}
