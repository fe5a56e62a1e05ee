import RelevoPlan

/// The world a run acts on. The simulation and the live run are the same
/// engine with different environments: fixture trees and an in-memory
/// directory with a virtual clock, or LDAP, SSH and mail servers.
///
/// Every operation returns how long it took (`StepOutcome.seconds`: virtual
/// in a simulation, measured in a live run); the engine builds its timeline,
/// its estimates and its progress from those.
public protocol Environment: Sendable {
    /// Every member of `set` (before the phase's `where` and `order`), with
    /// fields as text: path fields relative to their store's root, redirect
    /// fields as the value names of their point. Members whose data is unsafe
    /// (a path outside its store, a key with control characters) are
    /// returned in `refused` with the reason, never acted upon.
    func members(of set: SetSource, plan: Plan) async throws -> (members: [SetMember], refused: [(key: String, reason: String)])

    /// Reads what the inverse of `step` will need, before its effect (the
    /// current value of a redirect point...). Recorded with the intent.
    func prepare(_ step: BoundStep) async throws -> [String: String]

    /// `prepare` for every step of a batch, one result per step in the
    /// same order (an environment that can read many values in one request
    /// overrides the default, which prepares them one after another).
    func prepare(batch: [BoundStep]) async -> [Result<[String: String], any Error>]

    /// Performs a step's effect. Throws `StepFailure` (with what was done so
    /// far, for the inverse) when it fails.
    func perform(_ step: BoundStep, prepared: [String: String]) async throws -> StepOutcome

    /// Performs one step for every member of a batch (a phase's `batch:`),
    /// one result per step in the same order; an error fails that member's
    /// step only. An environment that can do one operation for many members
    /// (one command, one stream) overrides the default, which performs them
    /// one after another.
    func perform(batch: [(step: BoundStep, prepared: [String: String])]) async -> [Result<StepOutcome, any Error>]

    /// Evaluates one gate for every member of a batch, likewise.
    func gate(batch: [BoundStep]) async -> [Result<StepOutcome, any Error>]

    /// After a crash: is the effect of a step that has an intent but no
    /// result in place? Read the real state back, never assume.
    func isDone(_ step: BoundStep, prepared: [String: String]) async throws -> Bool

    /// Undoes a step from its recorded outcome (its `undo` values).
    func undo(_ step: BoundStep, outcome: StepOutcome) async throws -> StepOutcome

    /// Evaluates a gate: `.done` when it passes, `.failed` with evidence when not.
    func gate(_ step: BoundStep) async throws -> StepOutcome

    /// Sends an alert to a notify target.
    func notify(_ target: NotifyTarget, message: String) async throws -> Double
}

extension Environment {
    public func prepare(batch: [BoundStep]) async -> [Result<[String: String], any Error>] {
        var results: [Result<[String: String], any Error>] = []
        for step in batch {
            do { results.append(.success(try await prepare(step))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    public func perform(batch: [(step: BoundStep, prepared: [String: String])]) async -> [Result<StepOutcome, any Error>] {
        var results: [Result<StepOutcome, any Error>] = []
        for (step, prepared) in batch {
            do { results.append(.success(try await perform(step, prepared: prepared))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    public func gate(batch: [BoundStep]) async -> [Result<StepOutcome, any Error>] {
        var results: [Result<StepOutcome, any Error>] = []
        for step in batch {
            do { results.append(.success(try await gate(step))) } catch { results.append(.failure(error)) }
        }
        return results
    }
}

/// A failed step, with what it did before failing (for its inverse).
public struct StepFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var partial: StepOutcome?
    public init(_ message: String, partial: StepOutcome? = nil) {
        self.message = message
        self.partial = partial
    }
    public var description: String { message }
}

/// Hooks for tests and fault injection: called right after a step's effect
/// and before its result is journaled (a `crash` fault kills the process
/// there).
public struct EngineHooks: Sendable {
    public var afterEffect: @Sendable (StepKey, Int) -> Void
    public init(afterEffect: @escaping @Sendable (StepKey, Int) -> Void = { _, _ in }) {
        self.afterEffect = afterEffect
    }
}
