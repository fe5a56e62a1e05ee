import Foundation
import RelevoBasics
@testable import RelevoCheck

/// The repository's root, from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The bundled plan's text.
func exalumnoText() throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent("plans/exalumno.yaml"), encoding: .utf8)
}

/// Checks plan text as if it were plans/exalumno.yaml (so fixtures resolve).
func check(_ text: String, file: String = "plans/exalumno.yaml", environment: [String: String] = [:]) -> CheckResult {
    let loaded = PlanLoader.load(text: text, file: file, environment: environment)
    return Checker.check(loaded, baseDirectory: repositoryRoot.appendingPathComponent("plans").path)
}

/// Replaces exactly one occurrence of `old` in `text` (fails loudly otherwise)
/// and returns the new text with the 1-based line of the change.
func mutate(_ text: String, _ old: String, _ new: String) -> (text: String, line: Int) {
    let parts = text.components(separatedBy: old)
    precondition(parts.count == 2, "'\(old)' occurs \(parts.count - 1) times in the plan")
    let line = parts[0].filter { $0 == "\n" }.count + 1
    return (parts[0] + new + parts[1], line)
}

func describe(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.map { "\($0.range?.description ?? "-"): \($0.id) \($0.summary)" }.joined(separator: "\n")
}
