import Foundation
import RelevoBasics
import RelevoCheck
import RelevoLint

/// One plan file, loaded, checked and (unless asked not to) linted.
struct PlanAnalysis {
    /// The path as given on the command line; diagnostics use it too.
    var path: String
    /// Why the file could not be read, if it could not.
    var readError: String?
    /// The checker's result; nil when the file could not be read.
    var result: CheckResult?
    /// Checker and lint diagnostics, sorted for output.
    var diagnostics: [Diagnostic]

    var source: SourceFile? { result?.source }
    var errors: Int { diagnostics.count(where: { $0.severity == .error }) }
    var warnings: Int { diagnostics.count(where: { $0.severity == .warning }) }
    var notes: Int { diagnostics.count(where: { $0.severity == .note }) }

    /// Whether this plan fails the check: errors, or warnings under `--strict`.
    func fails(strict: Bool) -> Bool { errors > 0 || (strict && warnings > 0) }

    /// Loads `path` (PlanLoader), checks it with the plan's folder as base
    /// (Checker) and adds lint findings (Linter) when `lint` is true.
    static func analyse(_ path: String, lint: Bool) -> PlanAnalysis {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return PlanAnalysis(path: path, readError: "no such file", result: nil, diagnostics: [])
        }
        if isDirectory.boolValue {
            return PlanAnalysis(path: path, readError: "it is a directory, not a plan file", result: nil, diagnostics: [])
        }
        let loaded: LoadedPlan
        do {
            loaded = try PlanLoader.load(path: path)
        } catch {
            let reason = (error as? PlanLoader.Unreadable)?.reason ?? String(describing: error)
            return PlanAnalysis(path: path, readError: reason, result: nil, diagnostics: [])
        }
        let folder = (path as NSString).deletingLastPathComponent
        let result = Checker.check(loaded, baseDirectory: folder.isEmpty ? "." : folder)
        var diagnostics = result.diagnostics
        if lint { diagnostics += Linter.lint(result) }
        return PlanAnalysis(path: path, readError: nil, result: result,
                            diagnostics: Self.unique(diagnostics).sortedForOutput())
    }

    /// Drops exact duplicates, in case the linter returns findings the
    /// checker result already holds.
    private static func unique(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return diagnostics.filter { seen.insert($0).inserted }
    }
}
