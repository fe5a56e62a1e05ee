import Foundation

/// What the engine reports as it goes: the CLI shows progress from these,
/// the journal keeps them for reports. `at` is seconds since the run started
/// (virtual time in a simulation).
public struct EngineEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case runStarted, runFinished, halted
        case phaseStarted, phaseFinished
        /// A per-set phase listed its sets: `message` is `N sets, M finished before`.
        case setsSelected
        case setStarted, setMigrated, setFailed, setUndone, setSkipped
        case stepDone, stepFailed, gatePassed, gateFailed, undoDone, undoFailed
        case notified, approved, resumed
    }
    public var kind: Kind
    public var at: Double
    public var phase: String?
    public var set: String?
    public var operation: String?
    public var message: String
    public var bytes: Int64

    public init(_ kind: Kind, at: Double, phase: String? = nil, set: String? = nil, operation: String? = nil,
                message: String = "", bytes: Int64 = 0) {
        self.kind = kind
        self.at = at
        self.phase = phase
        self.set = set
        self.operation = operation
        self.message = message
        self.bytes = bytes
    }
}

extension EngineEvent {
    /// For `.setsSelected`: the phase's sets, and those a previous process
    /// of the run finished (a resume).
    public var selection: (total: Int, finishedBefore: Int)? {
        guard kind == .setsSelected else { return nil }
        let numbers = message.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count == 2 else { return nil }
        return (numbers[0], numbers[1])
    }
}
