import Foundation

/// Where a run records what it does, durably, so that it can be resumed
/// after a crash and reported on afterwards. SQLite (one file per run) is
/// the embedded store; a PostgreSQL store for many workers can implement the
/// same protocol.
///
/// The protocol is the write-ahead rule of the engine: an **intent** is
/// recorded (and made durable) before a step's effect, and a **result** after
/// it, with the values needed to undo it. A step with an intent and no result
/// was in flight when the run stopped: resume reads back the real state.
public protocol JournalStore: AnyObject, Sendable {
    /// Opens (creating if needed) the run. Fails with `JournalError.locked`
    /// naming the holder when another live process holds the run; the lock
    /// is released when the store is closed or the process dies.
    func open(run: RunInfo) throws -> RunInfo
    func close() throws

    /// Records the start of a step or gate (durable before returning; a
    /// dry run's store may hold it until the next commit, which it makes
    /// before anything of its world is written: see `SQLiteJournal`).
    func recordIntent(_ key: StepKey, detail: String) throws
    /// Records its result (durable before returning; a dry run's store may
    /// hold it until the next write, as above).
    func recordResult(_ key: StepKey, outcome: StepOutcome) throws
    /// The intents of one step for every member of a batch, in one durable
    /// write where the store can (the default records them one by one: a
    /// crash in between leaves some intents without effects, which resume
    /// reads back as it does any intent without a result).
    func recordIntents(_ intents: [(key: StepKey, detail: String)]) throws
    /// Their results, likewise.
    func recordResults(_ results: [(key: StepKey, outcome: StepOutcome)]) throws
    /// The records of one scope (a global phase, or one set in a phase), in order.
    func records(phase: String, set: String?) throws -> [StepRecord]
    /// What a run's summary counts of a phase's step records (undo records
    /// left out): of the global scope, or (`perSet`) of every set the phase
    /// has a state for. The default reads each scope's `records`; a store
    /// may count in one query.
    func totals(phase: String, perSet: Bool, firstGate: Int) throws -> JournalTotals

    /// The state of one set (member) in a per-set phase, or of a global phase (set nil).
    func setState(phase: String, set: String?, _ state: SetState, detail: String?) throws
    func setStates(phase: String) throws -> [(set: String?, state: SetState, detail: String?)]
    /// The states of many sets of a phase at once, in this order: all of
    /// them or none (a per-set phase's member list, written when the phase
    /// first starts, must never be left half written by a crash).
    func setStates(phase: String, _ states: [(set: String, state: SetState, detail: String?)]) throws

    /// Appends one event to the run's event log (grouped commits allowed:
    /// events are not needed for correctness, only for reports).
    func append(_ event: EngineEvent) throws
    func events() throws -> [EngineEvent]

    /// An approval given by an operator (or by `--approve` in a dry run).
    func recordApproval(name: String, by: String) throws
    func approvals() throws -> [String]
}

/// Gate results (records at index `firstGate` and after), and the bytes
/// and messages of the steps done (before it), of a phase's records.
public struct JournalTotals: Sendable, Equatable {
    public var gatesPassed = 0
    public var gatesFailed = 0
    public var bytes: Int64 = 0
    public var messages = 0
    public init(gatesPassed: Int = 0, gatesFailed: Int = 0, bytes: Int64 = 0, messages: Int = 0) {
        self.gatesPassed = gatesPassed
        self.gatesFailed = gatesFailed
        self.bytes = bytes
        self.messages = messages
    }
}

extension JournalStore {
    public func totals(phase: String, perSet: Bool, firstGate: Int) throws -> JournalTotals {
        var totals = JournalTotals()
        let scopes: [String?] = perSet ? try setStates(phase: phase).map(\.set) : [nil]
        for scope in scopes {
            for record in try records(phase: phase, set: scope) where !record.key.undo {
                guard let outcome = record.outcome else { continue }
                if record.key.index >= firstGate {
                    if outcome.status == .done { totals.gatesPassed += 1 } else if outcome.status == .failed { totals.gatesFailed += 1 }
                } else if outcome.status == .done {
                    totals.bytes += outcome.bytes
                    totals.messages += outcome.messages
                }
            }
        }
        return totals
    }

    public func recordIntents(_ intents: [(key: StepKey, detail: String)]) throws {
        for intent in intents { try recordIntent(intent.key, detail: intent.detail) }
    }

    public func recordResults(_ results: [(key: StepKey, outcome: StepOutcome)]) throws {
        for result in results { try recordResult(result.key, outcome: result.outcome) }
    }
}

/// What identifies a run and the plan it executes.
public struct RunInfo: Codable, Sendable, Equatable {
    /// `simulate` or `run`.
    public var mode: String
    public var planName: String
    /// SHA-256 of the plan's text: a resume with another plan is refused.
    public var planDigest: String
    public var startedAt: Date
    /// Seed of the simulation's random choices (fault percentages...).
    public var seed: UInt64
    /// Who holds the run: `host:pid`.
    public var holder: String

    public init(mode: String, planName: String, planDigest: String, startedAt: Date, seed: UInt64, holder: String) {
        self.mode = mode
        self.planName = planName
        self.planDigest = planDigest
        self.startedAt = startedAt
        self.seed = seed
        self.holder = holder
    }
}

/// One step or gate in one scope: phase, set member (nil for a global phase),
/// index in the pipeline (steps first, then gates), operation name. Undo
/// records use `undo: true`.
public struct StepKey: Codable, Sendable, Hashable {
    public var phase: String
    public var set: String?
    public var index: Int
    public var operation: String
    public var undo: Bool

    public init(phase: String, set: String?, index: Int, operation: String, undo: Bool = false) {
        self.phase = phase
        self.set = set
        self.index = index
        self.operation = operation
        self.undo = undo
    }
}

/// How a step or gate ended, with what is needed to undo it and to report it.
public struct StepOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case done, failed, skipped }
    public var status: Status
    /// Values read before the effect, needed by the inverse (e.g. the old
    /// mailHost), and what the effect did (e.g. the files a copy created).
    /// Never secrets.
    public var undo: [String: String]
    /// Evidence for reports: a gate's finding, a copy's counts.
    public var evidence: String
    public var bytes: Int64
    public var messages: Int
    /// Seconds the step took (virtual in a simulation).
    public var seconds: Double

    public init(status: Status, undo: [String: String] = [:], evidence: String = "", bytes: Int64 = 0,
                messages: Int = 0, seconds: Double = 0) {
        self.status = status
        self.undo = undo
        self.evidence = evidence
        self.bytes = bytes
        self.messages = messages
        self.seconds = seconds
    }
}

/// A step's journal entry: its intent, and its outcome once known.
public struct StepRecord: Codable, Sendable, Equatable {
    public var key: StepKey
    public var detail: String
    public var outcome: StepOutcome?

    public init(key: StepKey, detail: String, outcome: StepOutcome?) {
        self.key = key
        self.detail = detail
        self.outcome = outcome
    }
}

/// Where a set (or a global phase) stands.
public enum SetState: String, Codable, Sendable, CaseIterable {
    case pending, running, migrated, failed, undone, skipped
}

public enum JournalError: Error, CustomStringConvertible, Equatable {
    /// Another process holds the run.
    case locked(holder: String)
    /// The journal belongs to another plan (or another version of it).
    case planChanged(journal: String, plan: String)
    case storage(String)

    public var description: String {
        switch self {
        case .locked(let holder): "the journal is in use by another relevo process (\(holder))"
        case .planChanged(let j, let p): "the journal was written for another plan (digest \(j.prefix(12)), this plan \(p.prefix(12)))"
        case .storage(let message): "journal: \(message)"
        }
    }
}
