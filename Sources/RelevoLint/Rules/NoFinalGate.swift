import RelevoBasics
import RelevoPlan

/// L002: a per-set phase that changes live state but verifies nothing.
public struct NoFinalGate: LintRule {
    public static let description = RuleDescription(
        id: "L002", name: "no-final-gate",
        title: "a per-set phase changes live state but has no gate",
        rationale: """
        The methodology verifies each set at the end of its update before moving on to \
        the next one. A per-set phase whose steps change live state (redirect, copy, \
        chown, remove, ldap-modify...) but that has no `gates:` lets a broken set pass \
        unnoticed, and the next sets repeat the damage.
        """,
        triggering: [
            ExamplePlan.make("no-gate", phases: """
              - name: users
                for-each: users
                canary: 2
                steps:
                  - redirect: { point: mailhost, to: new }
                  - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
                on-failure: { undo: true, then: halt }
            """),
        ],
        nonTriggering: [
            ExamplePlan.make("gated"),
            ExamplePlan.make("nothing-changes", phases: """
              - name: probe
                for-each: users
                canary: 2
                steps:
                  - smtp-send: { via: smtp-new, to: "${uid}@example.org" }
            """),
        ])

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        context.plan.phases.compactMap { phase in
            guard phase.isPerSet, phase.gates.isEmpty,
                  let last = phase.steps.last(where: { $0.spec?.changesLiveState == true }) else { return nil }
            return finding("per-set phase '\(phase.name)' changes live state but has no gate to verify each set",
                           at: phase.name.range,
                           help: "add `gates:` to phase '\(phase.name)' that check each set after '\(last.operation)' "
                               + "(e.g. maildir-superset, redirect-is, imap-login)",
                           notes: [DiagnosticNote(range: last.operation.range,
                                                  message: "the last step that changes live state")])
        }
    }
}
