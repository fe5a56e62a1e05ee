import RelevoBasics
import RelevoPlan

/// L001: a per-set phase without a canary runs its first sets at full speed.
public struct NoCanary: LintRule {
    public static let description = RuleDescription(
        id: "L001", name: "no-canary",
        title: "a per-set phase has no canary",
        rationale: """
        A canary runs the first few sets of a per-set phase one at a time, so that a \
        mistake in the plan shows on one user instead of on everyone in flight. A \
        per-set phase without `canary:` (or with `canary: 0`) starts at full \
        concurrency from its first set.
        """,
        triggering: [
            ExamplePlan.make("no-canary", phases: """
              - name: users
                for-each: users
                where: host == old
                steps:
                  - redirect: { point: mailhost, to: new }
                  - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
                gates:
                  - maildir-superset: { new: "store-new:${store}", old: "store-old:${store}" }
                on-failure: { undo: true, then: halt }
            """),
            ExamplePlan.make("zero-canary", phases: """
              - name: users
                for-each: users
                canary: 0
                steps:
                  - redirect: { point: mailhost, to: new }
                  - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
                gates:
                  - maildir-superset: { new: "store-new:${store}", old: "store-old:${store}" }
            """),
        ],
        nonTriggering: [
            ExamplePlan.make("with-canary"),
        ])

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        context.plan.phases.compactMap { phase in
            guard let set = phase.forEach, (phase.canary ?? 0) == 0 else { return nil }
            let how = phase.canary == nil ? "has no canary" : "has `canary: 0`"
            return finding("per-set phase '\(phase.name)' (for each of '\(set)') \(how)",
                           at: phase.name.range,
                           help: "add `canary: N` to phase '\(phase.name)' so its first N sets run one at a time")
        }
    }
}
