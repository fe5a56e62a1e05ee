import RelevoBasics
import RelevoPlan

/// L004: a notify target nothing sends to.
public struct UnusedNotify: LintRule {
    static let ops = """
      ops: { via: smtp-new, to: staff@example.org }
    """

    public static let description = RuleDescription(
        id: "L004", name: "unused-notify",
        title: "a notify target is never used",
        rationale: """
        A notify target that no `on-failure` contingency and no `notify` step refers \
        to never receives anything: the people it names believe they will be told \
        when a set fails, and they will not. Either wire it to a contingency or \
        remove it.
        """,
        triggering: [
            ExamplePlan.make("unused-target", notify: ops),
        ],
        nonTriggering: [
            ExamplePlan.make("notified-on-failure", phases: ExamplePlan.usersPhase.replacing(
                "on-failure: { undo: true, then: halt }", with: "on-failure: { undo: true, notify: [ops], then: halt }"),
                notify: ops),
            ExamplePlan.make("notify-step", phases: ExamplePlan.usersPhase + """

              - name: done
                steps:
                  - notify: { to: ops, message: "every user is on the new host" }
            """, notify: ops),
        ])

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        let plan = context.plan
        var used: Set<String> = []
        for phase in plan.phases {
            used.formUnion(phase.onFailure?.notify.map(\.name) ?? [])
            for step in phase.steps + phase.gates where step.operation.name == "notify" {
                if let to = step.parameters["to"]?.string { used.insert(to) }
            }
        }
        return plan.notify.filter { !used.contains($0.name.name) }.map { target in
            finding("notify target '\(target.name)' (\(target.to)) is never used",
                    at: target.name.range,
                    help: "name it in an `on-failure: { notify: [\(target.name)] }` or a `notify` step, or remove it")
        }
    }
}
