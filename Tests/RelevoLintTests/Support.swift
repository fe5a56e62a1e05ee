import RelevoBasics
import RelevoCheck
import RelevoLint

/// Loads, checks and lints a plan given as text.
struct Linted {
    let result: CheckResult
    let findings: [Diagnostic]
    let suppressed: [Suppression]

    init(_ text: String, file: String = "plan.yaml") {
        result = Checker.check(PlanLoader.load(text: text, file: file), baseDirectory: nil)
        (findings, suppressed) = Linter.lintWithSuppressions(result)
    }

    var errors: [Diagnostic] { result.diagnostics.filter { $0.severity == .error } }
    func ids() -> [String] { findings.map(\.id) }
    func findings(_ id: String) -> [Diagnostic] { findings.filter { $0.id == id } }
}

/// Every rule ID, as test arguments.
let allRuleIDs = LintRegistry.rules.map { $0.description.id }

func rule(_ id: String) -> any LintRule.Type { LintRegistry.rule(named: id)! }

func describe(_ ds: [Diagnostic]) -> String {
    ds.map { "\($0.range.map(String.init(describing:)) ?? "-"): \($0.id) \($0.summary)" }.joined(separator: "\n")
}

/// RelevoBasics.SourceLocation (Testing has a type of the same name).
typealias Position = RelevoBasics.SourceLocation
