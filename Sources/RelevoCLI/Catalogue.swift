import RelevoBasics
import RelevoCheck
import RelevoLint

/// Every diagnostic Relevo can report: the loader's and checker's codes
/// (including YAML ones) followed by the lint rules.
enum Catalogue {
    static var all: [DiagnosticCode] {
        Codes.all + LintRegistry.rules.map { $0.description.code }
    }

    /// The code with this ID (`E020`, any case) or name (`unknown-reference`).
    static func find(_ key: String) -> DiagnosticCode? {
        let codes = all
        return codes.first { $0.id.caseInsensitiveCompare(key) == .orderedSame }
            ?? codes.first { $0.name == key.lowercased() }
    }

    /// Whether `id` is a lint rule (lint rules have examples that are whole plans).
    static func isLintRule(_ id: String) -> Bool {
        LintRegistry.rules.contains { $0.description.id == id }
    }
}
