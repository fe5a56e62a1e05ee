import RelevoBasics
import RelevoPlan

/// L006: a per-set phase asks for more parallel sets than a host allows.
public struct ConcurrencyAboveHostLimit: LintRule {
    static let limitedHosts = """
      old: { address: old.example }
      new: { address: new.example, concurrency: 2 }
    """
    static func phase(concurrency: Int) -> String {
        ExamplePlan.usersPhase.replacing("canary: 2\n", with: "canary: 2\n    concurrency: \(concurrency)\n")
    }

    public static let description = RuleDescription(
        id: "L006", name: "concurrency-above-host-limit",
        title: "a phase's concurrency exceeds a host's limit",
        rationale: """
        A host's `concurrency:` is the most sets in flight on it at once, across all \
        phases: its disks and its mail server have a budget. A per-set phase whose \
        `concurrency:` is higher and whose copy steps touch a store on that host will \
        be throttled to the host's limit at run time, so its own setting only \
        misleads the estimate of how long the migration takes.
        """,
        triggering: [
            ExamplePlan.make("too-parallel", hosts: limitedHosts, phases: phase(concurrency: 4)),
        ],
        nonTriggering: [
            ExamplePlan.make("within-limit", hosts: limitedHosts, phases: phase(concurrency: 2)),
            ExamplePlan.make("unlimited-host", phases: phase(concurrency: 8)),
        ])

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        let plan = context.plan
        var out: [Diagnostic] = []
        for phase in plan.phases where phase.isPerSet {
            guard let wanted = phase.concurrency else { continue }
            var reported: Set<String> = []
            for step in phase.steps where step.operation.name == "copy" {
                for key in ["from", "to"] {
                    guard let store = step.parameters[key]?.storePath?.store,
                          let hostName = plan.element(store.name)?.host?.name,
                          let host = plan.host(hostName), let limit = host.concurrency,
                          wanted > limit, reported.insert(hostName).inserted else { continue }
                    out.append(finding(
                        "phase '\(phase.name)' runs \(wanted) sets at once, but host '\(hostName)' allows \(limit)",
                        at: phase.name.range,
                        help: "lower `concurrency:` of phase '\(phase.name)' to \(limit), or raise the limit of host '\(hostName)'",
                        notes: [DiagnosticNote(range: store.range,
                                               message: "store '\(store.name)' runs on host '\(hostName)'")]))
                }
            }
        }
        return out
    }
}
