import Foundation
import RelevoEngine
import RelevoJournal
import RelevoPlan

/// What one journal says about its run, derived only from what the journal
/// records: its step rows (status, evidence, bytes, files, seconds), its set
/// rows (state, and the detail the engine stored at selection: the set's
/// size in bytes) and its event log (times in seconds since the run
/// started: virtual in a simulation, measured in a live run). Nothing here
/// reads a clock.
/// Something with a start and maybe an end, in seconds since the run started.
protocol Timed {
    var start: Double? { get }
    var end: Double? { get }
}

extension Timed {
    /// From start to end, when both were recorded.
    var seconds: Double? { start.flatMap { s in end.map { $0 - s } } }
}

struct RunFacts {
    struct PhaseRun: Timed {
        var name: String
        var perSet: Bool
        /// The global phase's state, or a summary of its sets' states.
        var state: String
        var start: Double?
        var end: Double?
    }

    struct GateResult {
        var operation: String
        var status: String
        var evidence: String
    }

    struct SetRun: Timed {
        var phase: String
        var key: String
        var state: SetState
        var start: Double?
        var end: Double?
        /// The set's size when it was selected (the set row's detail), if recorded.
        var bytesToMigrate: Int64?
        /// The set's message count when it was selected, if recorded.
        var messagesToMigrate: Int?
        /// Bytes and files the set's copy steps moved.
        var bytes: Int64 = 0
        var messages = 0
        var gates: [GateResult] = []
    }

    struct Failure {
        var phase: String
        var set: String?
        var operation: String
        var isGate: Bool
        var evidence: String
        /// What the contingency did, in order: undo records, notifications, the set's end.
        var actions: [String]
    }

    var path: String
    var mode: String
    var planName: String
    var planDigest: String
    var startedAt: Date
    var opens: Int
    /// Seconds from the start to the last event.
    var end: Double
    var finished: Bool
    var haltReason: String?
    var phases: [PhaseRun] = []
    var sets: [SetRun] = []
    var failures: [Failure] = []
    /// (seconds since the start, bytes copied so far), one point per copy that moved bytes.
    var throughput: [(at: Double, bytes: Int64)] = []
    var inFlight: Int
    var approvals: [(name: String, by: String)]

    var isSimulation: Bool { mode == "simulate" }

    init(path: String, snapshot s: JournalSnapshot) {
        self.path = path
        mode = s.run.mode
        planName = s.run.planName
        planDigest = s.run.planDigest
        startedAt = s.run.startedAt
        opens = s.opens
        end = s.events.map(\.at).max() ?? 0
        finished = s.events.contains { $0.kind == .runFinished }
        haltReason = s.events.last { $0.kind == .halted }?.message
        inFlight = s.inFlight.count
        approvals = s.approvals

        var perSetPhases: [String] = []
        for row in s.sets where row.set != nil && !perSetPhases.contains(row.phase) { perSetPhases.append(row.phase) }
        var order: [String] = []
        for row in s.sets where !order.contains(row.phase) { order.append(row.phase) }
        for e in s.events where e.kind == .phaseStarted { if let p = e.phase, !order.contains(p) { order.append(p) } }
        for name in order {
            let perSet = perSetPhases.contains(name)
            var state = s.sets.first { $0.phase == name && $0.set == nil }?.state.rawValue ?? "pending"
            if perSet {
                let counts = s.counts(phase: name)
                state = SetState.allCases.compactMap { st in counts[st].map { "\($0) \(st.rawValue)" } }.joined(separator: ", ")
            }
            phases.append(PhaseRun(name: name, perSet: perSet, state: state,
                                   start: s.events.first { $0.kind == .phaseStarted && $0.phase == name }?.at,
                                   end: s.events.last { $0.kind == .phaseFinished && $0.phase == name }?.at))
        }

        let terminal: Set<EngineEvent.Kind> = [.setMigrated, .setFailed, .setUndone, .setSkipped]
        var eventsOfSet: [String: [EngineEvent]] = [:]
        for e in s.events { if let p = e.phase, let key = e.set { eventsOfSet[p + "\u{0}" + key, default: []].append(e) } }
        for row in s.sets {
            guard let key = row.set else { continue }
            var run = SetRun(phase: row.phase, key: key, state: row.state)
            let mine = eventsOfSet[row.phase + "\u{0}" + key] ?? []
            run.start = mine.last { $0.kind == .setStarted }?.at
            run.end = mine.last { terminal.contains($0.kind) }?.at
            run.bytesToMigrate = Self.selected("bytes", row.detail).map(\.int64Value)
            run.messagesToMigrate = Self.selected("messages", row.detail).map(\.intValue)
            sets.append(run)
        }
        var index: [String: Int] = [:]
        for (i, r) in sets.enumerated() { index[r.phase + "\u{0}" + r.key] = i }
        for step in s.steps {
            guard let outcome = step.record.outcome, !step.record.key.undo else { continue }
            let op = step.record.key.operation
            if let key = step.set, let i = index[step.phase + "\u{0}" + key] {
                if op == "copy", outcome.status == .done {
                    sets[i].bytes += outcome.bytes
                    sets[i].messages += outcome.messages
                }
                if Operations.named(op)?.isGate == true {
                    sets[i].gates.append(GateResult(operation: op, status: outcome.status.rawValue, evidence: outcome.evidence))
                }
            }
        }
        for f in s.failures where !f.record.key.undo {
            failures.append(Self.failure(f, events: s.events, steps: s.steps))
        }
        var copied: Int64 = 0
        for e in s.events where e.kind == .stepDone && e.operation == "copy" && e.bytes > 0 {
            copied += e.bytes
            throughput.append((e.at, copied))
        }
    }

    /// The `bytes` the engine stored in a set row's detail at selection.
    /// A number the engine recorded for a set when it was selected (its
    /// `SetMember`, the set row's detail): `bytes`, `messages`.
    static func selected(_ field: String, _ detail: String?) -> NSNumber? {
        guard let detail, let object = try? JSONSerialization.jsonObject(with: Data(detail.utf8)) as? [String: Any] else { return nil }
        return object[field] as? NSNumber
    }

    /// A failed step, and the events of its scope after it: its undo records,
    /// notifications, the set's end, a halt.
    static func failure(_ f: JournalSnapshot.StepRow, events: [EngineEvent], steps: [JournalSnapshot.StepRow]) -> Failure {
        let op = f.record.key.operation
        var actions: [String] = []
        for u in steps where u.record.key.undo && u.phase == f.phase && u.set == f.set {
            let status = u.record.outcome?.status.rawValue ?? "in flight"
            actions.append("undo of step \(u.record.key.index + 1) (\(u.record.key.operation)): \(status)"
                           + (u.record.outcome.map { ": " + $0.evidence } ?? ""))
        }
        let failedAt = events.firstIndex { ($0.kind == .stepFailed || $0.kind == .gateFailed)
            && $0.phase == f.phase && $0.set == f.set && $0.operation == op }
        if let start = failedAt {
            for e in events[(start + 1)...] {
                if e.kind == .notified && e.phase == f.phase && e.set == f.set {
                    actions.append("notified " + e.message)
                } else if [.setUndone, .setFailed].contains(e.kind) && e.phase == f.phase && e.set == f.set {
                    actions.append(e.kind == .setUndone ? "set undone" : "set left failed")
                } else if e.kind == .halted {
                    actions.append("run halted: " + e.message)
                    break
                }
            }
        }
        return Failure(phase: f.phase, set: f.set, operation: op, isGate: Operations.named(op)?.isGate == true,
                       evidence: f.record.outcome?.evidence ?? "", actions: actions)
    }

    // MARK: Totals

    func count(_ state: SetState) -> Int { sets.count { $0.state == state } }
    var bytesMigrated: Int64 { sets.reduce(0) { $0 + $1.bytes } }
    var messagesMigrated: Int { sets.reduce(0) { $0 + $1.messages } }
    /// The sum of the sizes recorded at selection, and how many sets had none.
    var bytesToMigrate: (total: Int64, unrecorded: Int) {
        (sets.reduce(0) { $0 + ($1.bytesToMigrate ?? 0) }, sets.count { $0.bytesToMigrate == nil })
    }
    /// The sum of the message counts recorded at selection, and how many sets had none.
    var messagesToMigrate: (total: Int, unrecorded: Int) {
        (sets.reduce(0) { $0 + ($1.messagesToMigrate ?? 0) }, sets.count { $0.messagesToMigrate == nil })
    }
}
