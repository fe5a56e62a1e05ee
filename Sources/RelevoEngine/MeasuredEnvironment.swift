import RelevoPlan

/// An environment whose outcomes carry the time they really took: a live
/// run's steps report the seconds their environment charges (the plan's
/// fixture timing, meant for the dry run's estimate); wrapped in this, each
/// step, gate, undo and notification reports its measured wall-clock time,
/// so the journal, the progress line and the report show what happened.
public struct MeasuredEnvironment: Environment {
    public let inner: any Environment

    public init(_ inner: any Environment) {
        self.inner = inner
    }

    private func timed(_ body: () async throws -> StepOutcome) async throws -> StepOutcome {
        let start = ContinuousClock.now
        do {
            var outcome = try await body()
            outcome.seconds = seconds(since: start)
            return outcome
        } catch var failure as StepFailure {
            if var partial = failure.partial {
                partial.seconds = seconds(since: start)
                failure.partial = partial
            }
            throw failure
        }
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    public func members(of set: SetSource, plan: Plan) async throws -> (members: [SetMember], refused: [(key: String, reason: String)]) {
        try await inner.members(of: set, plan: plan)
    }

    public func prepare(_ step: BoundStep) async throws -> [String: String] {
        try await inner.prepare(step)
    }

    public func prepare(batch: [BoundStep]) async -> [Result<[String: String], any Error>] {
        await inner.prepare(batch: batch)
    }

    public func perform(_ step: BoundStep, prepared: [String: String]) async throws -> StepOutcome {
        try await timed { try await inner.perform(step, prepared: prepared) }
    }

    /// The batch's wall-clock time, shared equally by its members (so the
    /// members' seconds add up to it).
    public func perform(batch: [(step: BoundStep, prepared: [String: String])]) async -> [Result<StepOutcome, any Error>] {
        shared(await timedBatch { await inner.perform(batch: batch) })
    }

    public func gate(batch: [BoundStep]) async -> [Result<StepOutcome, any Error>] {
        shared(await timedBatch { await inner.gate(batch: batch) })
    }

    private func timedBatch(_ body: () async -> [Result<StepOutcome, any Error>]) async -> ([Result<StepOutcome, any Error>], Double) {
        let start = ContinuousClock.now
        let results = await body()
        return (results, seconds(since: start))
    }

    private func shared(_ measured: ([Result<StepOutcome, any Error>], Double)) -> [Result<StepOutcome, any Error>] {
        let (results, total) = measured
        let each = results.isEmpty ? 0 : total / Double(results.count)
        return results.map { result in
            switch result {
            case .success(var outcome):
                outcome.seconds = each
                return .success(outcome)
            case .failure(var failure as StepFailure):
                if var partial = failure.partial {
                    partial.seconds = each
                    failure.partial = partial
                }
                return .failure(failure)
            case .failure(let error):
                return .failure(error)
            }
        }
    }

    public func isDone(_ step: BoundStep, prepared: [String: String]) async throws -> Bool {
        try await inner.isDone(step, prepared: prepared)
    }

    public func undo(_ step: BoundStep, outcome: StepOutcome) async throws -> StepOutcome {
        try await timed { try await inner.undo(step, outcome: outcome) }
    }

    public func gate(_ step: BoundStep) async throws -> StepOutcome {
        try await timed { try await inner.gate(step) }
    }

    public func notify(_ target: NotifyTarget, message: String) async throws -> Double {
        let start = ContinuousClock.now
        _ = try await inner.notify(target, message: message)
        return seconds(since: start)
    }
}
