import RelevoBasics
import RelevoPlan

/// L007: a gate that compares a thing with itself.
public struct GateCannotFail: LintRule {
    static func gated(_ gate: String) -> String {
        ExamplePlan.usersPhase.replacing(
            #"- maildir-superset: { new: "store-new:${store}", old: "store-old:${store}" }"#, with: gate)
    }

    public static let description = RuleDescription(
        id: "L007", name: "gate-cannot-fail",
        title: "a gate compares a thing with itself",
        rationale: """
        A gate is the check that lets a set go on; one that compares a tree with \
        itself (`maildir-superset` with `new` equal to `old`, `tree-equal` with `a` \
        equal to `b`) always passes, so the set it guards is never verified. It is \
        almost always a copy-and-paste slip: the store name was not changed.
        """,
        triggering: [
            ExamplePlan.make("superset-of-itself", phases: gated(
                #"- maildir-superset: { new: "store-new:${store}", old: "store-new:${store}" }"#)),
            ExamplePlan.make("equal-to-itself", phases: gated(
                #"- tree-equal: { a: "store-old:${store}", b: "store-old:${store}" }"#)),
        ],
        nonTriggering: [
            ExamplePlan.make("superset-of-old"),
            ExamplePlan.make("equal-trees", phases: gated(
                #"- tree-equal: { a: "store-new:${store}", b: "store-old:${store}" }"#)),
        ])

    /// The pairs of parameters each gate compares.
    static let compared: [String: (String, String)] = [
        "maildir-superset": ("new", "old"),
        "tree-equal": ("a", "b"),
    ]

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        context.plan.phases.flatMap { phase in
            phase.gates.compactMap { gate -> Diagnostic? in
                guard let (x, y) = Self.compared[gate.operation.name],
                      let a = gate.parameters[x]?.storePath, let b = gate.parameters[y]?.storePath,
                      a.store.name == b.store.name, a.path.description == b.path.description else { return nil }
                let same = "\(a.store.name):\(a.path)"
                return finding("gate '\(gate.operation)' of phase '\(phase.name)' compares '\(same)' with itself",
                               at: gate.range,
                               help: "compare '\(same)' with the other side of the copy (`\(x)` and `\(y)` must differ)")
            }
        }
    }
}
