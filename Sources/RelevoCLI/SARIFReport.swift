import Foundation
import RelevoBasics
import RelevoReport

/// `relevo check --format sarif`: SARIF 2.1.0 for code-scanning tools.
/// The mapping is documented in docs/cli.md (OUTPUT FORMATS).
enum SARIFReport {
    static let schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

    static func render(_ plans: [PlanAnalysis]) -> String {
        let diagnostics = plans.flatMap(\.diagnostics)
        // The rules reported, in order of first appearance sorted by ID.
        var ruleIDs: [String] = []
        for d in diagnostics where !ruleIDs.contains(d.id) { ruleIDs.append(d.id) }
        ruleIDs.sort()
        let rules = ruleIDs.map { id in
            Catalogue.find(id) ?? fallbackCode(diagnostics.first { $0.id == id }!)
        }
        let unreadable = plans.filter { $0.readError != nil }
        let run: JSON = .object([
            ("tool", .object([("driver", .object([
                ("name", .string("relevo")),
                ("version", .string(RelevoVersion.version)),
                ("semanticVersion", .string(RelevoVersion.version)),
                ("informationUri", .string(RelevoVersion.informationURI)),
                ("rules", .array(rules.map(rule))),
            ]))])),
            ("invocations", .array([.object([
                ("executionSuccessful", .bool(unreadable.isEmpty)),
                ("toolExecutionNotifications", .array(unreadable.map { p in
                    .object([
                        ("level", .string("error")),
                        ("message", .object([("text", .string("cannot read \(p.path): \(p.readError ?? "")"))])),
                        ("locations", .array([.object([("physicalLocation", .object([
                            ("artifactLocation", .object([("uri", .string(uri(p.path)))])),
                        ]))])])),
                    ])
                })),
            ])])),
            ("columnKind", .string("unicodeCodePoints")),
            ("results", .array(diagnostics.map { d in result(d, ruleIndex: ruleIDs.firstIndex(of: d.id) ?? 0) })),
        ])
        return JSON.object([
            ("$schema", .string(schema)),
            ("version", .string("2.1.0")),
            ("runs", .array([run])),
        ]).serialized()
    }

    /// `error`, `warning` or `note`: SARIF's levels have the same names.
    static func level(_ s: Severity) -> String { s.rawValue }

    static func rule(_ c: DiagnosticCode) -> JSON {
        .object([
            ("id", .string(c.id)),
            ("name", .string(c.name)),
            ("shortDescription", .object([("text", .string(c.title))])),
            ("fullDescription", .object([("text", .string(c.explanation))])),
            ("help", .object([("text", .string("Run `relevo explain \(c.id)` for an example and its correction."))])),
            ("defaultConfiguration", .object([("level", .string(level(c.severity)))])),
        ])
    }

    static func result(_ d: Diagnostic, ruleIndex: Int) -> JSON {
        var text = d.summary
        if let detail = d.detail { text += "\n" + detail }
        if let help = d.help { text += "\nhelp: " + help }
        var pairs: [(String, JSON)] = [
            ("ruleId", .string(d.id)),
            ("ruleIndex", .int(ruleIndex)),
            ("level", .string(level(d.severity))),
            ("message", .object([("text", .string(text))])),
            ("locations", .array(d.range.map { [location($0)] } ?? [])),
        ]
        let related = d.notes.compactMap { n in
            n.range.map { r -> JSON in
                guard case .object(let loc) = location(r) else { return .null }
                return .object(loc + [("message", .object([("text", .string(n.message))]))])
            }
        }
        if !related.isEmpty { pairs.append(("relatedLocations", .array(related))) }
        if let fix = d.fixIt {
            pairs.append(("fixes", .array([.object([
                ("description", .object([("text", .string("replace with '\(fix.replacement)'"))])),
                ("artifactChanges", .array([.object([
                    ("artifactLocation", .object([("uri", .string(uri(fix.range.file)))])),
                    ("replacements", .array([.object([
                        ("deletedRegion", region(fix.range)),
                        ("insertedContent", .object([("text", .string(fix.replacement))])),
                    ])])),
                ])])),
            ])])))
        }
        return .object(pairs)
    }

    static func location(_ r: SourceRange) -> JSON {
        .object([("physicalLocation", .object([
            ("artifactLocation", .object([("uri", .string(uri(r.file)))])),
            ("region", region(r)),
        ]))])
    }

    /// 1-based lines and columns (in Unicode code points, see `columnKind`);
    /// SARIF's end column is exclusive, as Relevo's is.
    static func region(_ r: SourceRange) -> JSON {
        .object([
            ("startLine", .int(max(1, r.start.line))),
            ("startColumn", .int(max(1, r.start.column))),
            ("endLine", .int(max(1, r.end.line))),
            ("endColumn", .int(max(1, r.end.column))),
        ])
    }

    /// A relative path becomes a relative URI reference (percent-encoded);
    /// an absolute one a `file://` URI.
    static func uri(_ path: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~/")
        let encoded = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return path.hasPrefix("/") ? "file://" + encoded : encoded
    }

    /// A rule entry for a diagnostic whose code is in no catalogue.
    private static func fallbackCode(_ d: Diagnostic) -> DiagnosticCode {
        DiagnosticCode(id: d.id, name: d.name, severity: d.severity, title: d.summary, explanation: d.summary)
    }
}
