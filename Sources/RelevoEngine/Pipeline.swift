import Foundation
import RelevoBasics
import RelevoPlan

/// How one pipeline (a global phase, or one set of a per-set phase) ended.
struct PipelineResult {
    enum State: String { case migrated, failed, undone, waiting }
    var state: State
    var end: Double
    var message: String
    /// The real state differs from what the journal recorded (a change made
    /// outside relevo): the run halts whatever the budget, nothing is undone.
    var conflict = false
}

extension PipelineResult.State {
    var setState: SetState {
        switch self {
        case .migrated: .migrated
        case .failed: .failed
        case .undone: .undone
        case .waiting: .running
        }
    }
}

extension Engine {
    /// Runs a phase's steps then gates for one member (or once, for a
    /// global phase), starting at `start` on the timeline.
    func runPipeline(_ phase: Phase, member: SetMember?, start: Double) async throws -> PipelineResult {
        try await runBatch(phase, members: [member], start: start)[0]
    }

    /// Runs a phase's steps then gates for the members of one batch (one
    /// member, or `nil` once for a global phase), starting at `start` on the
    /// timeline: each step for every member still in the batch, then the
    /// next. Completed steps found in the journal are not repeated; a step
    /// with an intent and no result is read back from the real state. A
    /// member whose step or gate fails leaves the batch and its contingency
    /// runs for it alone. One result per member, in order.
    ///
    /// A batch shares one clock: a step's members are done one after
    /// another as far as the timeline knows (their seconds add up), unless
    /// the environment did them as one operation and says so by the seconds
    /// it charges each.
    func runBatch(_ phase: Phase, members: [SetMember?], start: Double) async throws -> [PipelineResult] {
        let name = phase.name.name
        var t = start
        struct Member {
            let member: SetMember?
            let records: [StepRecord]
            let detail: String?
            var completed: [(BoundStep, StepOutcome)] = []
            var result: PipelineResult?
            var key: String? { member?.key }
        }
        var batch: [Member] = []
        for member in members {
            let records = try journal.records(phase: name, set: member?.key)
            if !records.isEmpty { emit(.resumed, at: t, phase: name, set: member?.key) }
            batch.append(Member(member: member, records: records, detail: encoded(member, phase: name)))
        }
        try setStates(name, batch.map { ($0.key, SetState.running, $0.detail) })
        for m in batch { emit(.setStarted, at: t, phase: name, set: m.key) }

        let pipeline = phase.steps + phase.gates
        for (index, step) in pipeline.enumerated() {
            // What each member still in the batch does at this step.
            var acting: [(member: Int, bound: BoundStep, prepared: [String: String])] = []
            var unprepared: [Int] = []   // positions in acting still to prepare
            for i in batch.indices where batch[i].result == nil {
                let member = batch[i].member
                let bound: BoundStep
                do {
                    bound = try Binder.bind(step, index: index, phase: phase, member: member, plan: plan)
                } catch {
                    let r = try await fail(phase, member: member, at: t, step: nil, partial: nil, completed: batch[i].completed,
                                           message: "\(step.operation.name): \(error)")
                    (t, batch[i].result) = (r.end, r)
                    continue
                }
                let record = batch[i].records.first { $0.key.index == index && !$0.key.undo }
                if let outcome = record?.outcome, outcome.status == .done {
                    // Resuming: a switch done earlier must still be in place.
                    if let conflict = try await readBackConflict(bound, outcome: outcome) {
                        let message = "\(conflict); relevo stops here and changes nothing (fix it, or undo this set)"
                        try journal.setState(phase: name, set: member?.key, .failed, detail: batch[i].detail)
                        emit(.setFailed, at: t, phase: name, set: member?.key, operation: bound.operation.name, message: message)
                        batch[i].result = PipelineResult(state: .failed, end: t, message: message, conflict: true)
                        continue
                    }
                    batch[i].completed.append((bound, outcome))
                    continue
                }
                if let outcome = record?.outcome, outcome.status == .failed {
                    // Failed before the crash: its contingency may not have finished.
                    let r = try await fail(phase, member: member, at: t, step: bound, partial: outcome,
                                           completed: batch[i].completed, message: outcome.evidence)
                    (t, batch[i].result) = (r.end, r)
                    continue
                }
                if bound.operation.name == "approve" {
                    let approvalName = bound["name"]?.string ?? name
                    guard try approved(approvalName, message: bound["message"]?.string ?? "") else {
                        waiting = approvalName
                        batch[i].result = PipelineResult(state: .waiting, end: t, message: "waiting for approval '\(approvalName)'")
                        continue
                    }
                    try journal.recordIntent(bound.key, detail: "approve \(approvalName)")
                    try journal.recordResult(bound.key, outcome: StepOutcome(status: .done, evidence: "approved"))
                    emit(.approved, at: t, phase: name, set: member?.key, operation: "approve", message: approvalName)
                    continue
                }
                var prepared: [String: String] = [:]
                if let record, record.outcome == nil {
                    // In flight when the run stopped: read the real state back.
                    prepared = decode(record.detail)
                    if !bound.isGate, try await env.isDone(bound, prepared: prepared) {
                        let outcome = StepOutcome(status: .done, undo: prepared, evidence: "found done on resume")
                        try journal.recordResult(bound.key, outcome: outcome)
                        batch[i].completed.append((bound, outcome))
                        emit(.stepDone, at: t, phase: name, set: member?.key, operation: bound.operation.name,
                             message: "found done on resume")
                        continue
                    }
                } else if !bound.isGate {
                    unprepared.append(acting.count)
                }
                acting.append((i, bound, prepared))
            }
            // What the inverses will need, read for the batch at once; a
            // member whose read fails leaves the batch (its contingency runs).
            if !unprepared.isEmpty {
                let read = await env.prepare(batch: unprepared.map { acting[$0].bound })
                var failed: Set<Int> = []
                for (position, result) in zip(unprepared, read) {
                    switch result {
                    case .success(let values): acting[position].prepared = values
                    case .failure(let error):
                        failed.insert(position)
                        let (i, bound, _) = acting[position]
                        let r = try await fail(phase, member: batch[i].member, at: t, step: bound, partial: nil,
                                               completed: batch[i].completed, message: "\(bound.operation.name): \(error)")
                        (t, batch[i].result) = (r.end, r)
                    }
                }
                if !failed.isEmpty { acting = acting.indices.filter { !failed.contains($0) }.map { acting[$0] } }
            }
            guard !acting.isEmpty else { continue }

            // One write of intents, the effects, one write of results.
            try journal.recordIntents(acting.map { ($0.bound.key, encode($0.prepared)) })
            let isGate = acting[0].bound.isGate
            let results = isGate ? await env.gate(batch: acting.map(\.bound))
                : await env.perform(batch: acting.map { ($0.bound, $0.prepared) })
            var outcomes: [StepOutcome] = []
            var failures: [StepFailure?] = []
            for (a, result) in zip(acting, results) {
                switch result {
                case .success(var outcome):
                    options.hooks.afterEffect(a.bound.key, batch[a.member].member?.index ?? -1)
                    outcome.undo.merge(a.prepared) { current, _ in current }
                    outcomes.append(outcome)
                    failures.append(nil)
                case .failure(let error):
                    // Whatever the environment throws (a host unreachable, a
                    // directory down) fails the step: the contingency runs.
                    let failure = error as? StepFailure ?? StepFailure("\(error)")
                    var partial = failure.partial ?? StepOutcome(status: .failed)
                    partial.status = .failed
                    partial.evidence = failure.message
                    partial.undo.merge(a.prepared) { current, _ in current }
                    outcomes.append(partial)
                    failures.append(failure)
                }
            }
            try journal.recordResults(zip(acting, outcomes).map { ($0.bound.key, $1) })

            for ((i, bound, _), (outcome, failure)) in zip(acting, zip(outcomes, failures)) {
                let member = batch[i].member
                t += outcome.seconds
                if let failure {
                    emit(bound.isGate ? .gateFailed : .stepFailed, at: t, phase: name, set: member?.key,
                         operation: bound.operation.name, message: failure.message)
                    if bound.isGate { summary.gates.failed += 1 }
                    let r = try await fail(phase, member: member, at: t, step: bound, partial: outcome,
                                           completed: batch[i].completed, message: "\(bound.operation.name): \(failure.message)")
                    (t, batch[i].result) = (r.end, r)
                    continue
                }
                summary.bytes += outcome.bytes
                summary.messages += outcome.messages
                if bound.isGate {
                    if outcome.status == .failed {
                        summary.gates.failed += 1
                        emit(.gateFailed, at: t, phase: name, set: member?.key, operation: bound.operation.name,
                             message: outcome.evidence)
                        let r = try await fail(phase, member: member, at: t, step: bound, partial: nil,
                                               completed: batch[i].completed, message: "gate \(bound.operation.name): \(outcome.evidence)")
                        (t, batch[i].result) = (r.end, r)
                        continue
                    }
                    summary.gates.passed += 1
                    emit(.gatePassed, at: t, phase: name, set: member?.key, operation: bound.operation.name,
                         message: outcome.evidence)
                } else {
                    emit(.stepDone, at: t, phase: name, set: member?.key, operation: bound.operation.name,
                         message: outcome.evidence, bytes: outcome.bytes)
                }
                batch[i].completed.append((bound, outcome))
            }
        }
        let migrated = batch.indices.filter { batch[$0].result == nil }
        try setStates(name, migrated.map { (batch[$0].key, SetState.migrated, batch[$0].detail) })
        // Each member's detail is written for the last time with its end.
        for m in batch { if let key = m.key { memberDetails[name]?[key] = nil } }
        for i in migrated {
            emit(.setMigrated, at: t, phase: name, set: batch[i].key)
            batch[i].result = PipelineResult(state: .migrated, end: t, message: "")
        }
        return batch.map { $0.result! }
    }

    /// The states of a batch's members in one write (one member, or a
    /// global phase: `setState`).
    private func setStates(_ phase: String, _ states: [(set: String?, state: SetState, detail: String?)]) throws {
        if states.count == 1, let only = states.first {
            try journal.setState(phase: phase, set: only.set, only.state, detail: only.detail)
        } else if !states.isEmpty {
            try journal.setStates(phase: phase, states.map { ($0.set ?? "", $0.state, $0.detail) })
        }
    }

    /// The contingency: undo the completed steps (and the failed one's
    /// partial effect) in reverse order, notify, and record the set's state.
    private func fail(_ phase: Phase, member: SetMember?, at start: Double, step failed: BoundStep?,
                      partial: StepOutcome?, completed: [(BoundStep, StepOutcome)], message: String) async throws -> PipelineResult {
        let name = phase.name.name
        var t = start
        let contingency = phase.onFailure ?? Contingency(undo: true, notify: [], then: .halt, range: phase.range)
        var undoneAll = true
        var didUndo = false
        if contingency.undo {
            var toUndo = completed
            if let failed, let partial, !failed.isGate { toUndo.append((failed, partial)) }
            let undoRecords = try journal.records(phase: name, set: member?.key).filter(\.key.undo)
            for (step, outcome) in toUndo.reversed() where !step.isGate && step.operation.changesLiveState {
                guard step.operation.inverse != nil else {
                    undoneAll = false
                    continue
                }
                var key = step.key
                key.undo = true
                if undoRecords.contains(where: { $0.key == key && $0.outcome?.status == .done }) {
                    didUndo = true
                    continue
                }
                try journal.recordIntent(key, detail: "undo \(step.summary)")
                do {
                    let result = try await env.undo(step, outcome: outcome)
                    try journal.recordResult(key, outcome: result)
                    t += result.seconds
                    didUndo = true
                    emit(.undoDone, at: t, phase: name, set: member?.key, operation: step.operation.name,
                         message: result.evidence)
                } catch {
                    try journal.recordResult(key, outcome: StepOutcome(status: .failed, evidence: "\(error)"))
                    undoneAll = false
                    emit(.undoFailed, at: t, phase: name, set: member?.key, operation: step.operation.name,
                         message: "\(error)")
                }
            }
        } else {
            undoneAll = false
        }
        for target in contingency.notify {
            guard let notifyTarget = plan.notifyTarget(target.name) else { continue }
            let what = member.map { "set '\($0.key)' of phase '\(name)'" } ?? "phase '\(name)'"
            let text = "relevo: \(what) failed: \(message)"
                + (didUndo ? (undoneAll ? "; its steps were undone" : "; undo was incomplete") : "")
            do {
                t += try await env.notify(notifyTarget, message: text)
                emit(.notified, at: t, phase: name, set: member?.key, operation: "notify", message: "\(target.name): \(text)")
            } catch {
                emit(.notified, at: t, phase: name, set: member?.key, operation: "notify",
                     message: "\(target.name): could not notify: \(error)")
            }
        }
        let state: PipelineResult.State = contingency.undo && undoneAll && didUndo ? .undone
            : (contingency.undo && undoneAll && completed.isEmpty && partial == nil ? .undone : .failed)
        try journal.setState(phase: name, set: member?.key, state.setState, detail: encoded(member, phase: name))
        emit(state == .undone ? .setUndone : .setFailed, at: t, phase: name, set: member?.key, message: message)
        return PipelineResult(state: state, end: t, message: message)
    }

    /// Operations whose effect can be read back and must still be in place
    /// when a run resumes or undoes them.
    static let readBackOperations: Set<String> = ["redirect", "ldap-modify"]

    /// Nil when the journaled effect of `step` is still what the real
    /// systems show; otherwise what differs.
    func readBackConflict(_ step: BoundStep, outcome: StepOutcome) async throws -> String? {
        guard Self.readBackOperations.contains(step.operation.name) else { return nil }
        if try await env.isDone(step, prepared: outcome.undo) { return nil }
        let who = step.member.map { " for '\($0.key)'" } ?? ""
        return "\(step.summary)\(who) is no longer in effect: the real state was changed outside relevo since the journal recorded it"
    }

    private func approved(_ name: String, message: String) throws -> Bool {
        if try journal.approvals().contains(name) { return true }
        switch options.approvals {
        case .all:
            try journal.recordApproval(name: name, by: "--approve all")
            return true
        case .given(let names) where names.contains(name), .ask(let names, _) where names.contains(name):
            try journal.recordApproval(name: name, by: "--approve \(name)")
            return true
        case .ask(_, let ask):
            guard ask(name, message) else { return false }
            try journal.recordApproval(name: name, by: "the operator, at the terminal")
            return true
        default:
            return false
        }
    }

    private func encoded(_ member: SetMember?, phase: String) -> String? {
        guard let member else { return nil }
        if let detail = memberDetails[phase]?[member.key] { return detail }
        return try? member.journalJSON()
    }

    private func encode(_ values: [String: String]) -> String { JSONString.object(values) }

    private func decode(_ text: String) -> [String: String] {
        if text == "{}" { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }
}
