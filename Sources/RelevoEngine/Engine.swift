import Foundation
import RelevoCheck
import RelevoPlan

/// Who answers `approve` steps.
public enum ApprovalPolicy: Sendable {
    /// Approvals named here (or `all`) are given; others stop the run, which
    /// waits (a later `--resume --approve NAME` continues).
    case given(Set<String>)
    case all
    /// Approvals named here are given; for any other, `ask` is called with
    /// the approval's name and message (an operator at a terminal) and its
    /// answer decides: false stops the run as an unanswered approval does.
    case ask(Set<String>, @Sendable (_ name: String, _ message: String) -> Bool)
}

/// Which of a live run's concurrent lanes the current set runs in (0 to
/// the phase's concurrency - 1; 0 outside a per-set phase). An environment
/// uses it to give each lane its own connections, so that sets in flight
/// at once do not queue behind one another on a single SSH session.
public enum EngineLane {
    @TaskLocal public static var current: Int = 0
}

public struct EngineOptions: Sendable {
    public var approvals: ApprovalPolicy
    /// A live run: event times are the wall clock, and up to the phase's
    /// concurrency sets run at once, really (each in its `EngineLane`).
    /// Otherwise (a simulation) time is virtual and the plan's concurrency is
    /// modelled on a timeline of lanes, deterministic for a seed.
    public var realTime: Bool
    public var hooks: EngineHooks
    /// Who runs the per-set phases' sets: nil, this process (see `SetDispatch`).
    public var sets: (any SetDispatch)?
    public init(approvals: ApprovalPolicy = .given([]), realTime: Bool = false, hooks: EngineHooks = EngineHooks(),
                sets: (any SetDispatch)? = nil) {
        self.approvals = approvals
        self.realTime = realTime
        self.hooks = hooks
        self.sets = sets
    }
}

/// Runs a checked plan: phases in dependency order, global phases once,
/// per-set phases once per member (filtered, ordered, canary first, then
/// bounded concurrency), gates after steps, contingencies on failure; every
/// step journaled before and after its effect, so a run can be resumed.
public actor Engine {
    let plan: Plan
    let order: [String]
    let env: any Environment
    let journal: any JournalStore
    let options: EngineOptions
    let observer: @Sendable (EngineEvent) -> Void
    let started = ContinuousClock.now

    var clock: Double = 0
    var summary = RunSummary()
    var halted: String?
    var waiting: String?
    /// Each member's detail as its phase's member list recorded it (JSON),
    /// by phase and key: written again with the set's state, not encoded again.
    var memberDetails: [String: [String: String]] = [:]

    public init(plan: Plan, graph: PlanGraph, environment: any Environment, journal: any JournalStore,
                options: EngineOptions, observer: @escaping @Sendable (EngineEvent) -> Void = { _ in }) {
        self.plan = plan
        self.order = graph.phaseOrder.isEmpty ? plan.phases.map(\.name.name) : graph.phaseOrder
        self.env = environment
        self.journal = journal
        self.options = options
        self.observer = observer
    }

    /// Runs (or resumes) the plan and returns what happened.
    public func run() async throws -> RunSummary {
        emit(.runStarted, message: plan.name)
        for name in order {
            guard halted == nil, waiting == nil, let phase = plan.phase(name) else { break }
            if phase.isPerSet {
                try await runPerSet(phase)
            } else {
                try await runGlobal(phase)
            }
        }
        try recount()
        summary.halted = halted != nil
        summary.haltReason = halted
        summary.waitingFor = waiting
        summary.seconds = clock
        emit(halted != nil ? .halted : .runFinished, message: halted ?? waiting ?? "done")
        return summary
    }

    // MARK: - Phases

    private func runGlobal(_ phase: Phase) async throws {
        let name = phase.name.name
        if let done = try journal.setStates(phase: name).first(where: { $0.set == nil }),
           [.migrated, .skipped].contains(done.state) {
            summary.phases.append(.init(name: name, perSet: false, state: done.state.rawValue, seconds: 0, setSeconds: []))
            return
        }
        emit(.phaseStarted, phase: name)
        let start = clock
        let result = try await runPipeline(phase, member: nil, start: start)
        clock = result.end
        switch result.state {
        case .migrated:
            emit(.phaseFinished, phase: name)
        case .waiting:
            break
        default:
            halted = "phase '\(name)' failed: \(result.message)"
        }
        summary.phases.append(.init(name: name, perSet: false, state: result.state.rawValue,
                                    seconds: result.end - start, setSeconds: []))
    }

    private func runPerSet(_ phase: Phase) async throws {
        let name = phase.name.name
        emit(.phaseStarted, phase: name)
        let members = try await selectMembers(phase)
        let states = Dictionary(try journal.setStates(phase: name).compactMap { s in s.set.map { ($0, s.state) } },
                                uniquingKeysWith: { a, _ in a })
        // Members refused for unsafe data were recorded as skipped: reported,
        // never acted upon, and not counted against the error budget.
        let refused = states.values.filter { $0 == .skipped }.count
        summary.sets.refused += refused
        summary.sets.failed += refused
        let total = members.count + refused
        summary.sets.total += total
        var failures = states.values.filter { $0 == .failed || $0 == .undone }.count
        let finishedBefore = members.filter { [.migrated, .failed, .undone].contains(states[$0.key] ?? .pending) }.count
        emit(.setsSelected, phase: name, message: "\(members.count) sets, \(finishedBefore) finished before")
        let start = clock
        var setSeconds: [Double] = []
        let concurrency = effectiveConcurrency(phase)
        let canary = phase.canary ?? 0
        let todo = members.filter { member in
            let state = states[member.key] ?? .pending
            if [.migrated, .failed, .undone, .skipped].contains(state) {
                count(state)
                return false
            }
            return true
        }
        // After each set: its counts, and whether the run halts.
        func finished(_ member: SetMember, _ result: PipelineResult, startedAt: Double) -> Bool {
            setSeconds.append(result.end - startedAt)
            count(result.state.setState)
            if result.conflict {
                halted = "set '\(member.key)' of phase '\(name)': \(result.message)"
                return true
            } else if result.state == .failed || result.state == .undone {
                failures += 1
                if let reason = haltReason(phase, failures: failures, total: total, last: result.message, set: member.key) {
                    halted = reason
                    return true
                }
            }
            return result.state == .waiting
        }

        // The units that run: a canary alone, then batches of the phase's
        // `batch` consecutive members (one each without it).
        let size = max(phase.batch ?? 1, 1)
        var batches: [[SetMember]] = []
        for member in todo {
            if member.index >= canary, let last = batches.last, last.count < size, last[0].index >= canary {
                batches[batches.count - 1].append(member)
            } else {
                batches.append([member])
            }
        }

        if let dispatch = options.sets {
            // Workers run the sets (SetDispatch), one set at a time each
            // (a phase's `batch` does not apply there): wait for them, then count.
            let states = try await dispatch.waitForSets(phase: phase, sets: todo.map(\.key)) { [name] in
                try await self.budgetExceeded(phase: name) != nil
            }
            for member in todo {
                guard let state = states[member.key], state != .pending else { continue }
                let result = PipelineResult(state: state == .migrated ? .migrated : state == .undone ? .undone : .failed,
                                            end: elapsed(), message: "set '\(member.key)' \(state.rawValue) (by a worker)")
                if finished(member, result, startedAt: clock) { break }
            }
            setSeconds = []  // each set's time is its worker's, not measured here
            clock = max(clock, elapsed())
        } else if options.realTime {
            try await runConcurrently(phase, batches, canary: canary, concurrency: concurrency, finished: finished)
            clock = max(clock, elapsed())
        } else {
            // The timeline: a canary waits for everything before it; other
            // batches take the first free lane. A batch that would start
            // after the run halted is not started (it was not in flight).
            var lanes = [Double](repeating: clock, count: concurrency)
            var haltAt: Double?
            for members in batches {
                let startAt: Double
                let lane: Int
                if members[0].index < canary {
                    startAt = lanes.max() ?? clock
                    lane = -1
                } else {
                    lane = lanes.indices.min { lanes[$0] < lanes[$1] } ?? 0
                    startAt = lanes[lane]
                }
                if let h = haltAt, startAt >= h { break }
                if halted != nil && haltAt == nil { break }
                if waiting != nil { break }
                let results = try await runBatch(phase, members: members, start: startAt)
                let end = results.map(\.end).max() ?? startAt
                if lane < 0 {
                    lanes = lanes.map { _ in end }
                } else {
                    lanes[lane] = end
                }
                var stop = false
                for (member, result) in zip(members, results) where finished(member, result, startedAt: startAt) {
                    haltAt = haltAt ?? result.end
                    if result.state == .waiting { stop = true }
                }
                if stop { break }
            }
            clock = lanes.max() ?? clock
        }
        // Members not started stay pending.
        let started = Set(try journal.setStates(phase: name).filter { $0.state != .pending }.compactMap(\.set))
        summary.sets.pending += members.filter { !started.contains($0.key) }.count
        emit(.phaseFinished, phase: name)
        summary.phases.append(.init(name: name, perSet: true, state: halted == nil ? "migrated" : "halted",
                                    seconds: clock - start, setSeconds: setSeconds))
    }

    /// A live run's per-set phase: up to `concurrency` batches (sets,
    /// without `batch:`) at once, each in its own `EngineLane`; a canary runs
    /// alone, after everything before it has finished. Once the run halts
    /// (or waits for an approval) nothing starts; the batches in flight then
    /// finish, each member through its own gates and contingency, as the
    /// dry run's timeline models it.
    private func runConcurrently(_ phase: Phase, _ batches: [[SetMember]], canary: Int, concurrency: Int,
                                 finished: (SetMember, PipelineResult, Double) -> Bool) async throws {
        try await withThrowingTaskGroup(of: ([SetMember], [PipelineResult], Double, Int).self) { group in
            var free = Array((0..<concurrency).reversed())
            let executors = (0..<concurrency).map { LaneExecutor(lane: $0) }
            var next = 0
            var stop = false
            var canaryInFlight = false
            while true {
                // Start what may start now.
                while next < batches.count, !stop, halted == nil, waiting == nil, !canaryInFlight {
                    let members = batches[next]
                    let alone = members[0].index < canary
                    guard free.count >= (alone ? concurrency : 1) else { break }
                    next += 1
                    canaryInFlight = alone
                    let lane = free.removeLast()
                    let startedAt = elapsed()
                    group.addTask(executorPreference: executors[lane]) {
                        let results = try await EngineLane.$current.withValue(lane) {
                            try await self.runBatch(phase, members: members, start: startedAt)
                        }
                        return (members, results, startedAt, lane)
                    }
                }
                // Then wait for one to finish, until none is in flight.
                guard let (members, results, startedAt, lane) = try await group.next() else { break }
                free.append(lane)
                if members[0].index < canary { canaryInFlight = false }
                for (member, result) in zip(members, results) where finished(member, result, startedAt) { stop = true }
            }
        }
    }

    private func count(_ state: SetState) {
        switch state {
        case .migrated: summary.sets.migrated += 1
        case .failed: summary.sets.failed += 1
        case .undone: summary.sets.undone += 1
        default: break
        }
    }

    /// Nil while the phase may go on; otherwise why the run halts.
    func haltReason(_ phase: Phase, failures: Int, total: Int, last: String, set: String) -> String? {
        let contingency = phase.onFailure ?? Contingency(undo: true, notify: [], then: .halt, range: phase.range)
        switch contingency.then {
        case .halt:
            return "set '\(set)' of phase '\(phase.name.name)' failed: \(last)"
        case .continue(let budget):
            switch budget {
            case .count(let n) where failures > n:
                return "\(failures) sets of phase '\(phase.name.name)' failed, over the budget of \(n)"
            case .percent(let p) where total > 0 && Double(failures) * 100 / Double(total) > p:
                return "\(failures) of \(total) sets of phase '\(phase.name.name)' failed, over the budget of \(p)%"
            default:
                return nil
            }
        }
    }

    /// The most sets in flight: the phase's concurrency, bounded by the
    /// concurrency of every host whose stores the phase copies to or from.
    private func effectiveConcurrency(_ phase: Phase) -> Int {
        max(Self.hostLimits(plan: plan, phase: phase).values.reduce(phase.concurrency ?? 1, min), 1)
    }

    /// The phase's members: from the journal on resume (the list is fixed
    /// when the phase first starts), else enumerated, filtered and ordered.
    private func selectMembers(_ phase: Phase) async throws -> [SetMember] {
        let name = phase.name.name
        let known = try journal.setStates(phase: name)
        if !known.isEmpty {
            let decoder = JSONDecoder()
            return known.compactMap { s in
                guard s.set != nil, let d = s.detail?.data(using: .utf8) else { return nil }
                return try? decoder.decode(SetMember.self, from: d)
            }.sorted { $0.index < $1.index }
        }
        guard let setName = phase.forEach?.name, let set = plan.set(setName) else { return [] }
        let (all, refused) = try await env.members(of: set, plan: plan)
        var members = all.filter { matches(phase.condition, $0) }
        if let order = set.order {
            // Each member's sort key made once (not at every comparison).
            let keys = members.map { m in
                order.by.name == "activity" ? Self.activityKey(m.activity) : (m.fields[order.by.name] ?? "")
            }
            let sorted = members.indices.sorted { i, j in
                let (x, y) = (keys[i], keys[j])
                if x != y { return order.ascending ? x < y : x > y }
                return members[i].key < members[j].key
            }
            members = sorted.map { members[$0] }
        }
        for i in members.indices { members[i].index = i }
        // The list is fixed here, in one durable write: a crash while writing
        // it must not leave a resume with part of the members.
        var states: [(set: String, state: SetState, detail: String?)] = []
        var details: [String: String] = [:]
        for m in members {
            let detail = try m.journalJSON()
            states.append((m.key, .pending, detail))
            details[m.key] = detail
        }
        memberDetails[name] = details
        for r in refused { states.append((r.key, .skipped, r.reason)) }
        try journal.setStates(phase: name, states)
        for r in refused {
            emit(.setSkipped, phase: name, set: r.key, message: "refused: \(r.reason)")
        }
        return members
    }

    /// `String(format: "%020.6f", activity)`, the sort key of activity,
    /// written directly for a whole number from 0 to 10^12 (messages
    /// counted: every member of a dry run) and by `String(format:)` else.
    static func activityKey(_ activity: Double) -> String {
        guard activity >= 0, activity < 1e12, activity == activity.rounded(), activity.sign == .plus else {
            return String(format: "%020.6f", activity)
        }
        let digits = String(Int64(activity)) + ".000000"
        return String(repeating: "0", count: max(0, 20 - digits.utf8.count)) + digits
    }

    private func matches(_ condition: Condition?, _ member: SetMember) -> Bool {
        guard let condition else { return true }
        return condition.clauses.allSatisfy { c in
            let value = member.fields[c.field.name]
            return c.equals ? value == c.value.name : value != c.value.name
        }
    }

    /// Gate results, bytes and files from the journal, so that a resumed
    /// run reports the whole run, not only its last part.
    private func recount() throws {
        var gates = RunSummary.Gates()
        var bytes: Int64 = 0
        var files = 0
        for phase in plan.phases {
            let totals = try journal.totals(phase: phase.name.name, perSet: phase.isPerSet, firstGate: phase.steps.count)
            gates.passed += totals.gatesPassed
            gates.failed += totals.gatesFailed
            bytes += totals.bytes
            files += totals.messages
        }
        summary.gates = gates
        summary.bytes = bytes
        summary.messages = files
    }

    // MARK: - Events

    func emit(_ kind: EngineEvent.Kind, at: Double? = nil, phase: String? = nil, set: String? = nil,
              operation: String? = nil, message: String = "", bytes: Int64 = 0) {
        let time = at ?? (options.realTime ? elapsed() : clock)
        let event = EngineEvent(kind, at: time, phase: phase, set: set, operation: operation, message: message, bytes: bytes)
        try? journal.append(event)
        observer(event)
    }

    func elapsed() -> Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
