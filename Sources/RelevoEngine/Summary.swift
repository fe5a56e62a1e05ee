/// What a run did, for the CLI's output and reports.
public struct RunSummary: Codable, Sendable, Equatable {
    public struct Sets: Codable, Sendable, Equatable {
        public var total = 0, migrated = 0, failed = 0, undone = 0, pending = 0, refused = 0
    }
    public struct Gates: Codable, Sendable, Equatable {
        public var passed = 0, failed = 0
    }
    public struct Phase: Codable, Sendable, Equatable {
        public var name: String
        public var perSet: Bool
        public var state: String
        public var seconds: Double
        /// Durations of the sets of a per-set phase, in run order.
        public var setSeconds: [Double]
    }
    public var halted = false
    public var haltReason: String?
    /// An approval the run waits for (a run stopped there is not a failure).
    public var waitingFor: String?
    public var sets = Sets()
    public var gates = Gates()
    public var bytes: Int64 = 0
    public var messages = 0
    /// The run's duration: virtual (the estimate of a live run) in a
    /// simulation, measured in a live run.
    public var seconds: Double = 0
    public var phases: [Phase] = []
    public init() {}
}
