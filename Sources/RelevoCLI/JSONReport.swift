import RelevoBasics
import RelevoReport

/// `relevo check --format json`: a stable, versioned document (schema in
/// docs/cli.md). Every key is always present; absent values are `null`.
enum JSONReport {
    /// Bumped only when a key changes meaning or disappears; adding keys
    /// does not change it.
    static let schemaVersion = 1

    static func render(_ plans: [PlanAnalysis]) -> String {
        JSON.object([
            ("version", .int(schemaVersion)),
            ("files", .array(plans.map(file))),
        ]).serialized()
    }

    static func file(_ p: PlanAnalysis) -> JSON {
        .object([
            ("path", .string(p.path)),
            ("readError", .optional(p.readError)),
            ("errors", .int(p.errors)),
            ("warnings", .int(p.warnings)),
            ("diagnostics", .array(p.diagnostics.map(diagnostic))),
        ])
    }

    static func diagnostic(_ d: Diagnostic) -> JSON {
        .object([
            ("id", .string(d.id)),
            ("name", .string(d.name)),
            ("severity", .string(d.severity.rawValue)),
            ("summary", .string(d.summary)),
            ("detail", .optional(d.detail)),
        ] + location(d.range) + [
            ("help", .optional(d.help)),
            ("fixIt", d.fixIt.map { fix in
                .object([("replacement", .string(fix.replacement))] + location(fix.range))
            } ?? .null),
            ("notes", .array(d.notes.map { note in
                .object([("message", .string(note.message))] + location(note.range))
            })),
        ])
    }

    /// `file`, `line`, `column`, `endLine`, `endColumn`: 1-based, columns in
    /// Unicode scalars, the end exclusive; all null without a range.
    static func location(_ r: SourceRange?) -> [(String, JSON)] {
        guard let r else {
            return ["file", "line", "column", "endLine", "endColumn"].map { ($0, JSON.null) }
        }
        return [
            ("file", .string(r.file)),
            ("line", .int(r.start.line)),
            ("column", .int(r.start.column)),
            ("endLine", .int(r.end.line)),
            ("endColumn", .int(r.end.column)),
        ]
    }
}
