import Foundation
import RelevoBasics
import RelevoPlan

/// L008: a copy that compares by size and time, with nothing that proves
/// the contents afterwards.
public struct ShallowCompareUnproven: LintRule {
    public static let description = RuleDescription(
        id: "L008", name: "shallow-compare-unproven",
        title: "a copy compares by size and time but no gate proves the contents",
        rationale: """
        `compare: size-mtime` lets a delta pass take a message already on both sides \
        as copied when size and modification time agree, without reading it twice \
        (what rsync does). That is sound only when something reads both sides \
        afterwards: a `maildir-superset` (or `tree-equal`) gate of the same phase on \
        the copy's destination compares every message by SHA-256. Without it, a \
        message that differs with equal size and time would go unnoticed.
        """,
        triggering: [ExamplePlan.make("shallow-no-gate", phases: users(gate: "redirect-is: { point: mailhost, is: new }"))],
        nonTriggering: [
            ExamplePlan.make("shallow-proven",
                             phases: users(gate: "maildir-superset: { new: \"store-new:${store}\", old: \"store-old:${store}\" }")),
            ExamplePlan.make("full-compare"),
        ])

    /// The usual per-user phase, its delta copy by size and time, with one gate.
    static func users(gate: String) -> String {
        ExamplePlan.usersPhase
            .replacingOccurrences(of: "until: stable }", with: "until: stable, compare: size-mtime }")
            .replacingOccurrences(of: "maildir-superset: { new: \"store-new:${store}\", old: \"store-old:${store}\" }", with: gate)
    }

    /// Gates that read both sides by SHA-256, and the parameters that may
    /// name the copy's destination.
    static let proofs: [String: [String]] = ["maildir-superset": ["new"], "tree-equal": ["a", "b"]]

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        context.plan.phases.flatMap { phase in
            phase.steps.compactMap { step -> Diagnostic? in
                guard step.operation.name == "copy", step.parameters["compare"]?.string == "size-mtime",
                      let destination = step.parameters["to"]?.storePath else { return nil }
                let proven = phase.gates.contains { gate in
                    guard let sides = Self.proofs[gate.operation.name] else { return false }
                    return sides.contains { side in
                        guard let p = gate.parameters[side]?.storePath else { return false }
                        return p.store.name == destination.store.name && p.path.description == destination.path.description
                    }
                }
                guard !proven else { return nil }
                let shown = "\(destination.store.name):\(destination.path)"
                return finding("copy to '\(shown)' in phase '\(phase.name)' compares by size and time, and no gate reads the contents",
                               at: step.operation.range,
                               help: "add `maildir-superset: { new: \"\(shown)\", old: ... }` to the gates of '\(phase.name)', "
                                   + "or drop `compare: size-mtime`")
            }
        }
    }
}
