import RelevoBasics
import RelevoCheck
import RelevoPlan

/// What a lint rule is, for `relevo explain`, docs/rules.md and its own tests:
/// the examples are complete plans, checked by LintRuleExamplesTests.
public struct RuleDescription: Sendable {
    /// Stable ID: `L001`...
    public let id: String
    /// Stable name: `no-canary`...
    public let name: String
    public let severity: Severity
    /// One line.
    public let title: String
    /// Why the rule exists, in a paragraph.
    public let rationale: String
    /// Plans on which the rule must report at least one finding.
    public let triggering: [String]
    /// Plans on which the rule must report nothing.
    public let nonTriggering: [String]

    public init(id: String, name: String, severity: Severity = .warning, title: String, rationale: String,
                triggering: [String], nonTriggering: [String]) {
        self.id = id
        self.name = name
        self.severity = severity
        self.title = title
        self.rationale = rationale
        self.triggering = triggering
        self.nonTriggering = nonTriggering
    }

    /// The same description as a diagnostic catalogue entry.
    public var code: DiagnosticCode {
        DiagnosticCode(id: id, name: name, severity: severity, title: title, explanation: rationale,
                       example: triggering.first ?? "", correction: nonTriggering.first ?? "")
    }
}

/// What a rule sees: a plan that loaded and checked without errors.
public struct LintContext: Sendable {
    public let plan: Plan
    public let graph: PlanGraph?
    public let source: SourceFile

    public init(plan: Plan, graph: PlanGraph?, source: SourceFile) {
        self.plan = plan
        self.graph = graph
        self.source = source
    }
}

/// One risk or style rule. Each rule lives in its own file under Rules/.
public protocol LintRule: Sendable {
    static var description: RuleDescription { get }
    init()
    func check(_ context: LintContext) -> [Diagnostic]
}

extension LintRule {
    /// A finding of this rule.
    public func finding(_ summary: String, at range: SourceRange?, help: String? = nil,
                        notes: [DiagnosticNote] = []) -> Diagnostic {
        Diagnostic(Self.description.code, summary, at: range, help: help, notes: notes)
    }
}
