// The step rules every journal store enforces the same way, and the stored
// forms they share (SQLiteJournal, and PostgresJournal in RelevoPostgres).
import Foundation
import RelevoBasics
import RelevoEngine

public enum JournalRules {
    /// The stored form of a set: '' for nil (a global phase).
    public static func setKey(_ set: String?) throws -> String {
        guard let set else { return "" }
        guard !set.isEmpty else {
            throw JournalError.storage("a set name cannot be empty (nil is the global scope)")
        }
        return set
    }

    /// A step recorded under one operation name cannot be continued under another.
    public static func checkOperation(_ key: StepKey, _ recorded: String) throws {
        guard recorded == key.operation else {
            throw JournalError.storage("\(describe(key)) was recorded as '\(recorded)', not '\(key.operation)'")
        }
    }

    /// A step that already has a result cannot be started again (its undo values would be lost).
    public static func checkRestart(_ key: StepKey, stored: StepOutcome?) throws {
        if let status = stored?.status {
            throw JournalError.storage("\(describe(key)) already has a result (\(status.rawValue)): it cannot be started again")
        }
    }

    /// Whether `outcome` must be written: false when the identical result is
    /// already stored (idempotent); an error for a second, different result.
    public static func checkResult(_ key: StepKey, stored: StepRecord?, outcome: StepOutcome) throws -> Bool {
        guard let stored else {
            throw JournalError.storage("\(describe(key)) has no intent: a result must follow its intent")
        }
        try checkOperation(key, stored.key.operation)
        if let previous = stored.outcome {
            if previous == outcome { return false }
            throw JournalError.storage("\(describe(key)) already has a different result (\(previous.status.rawValue))")
        }
        return true
    }

    /// A JSON object of strings, keys sorted.
    public static func encodeUndo(_ undo: [String: String]) throws -> String {
        JSONString.object(undo)
    }

    public static func decodeUndo(_ json: String, key: StepKey) throws -> [String: String] {
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        } catch {
            throw JournalError.storage("unreadable undo values for \(describe(key)): \(error)")
        }
    }

    /// A stored set row read back: '' is the global scope; an unknown
    /// state name is a damaged journal.
    public static func setState(phase: String, key: String?, state name: String?,
                                detail: String?) throws -> (set: String?, state: SetState, detail: String?) {
        guard let state = SetState(rawValue: name ?? "") else {
            throw JournalError.storage("unknown set state '\(name ?? "")' in \(phase)")
        }
        let key = key ?? ""
        return (set: key.isEmpty ? nil : key, state: state, detail: detail)
    }

    /// A stored event row read back; an unknown kind is a damaged journal.
    public static func event(seq: Int64, kind name: String?, at: Double, phase: String?, set: String?,
                             operation: String?, message: String?, bytes: Int64) throws -> EngineEvent {
        guard let kind = EngineEvent.Kind(rawValue: name ?? "") else {
            throw JournalError.storage("unknown event kind '\(name ?? "")' at event \(seq)")
        }
        return EngineEvent(kind, at: at, phase: phase, set: set, operation: operation, message: message ?? "", bytes: bytes)
    }

    /// `phase 'p' set 's' step 2 'copy' (undo)`, for messages.
    public static func describe(_ key: StepKey) -> String {
        let scope = key.set.map { "phase '\(key.phase)' set '\($0)'" } ?? "global phase '\(key.phase)'"
        return "\(scope) step \(key.index) '\(key.operation)'\(key.undo ? " (undo)" : "")"
    }
}

/// The events a journal store holds in memory until its next write (both
/// stores: a crash loses at most these, which only describe steps whose
/// intents and results are already written). It asks to be written when it
/// holds `batchSize` events, or when an event arrives `flushInterval` or
/// more after the oldest one held.
public struct EventBuffer: Sendable {
    public let batchSize: Int
    public let flushInterval: Duration
    /// What is held, in `append` order.
    public private(set) var events: [EngineEvent] = []
    private var oldest: ContinuousClock.Instant?

    public init(batchSize: Int, flushInterval: Duration) {
        self.batchSize = max(1, batchSize)
        self.flushInterval = flushInterval
    }

    public var isEmpty: Bool { events.isEmpty }

    /// Holds `event`; true when the buffer should be written now.
    public mutating func append(_ event: EngineEvent) -> Bool {
        let now = ContinuousClock.now
        events.append(event)
        let first = oldest ?? now
        oldest = first
        return events.count >= batchSize || first.duration(to: now) >= flushInterval
    }

    /// Forgets what is held, once it is written.
    public mutating func clear() {
        events.removeAll(keepingCapacity: true)
        oldest = nil
    }
}
