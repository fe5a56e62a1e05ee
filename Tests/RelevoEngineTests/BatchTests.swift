import Testing
import RelevoEngine
import RelevoPlan

/// A phase's `batch:`: members go through the steps together, each keeps
/// its own records and contingency.
@Suite struct BatchTests {
    func run(_ text: String, env: FakeEnvironment, journal: MemoryJournal = MemoryJournal(),
             realTime: Bool = false) async throws -> RunSummary {
        let (plan, graph) = try checkedPlan(text)
        let engine = Engine(plan: plan, graph: graph, environment: env, journal: journal,
                            options: EngineOptions(approvals: .all, realTime: realTime))
        return try await engine.run()
    }

    @Test(arguments: [false, true])
    func eachStepIsDoneForTheWholeBatchBeforeTheNext(realTime: Bool) async throws {
        let env = FakeEnvironment(members: ["a", "b", "c", "d", "e", "f"])
        let journal = MemoryJournal()
        let s = try await run(plan(canary: 1, batch: 3), env: env, journal: journal, realTime: realTime)
        #expect(!s.halted && s.sets.migrated == 6 && s.gates.passed == 6)
        // The canary alone, then b c d together, then e f.
        #expect(env.performed == [
            "redirect a", "copy a",
            "redirect b", "redirect c", "redirect d", "copy b", "copy c", "copy d",
            "redirect e", "redirect f", "copy e", "copy f",
        ])
        // One write of intents per step per batch: 3 pipeline entries each.
        let users = journal.intentWrites.filter { $0.first?.phase == "users" }
        #expect(users.map { $0.compactMap(\.set) } == [
            ["a"], ["a"], ["a"],
            ["b", "c", "d"], ["b", "c", "d"], ["b", "c", "d"],
            ["e", "f"], ["e", "f"], ["e", "f"],
        ])
        #expect(journal.resultWrites.filter { $0.first?.phase == "users" }.count == users.count)
    }

    @Test func aMemberWhoseGateFailsLeavesTheBatchAloneTheOthersGoOn() async throws {
        let env = FakeEnvironment(members: ["a", "b", "c", "d"])
        env.failGate = ["c"]
        let s = try await run(plan(onFailure: "{ undo: true, then: { continue: true, budget: 1 } }", batch: 4), env: env)
        #expect(!s.halted)
        #expect(s.sets.migrated == 3 && s.sets.undone == 1 && s.gates.failed == 1 && s.gates.passed == 3)
        #expect(env.route == ["a": "new", "b": "new", "c": "old", "d": "new"])
        #expect(env.copied == ["a", "b", "d"])
        #expect(env.performed.filter { $0.hasPrefix("undo") } == ["undo copy c", "undo redirect c"])
    }

    /// A step's members are prepared together (one request for the batch
    /// where the environment can); one whose preparation fails leaves the
    /// batch before any effect, the others act with their own values.
    @Test func aBatchIsPreparedTogetherAndAFailedPreparationLeavesItAlone() async throws {
        let env = FakeEnvironment(members: ["a", "b", "c", "d"])
        env.failPrepare = ["c"]
        let journal = MemoryJournal()
        let s = try await run(plan(onFailure: "{ undo: true, then: { continue: true, budget: 1 } }", batch: 4), env: env, journal: journal)
        #expect(!s.halted)
        #expect(env.preparedBatches.first == ["redirect a", "redirect b", "redirect c", "redirect d"])
        #expect(s.sets.migrated == 3 && s.sets.undone == 1)
        #expect(env.route == ["a": "new", "b": "new", "c": "old", "d": "new"])
        #expect(!env.performed.contains { $0.hasSuffix(" c") }, "nothing done for c: \(env.performed)")
        // c's intent was never written; the others' were, with what was read.
        let redirects = journal.intentWrites.first { $0.contains { $0.operation == "redirect" } } ?? []
        #expect(redirects.compactMap(\.set) == ["a", "b", "d"])
    }

    @Test func aFailedCopyInABatchHaltsAfterTheBatchFinishes() async throws {
        let env = FakeEnvironment(members: ["a", "b", "c", "d", "e"])
        env.failCopy = ["b"]
        let s = try await run(plan(batch: 3), env: env)
        #expect(s.halted)
        // b is undone; a and c, in flight with it, finish; d and e never start.
        #expect(s.sets.migrated == 2 && s.sets.undone == 1 && s.sets.pending == 2)
        #expect(env.route == ["a": "new", "b": "old", "c": "new", "d": "old", "e": "old"])
        #expect(!env.performed.contains { $0.hasSuffix(" d") || $0.hasSuffix(" e") })
    }

    @Test func resumeOfABatchKilledBetweenEffectAndResultRepeatsNothingDone() async throws {
        let env = FakeEnvironment(members: ["a", "b", "c"])
        let journal = MemoryJournal()
        _ = try await run(plan(batch: 3), env: env, journal: journal)
        // Forget the results of the batch's copies, as a kill before the
        // results' write would: the redirects' results stay.
        for key in journal.steps.keys where key.operation == "copy" { journal.steps[key]?.outcome = nil }
        for m in ["a", "b", "c"] { try journal.setState(phase: "users", set: m, .running, detail: nil) }
        env.performed = []
        let s = try await run(plan(batch: 3), env: env, journal: journal)
        #expect(s.sets.migrated == 3 && !s.halted)
        // The redirects are read back, not repeated; the copies run again
        // (the fake cannot read a copy back), gates after them.
        #expect(env.performed == ["copy a", "copy b", "copy c"])
        #expect(env.route.values.allSatisfy { $0 == "new" })
    }

    @Test func theTimelineChargesABatchItsMembersSteps() async throws {
        // Six members, batches of three, one lane: each member's three
        // pipeline entries take a second, so a batch takes 9 s.
        let env = FakeEnvironment(members: ["a", "b", "c", "d", "e", "f"])
        let s = try await run(plan(batch: 3), env: env)
        let users = try #require(s.phases.first { $0.name == "users" })
        #expect(users.seconds == 18)
    }
}
