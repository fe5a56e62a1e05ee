import Foundation
import RelevoPlan

/// Where a per-set phase's sets run when this process does not run them
/// itself (docs/scale.md). `EngineOptions.sets` nil, the default: the engine
/// runs every set here, as it always has. With a dispatch, the engine still
/// runs the global phases and fixes each per-set phase's member list (it
/// holds the run lock), then waits for other processes (workers of a work
/// queue) to run the sets, and counts what they did.
public protocol SetDispatch: Sendable {
    /// Returns once every set named has finished elsewhere (migrated,
    /// failed, undone or skipped), with each one's final state; or, once
    /// `mustStop` says the phase must stop (its error budget is spent) and
    /// the sets in flight have finished, with the states so far.
    func waitForSets(phase: Phase, sets: [String], mustStop: @escaping @Sendable () async throws -> Bool) async throws
        -> [String: SetState]
}

/// What a worker needs from the engine: one claimed set run, the hosts a
/// phase uses, and whether a phase's failures stop it.
extension Engine {
    /// The concurrency limit of every host whose stores `phase` copies to or
    /// from (hosts without a limit are listed with `Int.max`).
    public nonisolated static func hostLimits(plan: Plan, phase: Phase) -> [String: Int] {
        var limits: [String: Int] = [:]
        for step in phase.steps {
            for (_, value) in step.parameters.entries {
                guard let store = value.storePath?.store.name, let host = plan.element(store)?.host?.name else { continue }
                limits[host] = min(limits[host] ?? Int.max, plan.host(host)?.concurrency ?? Int.max)
            }
        }
        return limits
    }

    /// Runs the pipeline of one set of a per-set phase whose member list the
    /// run's controller wrote: completed steps are not repeated, a step with
    /// an intent and no result is read back (a set taken over from a worker
    /// that vanished is resumed, as `--resume` does). In `lane` (its own
    /// thread and the environment's connections of that lane). Returns the
    /// set's state; a journal error (a lost lease, a lost connection) throws.
    public nonisolated func runClaimedSet(phase name: String, set key: String, lane: Int) async throws -> SetState {
        let executor = LaneExecutor(lane: lane)
        return try await withTaskExecutorPreference(executor) {
            try await EngineLane.$current.withValue(lane) {
                try await self.runOne(phase: name, set: key)
            }
        }
    }

    private func runOne(phase name: String, set key: String) async throws -> SetState {
        guard let phase = plan.phase(name), phase.isPerSet else {
            throw JournalError.storage("no per-set phase '\(name)' in plan \(plan.name)")
        }
        guard let detail = try journal.setStates(phase: name).first(where: { $0.set == key })?.detail,
              let member = try? JSONDecoder().decode(SetMember.self, from: Data(detail.utf8)) else {
            throw JournalError.storage("set '\(key)' is not a member of phase '\(name)' in the journal")
        }
        let result = try await runPipeline(phase, member: member, start: elapsed())
        return result.conflict ? .failed : result.state.setState
    }

    /// Why `phase` must stop now: its failed and undone sets, counted in the
    /// journal, over its contingency's budget. Nil while it may go on.
    public func budgetExceeded(phase name: String) throws -> String? {
        guard let phase = plan.phase(name) else { return nil }
        let states = try journal.setStates(phase: name).filter { $0.set != nil }
        let failures = states.filter { $0.state == .failed || $0.state == .undone }.count
        guard failures > 0 else { return nil }
        return haltReason(phase, failures: failures, total: states.count, last: "see the journal", set: "a set")
    }
}
