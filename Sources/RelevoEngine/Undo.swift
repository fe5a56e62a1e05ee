import Foundation
import RelevoPlan

/// What `Engine.undo` did.
public struct UndoReport: Sendable {
    public struct Item: Sendable {
        /// `phase/set`, or the phase for a global one.
        public var scope: String
        public var message: String
    }
    /// Scopes whose completed steps were all undone.
    public var undone: [Item] = []
    /// Scopes left as they are because the real state differs from the
    /// journal (changed outside relevo): nothing of them was touched.
    public var conflicts: [Item] = []
    /// Scopes whose undo failed part way (the journal has what was undone).
    public var failed: [Item] = []
    /// Requested set keys the journal has no completed steps for.
    public var notFound: [String] = []
}

extension Engine {
    /// Undoes, through their journaled inverses, the steps a run completed:
    /// for the sets named in `sets` (every per-set phase), or with `sets`
    /// nil for every set and then every global phase, latest phase first.
    ///
    /// Before anything of a scope is undone, each of its switches
    /// (`redirect`, `ldap-modify`) is read back: if the real state is not
    /// what the journal recorded, someone changed it by hand, and that
    /// scope is reported as a conflict and left untouched. Undo records are
    /// journaled like steps (intent, then result), so an interrupted undo
    /// continues where it stopped when run again.
    public func undo(sets keys: [String]?) async throws -> UndoReport {
        var report = UndoReport()
        var found = Set<String>()
        for name in order.reversed() {
            guard let phase = plan.phase(name) else { continue }
            let states = try journal.setStates(phase: name)
            if phase.forEach == nil {
                guard keys == nil, let row = states.first(where: { $0.set == nil }),
                      [.migrated, .failed, .running].contains(row.state) else { continue }
                try await undoScope(phase, member: nil, report: &report)
                continue
            }
            for row in states {
                guard let key = row.set, keys?.contains(key) ?? true else { continue }
                guard [.migrated, .failed, .running].contains(row.state) else {
                    if row.state == .undone { found.insert(key) }
                    continue
                }
                found.insert(key)
                guard let detail = row.detail,
                      let member = try? JSONDecoder().decode(SetMember.self, from: Data(detail.utf8)) else {
                    report.failed.append(.init(scope: "\(name)/\(key)", message: "the journal does not hold this set's fields"))
                    continue
                }
                try await undoScope(phase, member: member, report: &report)
            }
        }
        report.notFound = (keys ?? []).filter { !found.contains($0) }
        return report
    }

    private func undoScope(_ phase: Phase, member: SetMember?, report: inout UndoReport) async throws {
        let name = phase.name.name
        let scope = member.map { "\(name)/\($0.key)" } ?? name
        let records = try journal.records(phase: name, set: member?.key)
        let undoRecords = records.filter(\.key.undo)
        let pipeline = phase.steps + phase.gates
        var done: [(BoundStep, StepOutcome)] = []
        for record in records where !record.key.undo {
            // A step with an intent and no result may have had its effect:
            // undo it from what it recorded so far (copies remove only files
            // they placed, by name and SHA-256).
            guard record.key.index < pipeline.count else { continue }
            let bound = try Binder.bind(pipeline[record.key.index], index: record.key.index, phase: phase,
                                        member: member, plan: plan)
            guard !bound.isGate, bound.operation.changesLiveState, bound.operation.inverse != nil else { continue }
            if let outcome = record.outcome {
                if outcome.status == .done || outcome.status == .failed { done.append((bound, outcome)) }
            } else if Self.readBackOperations.contains(bound.operation.name) {
                // In flight: read back whether the switch happened.
                let prepared = record.detail.isEmpty ? [:] : (try? JSONDecoder().decode([String: String].self,
                                                                                      from: Data(record.detail.utf8))) ?? [:]
                if try await env.isDone(bound, prepared: prepared) { done.append((bound, StepOutcome(status: .done, undo: prepared))) }
            } else {
                // A copy or chown cut short leaves no record of what it did:
                // finish it with --resume first, then undo it whole.
                report.failed.append(.init(scope: scope, message: "\(bound.operation.name) was in flight when the run stopped; "
                                           + "resume the run first (it completes or undoes it), then undo"))
                return
            }
        }
        // A global phase that changed nothing (an approval) has nothing to undo.
        if done.isEmpty && member == nil { return }
        // Read back first: a scope someone changed by hand is not touched.
        for (step, outcome) in done where outcome.status == .done {
            if undoRecords.contains(where: { $0.key.index == step.key.index && $0.outcome?.status == .done }) { continue }
            if let conflict = try await readBackConflict(step, outcome: outcome) {
                report.conflicts.append(.init(scope: scope, message: conflict))
                emit(.undoFailed, phase: name, set: member?.key, operation: step.operation.name, message: conflict)
                return
            }
        }
        var complete = true
        for (step, outcome) in done.reversed() {
            var key = step.key
            key.undo = true
            if undoRecords.contains(where: { $0.key == key && $0.outcome?.status == .done }) { continue }
            try journal.recordIntent(key, detail: "undo \(step.summary)")
            do {
                let result = try await env.undo(step, outcome: outcome)
                try journal.recordResult(key, outcome: result)
                emit(.undoDone, phase: name, set: member?.key, operation: step.operation.name, message: result.evidence)
            } catch {
                try journal.recordResult(key, outcome: StepOutcome(status: .failed, evidence: "\(error)"))
                emit(.undoFailed, phase: name, set: member?.key, operation: step.operation.name, message: "\(error)")
                report.failed.append(.init(scope: scope, message: "undo of \(step.operation.name): \(error)"))
                complete = false
                break
            }
        }
        guard complete else { return }
        try journal.setState(phase: name, set: member?.key, .undone, detail: member.flatMap { m in
            (try? JSONEncoder().encode(m)).map { String(decoding: $0, as: UTF8.self) }
        })
        emit(.setUndone, phase: name, set: member?.key, message: "undone by relevo undo")
        report.undone.append(.init(scope: scope, message: "\(done.count) step\(done.count == 1 ? "" : "s") undone"))
    }
}
