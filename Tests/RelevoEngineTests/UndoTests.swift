import Testing
import RelevoEngine
import RelevoPlan

/// `Engine.undo` and the read-back before resuming or undoing.
@Suite struct UndoTests {
    func engine(_ env: FakeEnvironment, _ journal: MemoryJournal) throws -> Engine {
        let (plan, graph) = try checkedPlan(plan())
        return Engine(plan: plan, graph: graph, environment: env, journal: journal, options: EngineOptions(approvals: .all))
    }

    @Test func undoingNamedSetsRunsTheirInversesInReverseAndLeavesTheOthers() async throws {
        let env = FakeEnvironment(members: ["a", "b", "c"])
        let journal = MemoryJournal()
        _ = try await engine(env, journal).run()
        #expect(env.route.values.allSatisfy { $0 == "new" })
        env.performed.removeAll()

        let report = try await engine(env, journal).undo(sets: ["b", "zz"])
        #expect(report.undone.map(\.scope) == ["users/b"])
        #expect(report.notFound == ["zz"])
        #expect(env.route == ["a": "new", "b": "old", "c": "new"])
        #expect(!env.copied.contains("b") && env.copied.contains("a"))
        #expect(env.performed == ["undo copy b", "undo redirect b"])
        #expect(try journal.setStates(phase: "users").first { $0.set == "b" }?.state == .undone)

        // Undoing again does nothing more: the journal knows it is undone.
        env.performed.removeAll()
        let again = try await engine(env, journal).undo(sets: ["b"])
        #expect(again.undone.isEmpty && env.performed.isEmpty)
    }

    @Test func aSwitchChangedByHandIsAConflictAndNothingOfThatSetIsTouched() async throws {
        let env = FakeEnvironment(members: ["a", "b"])
        let journal = MemoryJournal()
        _ = try await engine(env, journal).run()
        env.route["a"] = "old"            // an operator moved a back by hand
        env.performed.removeAll()
        let report = try await engine(env, journal).undo(sets: nil)
        #expect(report.conflicts.map(\.scope) == ["users/a"])
        #expect(report.conflicts.first?.message.contains("changed outside relevo") == true)
        #expect(report.undone.map(\.scope) == ["users/b"])
        #expect(env.copied.contains("a"), "a's copy is left as it is")
        #expect(!env.performed.contains { $0.hasSuffix(" a") })
    }

    @Test func resumingOverASwitchChangedByHandHaltsInsteadOfOverwriting() async throws {
        let env = FakeEnvironment(members: ["a", "b"])
        let journal = MemoryJournal()
        // Killed after a's redirect was journaled done, before its copy.
        try journal.recordApproval(name: "go", by: "test")
        try journal.recordIntent(StepKey(phase: "switch", set: nil, index: 0, operation: "approve"), detail: "")
        try journal.recordResult(StepKey(phase: "switch", set: nil, index: 0, operation: "approve"),
                                 outcome: StepOutcome(status: .done))
        try journal.setState(phase: "switch", set: nil, .migrated, detail: nil)
        for (i, var m) in env.members.enumerated() {
            m.index = i
            let json = String(decoding: try JSONEncoderSorted.encode(m), as: UTF8.self)
            try journal.setState(phase: "users", set: m.key, i == 0 ? .running : .pending, detail: json)
        }
        let key = StepKey(phase: "users", set: "a", index: 0, operation: "redirect")
        try journal.recordIntent(key, detail: "{\"previous\":\"old\"}")
        try journal.recordResult(key, outcome: StepOutcome(status: .done, undo: ["previous": "old"]))
        // ... and someone set a's mailHost back to old meanwhile.
        env.route["a"] = "old"
        let s = try await engine(env, journal).run()
        #expect(s.halted)
        #expect(s.haltReason?.contains("changed outside relevo") == true, "\(s.haltReason ?? "")")
        #expect(env.route["a"] == "old", "not overwritten")
        #expect(!env.performed.contains("copy a") && !env.performed.contains("redirect a"))
        #expect(!env.performed.contains { $0.hasSuffix(" b") }, "nothing else started")
    }
}
