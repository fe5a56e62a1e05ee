import Testing
import RelevoEngine
import RelevoPlan

@Suite struct EngineTests {
    func run(_ text: String, env: FakeEnvironment, journal: MemoryJournal = MemoryJournal(),
             approvals: ApprovalPolicy = .all) async throws -> RunSummary {
        let (plan, graph) = try checkedPlan(text)
        let engine = Engine(plan: plan, graph: graph, environment: env, journal: journal,
                            options: EngineOptions(approvals: approvals))
        return try await engine.run()
    }

    @Test func migratesEveryMember() async throws {
        let env = FakeEnvironment(members: ["a", "b", "c", "d", "e"])
        let s = try await run(plan(), env: env)
        #expect(!s.halted)
        #expect(s.sets.total == 5 && s.sets.migrated == 5 && s.sets.failed == 0 && s.sets.pending == 0)
        #expect(s.gates.passed == 5 && s.gates.failed == 0)
        #expect(env.route.values.allSatisfy { $0 == "new" })
        #expect(env.copied == ["a", "b", "c", "d", "e"])
    }

    @Test func aFailedCopyUndoesTheSetNotifiesAndHalts() async throws {
        let env = FakeEnvironment(members: ["a", "b", "c", "d", "e"])
        env.failCopy = ["c"]
        let s = try await run(plan(), env: env)
        #expect(s.halted)
        #expect(s.sets.migrated == 2 && s.sets.undone == 1 && s.sets.pending == 2)
        #expect(env.route == ["a": "new", "b": "new", "c": "old", "d": "old", "e": "old"])
        #expect(!env.copied.contains("c"))
        #expect(env.notified.count == 1 && env.notified[0].contains("'c'"))
        #expect(!env.performed.contains { $0.hasSuffix(" d") || $0.hasSuffix(" e") })
        // Undo in reverse order: the partial copy, then the redirect.
        let undos = env.performed.filter { $0.hasPrefix("undo") }
        #expect(undos == ["undo copy c", "undo redirect c"])
    }

    @Test(arguments: [(1, true, 2), (2, false, 3)])
    func anErrorBudgetIsHonouredExactly(budget: Int, halts: Bool, migrated: Int) async throws {
        let env = FakeEnvironment(members: ["a", "b", "c", "d", "e"])
        env.failCopy = ["b", "d"]
        let s = try await run(plan(onFailure: "{ undo: true, then: { continue: true, budget: \(budget) } }"), env: env)
        #expect(s.halted == halts)
        #expect(s.sets.undone == 2)
        #expect(s.sets.migrated == migrated)
        #expect(s.sets.pending == 5 - 2 - migrated)
    }

    @Test func aFailedGateUndoesTheSet() async throws {
        let env = FakeEnvironment(members: ["a", "b"])
        env.failGate = ["a"]
        let s = try await run(plan(), env: env)
        #expect(s.halted && s.sets.undone == 1 && s.gates.failed == 1)
        #expect(env.route["a"] == "old" && !env.copied.contains("a"))
    }

    @Test func anUnansweredApprovalWaitsAndResumeContinues() async throws {
        let env = FakeEnvironment(members: ["a", "b"])
        let journal = MemoryJournal()
        let first = try await run(plan(), env: env, journal: journal, approvals: .given([]))
        #expect(first.waitingFor == "go")
        #expect(env.performed.isEmpty)
        let second = try await run(plan(), env: env, journal: journal, approvals: .given(["go"]))
        #expect(second.waitingFor == nil && second.sets.migrated == 2)
    }

    @Test func resumeReadsBackTheStepInFlightAndNeverRepeatsADoneOne() async throws {
        let env = FakeEnvironment(members: ["a", "b"])
        let journal = MemoryJournal()
        // The state a kill -9 leaves after a's redirect took effect but
        // before its result was journaled: approval done, the member list
        // fixed, a's redirect intent recorded and its effect in place.
        try journal.recordApproval(name: "go", by: "test")
        try journal.recordIntent(StepKey(phase: "switch", set: nil, index: 0, operation: "approve"), detail: "")
        try journal.recordResult(StepKey(phase: "switch", set: nil, index: 0, operation: "approve"),
                                 outcome: StepOutcome(status: .done))
        try journal.setState(phase: "switch", set: nil, .migrated, detail: nil)
        let members = env.members
        for (i, var m) in members.enumerated() {
            m.index = i
            let json = String(decoding: try JSONEncoderSorted.encode(m), as: UTF8.self)
            try journal.setState(phase: "users", set: m.key, i == 0 ? .running : .pending, detail: json)
        }
        try journal.recordIntent(StepKey(phase: "users", set: "a", index: 0, operation: "redirect"),
                                 detail: "{\"previous\":\"old\"}")
        env.route["a"] = "new"
        let s = try await run(plan(), env: env, journal: journal)
        #expect(s.sets.migrated == 2)
        #expect(!env.performed.contains("redirect a"), "a's redirect was found done, not repeated")
        #expect(env.performed.contains("copy a"))
        #expect(try journal.records(phase: "users", set: "a").first?.outcome?.evidence == "found done on resume")
    }

    @Test func theVirtualTimelineModelsCanaryAndConcurrency() async throws {
        // Each step and gate takes 1 s: a set's pipeline takes 3 s.
        let free = try await run(plan(canary: 0, concurrency: 2), env: FakeEnvironment(members: ["a", "b", "c", "d"]))
        #expect(free.phases.last?.seconds == 6)
        let canary = try await run(plan(canary: 1, concurrency: 2), env: FakeEnvironment(members: ["a", "b", "c", "d"]))
        #expect(canary.phases.last?.seconds == 9)
        #expect(canary.seconds == 9)
    }

    @Test func theSameRunGivesTheSameEventLog() async throws {
        let j1 = MemoryJournal(), j2 = MemoryJournal()
        let e1 = FakeEnvironment(members: ["a", "b", "c"]), e2 = FakeEnvironment(members: ["a", "b", "c"])
        e1.failCopy = ["b"]
        e2.failCopy = ["b"]
        let text = plan(onFailure: "{ undo: true, then: { continue: true, budget: 1 } }", concurrency: 2)
        _ = try await run(text, env: e1, journal: j1)
        _ = try await run(text, env: e2, journal: j2)
        #expect(try j1.events() == j2.events())
        #expect(try j1.events().count > 10)
    }
}

import Foundation
enum JSONEncoderSorted {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return try e.encode(value)
    }
}
