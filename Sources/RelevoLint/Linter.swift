import RelevoBasics
import RelevoCheck
import RelevoPlan

/// A lint finding silenced by a `# relevo:allow` comment, kept so reports can
/// say what was allowed and why.
public struct Suppression: Hashable, Sendable {
    /// The rule's ID (`L001`), whichever way the comment named it.
    public var rule: String
    /// The rule's name (`no-canary`).
    public var name: String
    public var reason: String
    /// The comment's line.
    public var line: Int
    /// The line whose findings it silences (the comment's own line when trailing).
    public var targetLine: Int
    /// The comment, from its `#`.
    public var range: SourceRange
    /// The findings it silenced (at least one).
    public var silenced: [Diagnostic]
}

/// Runs the lint rules on a checked plan and applies suppression comments.
public enum Linter {
    /// Lint findings (and `bad-suppression` warnings) for a plan that checked
    /// without errors; nothing when it has errors or could not be read.
    public static func lint(_ result: CheckResult) -> [Diagnostic] {
        lintWithSuppressions(result).findings
    }

    /// As `lint`, also returning the suppressions that silenced something.
    public static func lintWithSuppressions(_ result: CheckResult) -> (findings: [Diagnostic], suppressed: [Suppression]) {
        lintWithSuppressions(source: result.source, plan: result.plan, graph: result.graph,
                             diagnostics: result.diagnostics)
    }

    /// The same from the parts of a check result (for callers that hold a
    /// `LoadedPlan`, or tests): `diagnostics` are the checker's, used only to
    /// refuse a plan with errors.
    public static func lintWithSuppressions(source: SourceFile, plan: Plan?, graph: PlanGraph?,
                                            diagnostics: [Diagnostic]) -> (findings: [Diagnostic], suppressed: [Suppression]) {
        guard let plan, !diagnostics.hasErrors else { return ([], []) }
        let context = LintContext(plan: plan, graph: graph, source: source)
        let raw = LintRegistry.rules.flatMap { $0.init().check(context) }
        return apply(SuppressionScanner.scan(source.text), to: raw, file: source.path)
    }

    /// Removes the findings that well-formed suppressions silence, and reports
    /// the malformed ones. A suppression without a reason silences nothing.
    static func apply(_ comments: [AllowComment], to raw: [Diagnostic], file: String)
        -> (findings: [Diagnostic], suppressed: [Suppression]) {
        var remaining = raw
        var warnings: [Diagnostic] = []
        var suppressed: [Suppression] = []
        for comment in comments {
            let range = SourceRange(file: file, line: comment.line, column: comment.column, length: comment.length)
            if comment.rules.isEmpty {
                warnings.append(Diagnostic(Codes.badSuppression, "this suppression names no rule", at: range,
                                           help: "write `# relevo:allow RULE reason`, e.g. `# relevo:allow L001 one user only`"))
                continue
            }
            var known: [any LintRule.Type] = []
            for written in comment.rules {
                guard let rule = LintRegistry.rule(named: written) else {
                    warnings.append(Diagnostic(Codes.badSuppression, "'\(written)' is not a lint rule", at: range,
                                               help: Suggest.didYouMean(written, in: LintRegistry.allNames)
                                                   ?? "lint rules are L001...; errors cannot be suppressed"))
                    continue
                }
                known.append(rule)
            }
            if comment.reason.isEmpty {
                warnings.append(Diagnostic(Codes.badSuppression, "this suppression gives no reason", at: range,
                                           help: "say why after the rule: `# relevo:allow \(comment.rules.joined(separator: ", ")) REASON`"))
                continue
            }
            guard let target = comment.targetLine else { continue }
            for rule in known {
                let id = rule.description.id
                let hit = { (d: Diagnostic) in d.id == id && d.range?.file == file && d.range?.start.line == target }
                let silenced = remaining.filter(hit)
                guard !silenced.isEmpty else { continue }
                remaining.removeAll(where: hit)
                suppressed.append(Suppression(rule: id, name: rule.description.name, reason: comment.reason,
                                              line: comment.line, targetLine: target, range: range, silenced: silenced))
            }
        }
        return ((remaining + warnings).sortedForOutput(), suppressed)
    }
}
