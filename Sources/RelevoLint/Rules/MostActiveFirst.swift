import RelevoBasics
import RelevoPlan

/// L005: a set ordered so that the most active members migrate first.
public struct MostActiveFirst: LintRule {
    public static let description = RuleDescription(
        id: "L005", name: "most-active-first",
        title: "a set is ordered most active first",
        rationale: """
        The methodology migrates elements in order of activity, least active first: \
        early sets expose the plan's mistakes while little is at stake, and the busiest \
        users move once the procedure has proved itself. `order: { by: activity, \
        ascending: false }` does the opposite.
        """,
        triggering: [
            ExamplePlan.make("busiest-first", sets: ExamplePlan.sets + """

                order: { by: activity, ascending: false }
            """),
        ],
        nonTriggering: [
            ExamplePlan.make("quietest-first", sets: ExamplePlan.sets + """

                order: { by: activity, ascending: true }
            """),
            ExamplePlan.make("by-field", sets: ExamplePlan.sets + """

                order: { by: uid, ascending: false }
            """),
        ])

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        context.plan.sets.compactMap { set in
            guard let order = set.order, order.by.name == "activity", !order.ascending else { return nil }
            return finding("set '\(set.name)' is ordered most active first",
                           at: order.range,
                           help: "write `ascending: true` (or leave it out) so the least active members of '\(set.name)' go first")
        }
    }
}
