// The journal protocol's rules, checked against every store: what a
// JournalStore must do whatever keeps it (SQLite file or PostgreSQL schema).
import Foundation
import Testing
import RelevoEngine

@Suite struct StepRuleTests {
    @Test(arguments: StoreKind.allCases)
    func intentsAndResultsRoundTripAcrossReopen(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let special: [String: String] = [
            "mailHost": "old.mail.example",
            "quote\"back\\slash": "line1\nline2\ttab",
            "unicode": "Ñandú 🦤 — «ok» /path/with/slashes",
            "json": #"{"a":[1,2],"b":null}"#,
            "nul": "before\u{0}after",
            "": "",
        ]
        let global = StepKey(phase: "expand", set: nil, index: 0, operation: "notify")
        let copy = StepKey(phase: "migrate", set: "ana@example.org", index: 1, operation: "copy-mailbox")
        let undo = StepKey(phase: "migrate", set: "ana@example.org", index: 0, operation: "redirect", undo: true)
        let copyOutcome = StepOutcome(status: .done, undo: special, evidence: "12 messages\u{0}, \"ok\"",
                                      bytes: Int64.max, messages: 12, seconds: 1.25)
        let undoOutcome = StepOutcome(status: .failed, undo: [:], evidence: "host down", seconds: 0.000_123)

        do {
            let (journal, _) = try fixture.open()
            try journal.recordIntent(global, detail: "notify ops")
            try journal.recordResult(global, outcome: StepOutcome(status: .skipped))
            try journal.recordIntent(copy, detail: "copy INBOX\nto new\u{0}")
            try journal.recordResult(copy, outcome: copyOutcome)
            try journal.recordIntent(undo, detail: "")
            try journal.recordResult(undo, outcome: undoOutcome)
            try journal.close()
        }

        let (journal, _) = try fixture.open()
        defer { try? journal.close() }
        #expect(try journal.records(phase: "expand", set: nil) ==
                [StepRecord(key: global, detail: "notify ops", outcome: StepOutcome(status: .skipped))])
        #expect(try journal.records(phase: "migrate", set: "ana@example.org") == [
            StepRecord(key: copy, detail: "copy INBOX\nto new\u{0}", outcome: copyOutcome),
            StepRecord(key: undo, detail: "", outcome: undoOutcome),
        ])
        // nil and "" scopes do not mix, nor do phases.
        #expect(try journal.records(phase: "migrate", set: nil).isEmpty)
        #expect(try journal.records(phase: "expand", set: "ana@example.org").isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func recordsComeInIndexOrderWithUndoRecordsAfter(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let (journal, _) = try fixture.open()
        defer { try? journal.close() }
        func key(_ i: Int, undo: Bool = false, set: String? = "bo") -> StepKey {
            StepKey(phase: "migrate", set: set, index: i, operation: "op\(i)", undo: undo)
        }
        // Recorded out of order, with an undo in the middle and another set.
        for k in [key(2), key(0), key(1, undo: true), key(1), key(0, undo: true), key(0, set: "cy")] {
            try journal.recordIntent(k, detail: "")
        }
        let keys = try journal.records(phase: "migrate", set: "bo").map(\.key)
        #expect(keys == [key(0), key(1), key(2), key(0, undo: true), key(1, undo: true)])
        #expect(try journal.records(phase: "migrate", set: "bo").allSatisfy { $0.outcome == nil })
        #expect(try journal.records(phase: "migrate", set: "cy").map(\.key) == [key(0, set: "cy")])
    }

    @Test(arguments: StoreKind.allCases)
    func anIntentInFlightIsReRecordedOnResumeInOneRow(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let key = StepKey(phase: "migrate", set: "ana", index: 3, operation: "set-mailhost")
        do {
            let (journal, _) = try fixture.open()
            try journal.recordIntent(key, detail: "first try")
            try journal.close()  // "crash" before the result
        }
        let (journal, _) = try fixture.open(sampleRun(holder: "test-host:2"))
        defer { try? journal.close() }
        #expect(try journal.records(phase: "migrate", set: "ana") ==
                [StepRecord(key: key, detail: "first try", outcome: nil)])
        try journal.recordIntent(key, detail: "resumed")
        try journal.recordResult(key, outcome: StepOutcome(status: .done, undo: ["old": "a"]))
        #expect(try journal.records(phase: "migrate", set: "ana") ==
                [StepRecord(key: key, detail: "resumed", outcome: StepOutcome(status: .done, undo: ["old": "a"]))])
        #expect(try fixture.count("SELECT count(*) FROM steps") == 1)
        #expect(try fixture.count("SELECT intents FROM steps") == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func writeAheadViolationsAreRefused(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let (journal, _) = try fixture.open()
        defer { try? journal.close() }
        let key = StepKey(phase: "p", set: "s", index: 0, operation: "copy")
        let done = StepOutcome(status: .done, undo: ["created": "/a"])

        // A result needs its intent.
        #expect(throws: JournalError.self) { try journal.recordResult(key, outcome: done) }

        try journal.recordIntent(key, detail: "")
        // The same step under another operation name is another plan's step.
        var renamed = key
        renamed.operation = "move"
        #expect(throws: JournalError.self) { try journal.recordIntent(renamed, detail: "") }
        #expect(throws: JournalError.self) { try journal.recordResult(renamed, outcome: done) }

        try journal.recordResult(key, outcome: done)
        try journal.recordResult(key, outcome: done)  // identical: accepted
        #expect(throws: JournalError.self) {
            try journal.recordResult(key, outcome: StepOutcome(status: .failed))
        }
        // Starting a finished step again would lose its undo values.
        #expect(throws: JournalError.self) { try journal.recordIntent(key, detail: "again") }
        #expect(try journal.records(phase: "p", set: "s") == [StepRecord(key: key, detail: "", outcome: done)])

        // "" is not a set name (nil is the global scope).
        #expect(throws: JournalError.self) {
            try journal.recordIntent(StepKey(phase: "p", set: "", index: 0, operation: "copy"), detail: "")
        }
        // A refused write leaves the store usable.
        try journal.recordIntent(StepKey(phase: "p", set: "t", index: 0, operation: "copy"), detail: "")
    }

    @Test(arguments: StoreKind.allCases)
    func callsBeforeOpenAndAfterCloseFail(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let journal = try fixture.store()
        let key = StepKey(phase: "p", set: nil, index: 0, operation: "x")
        #expect(throws: JournalError.self) { try journal.recordIntent(key, detail: "") }
        _ = try journal.open(run: sampleRun())
        #expect(throws: JournalError.self) { _ = try journal.open(run: sampleRun()) }  // already open
        try journal.close()
        try journal.close()  // idempotent
        #expect(throws: JournalError.self) { try journal.records(phase: "p", set: nil) }
    }

    /// Calls from many threads are serialized: nothing is lost or interleaved.
    @Test(arguments: StoreKind.allCases)
    func manyThreadsShareOneJournal(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let (journal, _) = try fixture.open(eventBatchSize: 7)
        defer { try? journal.close() }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            do {
                for i in 0..<25 {
                    let key = StepKey(phase: "migrate", set: "w\(worker)", index: i, operation: "copy")
                    try journal.append(EngineEvent(.setStarted, at: Double(i), set: "w\(worker)"))
                    try journal.recordIntent(key, detail: "")
                    try journal.recordResult(key, outcome: StepOutcome(status: .done, messages: i))
                    try journal.setState(phase: "migrate", set: "w\(worker)", .running, detail: "\(i)")
                }
            } catch {
                Issue.record(error)
            }
        }
        for worker in 0..<8 {
            let records = try journal.records(phase: "migrate", set: "w\(worker)")
            #expect(records.map(\.key.index) == Array(0..<25))
            #expect(records.map { $0.outcome?.messages } == Array(0..<25))
            let ats = try journal.events().filter { $0.set == "w\(worker)" }.map(\.at)
            #expect(ats == (0..<25).map(Double.init))
        }
        #expect(try journal.setStates(phase: "migrate").allSatisfy { $0.detail == "24" })
    }
}

@Suite struct StateEventApprovalRuleTests {
    @Test(arguments: StoreKind.allCases)
    func setStatesKeepFirstRecordOrderAndRoundTripNil(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        do {
            let (journal, _) = try fixture.open()
            try journal.setState(phase: "migrate", set: "cy", .running, detail: nil)
            try journal.setState(phase: "migrate", set: "ana", .pending, detail: "waiting")
            try journal.setState(phase: "migrate", set: nil, .running, detail: "phase")
            try journal.setState(phase: "migrate", set: "cy", .migrated, detail: "12 messages")
            try journal.setState(phase: "expand", set: nil, .skipped, detail: nil)
            try journal.close()
        }
        let (journal, _) = try fixture.open()
        defer { try? journal.close() }
        let states = try journal.setStates(phase: "migrate")
        #expect(states.map(\.set) == ["cy", "ana", nil])
        #expect(states.map(\.state) == [.migrated, .pending, .running])
        #expect(states.map(\.detail) == ["12 messages", "waiting", "phase"])
        let expand = try journal.setStates(phase: "expand")
        #expect(expand.count == 1 && expand[0].set == nil && expand[0].state == .skipped && expand[0].detail == nil)
        #expect(try journal.setStates(phase: "contract").isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func aMemberListIsWrittenWholeOrNotAtAll(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let (journal, _) = try fixture.open()
        defer { try? journal.close() }
        try journal.setStates(phase: "migrate", [("ana", .pending, "{}"), ("bo", .pending, nil), ("cy", .skipped, "refused")])
        #expect(try journal.setStates(phase: "migrate").map(\.set) == ["ana", "bo", "cy"])
        // An empty name in the middle refuses the whole list.
        #expect(throws: JournalError.self) {
            try journal.setStates(phase: "contract", [("dy", .pending, nil), ("", .pending, nil)])
        }
        #expect(try journal.setStates(phase: "contract").isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func eventsKeepTheirOrderAcrossBufferingWritesAndReopen(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        var expected: [EngineEvent] = []
        do {
            let (journal, _) = try fixture.open(eventBatchSize: 64, eventFlushInterval: .seconds(3600))
            for i in 0..<150 {
                let event = EngineEvent(.stepDone, at: Double(i) / 3, phase: "migrate", set: i % 2 == 0 ? "ana" : nil,
                                        operation: i % 3 == 0 ? nil : "copy", message: "event \(i) «\u{0}»",
                                        bytes: Int64(i) * 1_000_000_007)
                try journal.append(event)
                expected.append(event)
                // Durable writes in between flush the buffer first.
                if i % 37 == 0 {
                    let key = StepKey(phase: "migrate", set: "s\(i)", index: 0, operation: "copy")
                    try journal.recordIntent(key, detail: "")
                    try journal.recordResult(key, outcome: StepOutcome(status: .done))
                }
            }
            #expect(try journal.events() == expected)
            try journal.append(EngineEvent(.halted, at: 99, message: "unflushed at close"))
            expected.append(EngineEvent(.halted, at: 99, message: "unflushed at close"))
            try journal.close()
        }
        let (journal, _) = try fixture.open()
        defer { try? journal.close() }
        try journal.append(EngineEvent(.resumed, at: 100))
        expected.append(EngineEvent(.resumed, at: 100))
        #expect(try journal.events() == expected)
    }

    @Test(arguments: StoreKind.allCases)
    func eventsWaitForTheNextDurableWriteOrTheirBatch(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let (journal, _) = try fixture.open(eventBatchSize: 4, eventFlushInterval: .seconds(3600))
        defer { try? journal.close() }
        for i in 0..<3 { try journal.append(EngineEvent(.setStarted, at: Double(i), set: "s\(i)")) }
        #expect(try fixture.count("SELECT count(*) FROM events") == 0)

        // An intent writes the buffered events in its own transaction, before itself.
        try journal.recordIntent(StepKey(phase: "p", set: "s0", index: 0, operation: "x"), detail: "")
        #expect(try fixture.count("SELECT count(*) FROM events") == 3)

        // A full batch is written by itself.
        for i in 0..<4 { try journal.append(EngineEvent(.setStarted, at: Double(i))) }
        #expect(try fixture.count("SELECT count(*) FROM events") == 7)
    }

    @Test(arguments: StoreKind.allCases)
    func eventsOlderThanTheIntervalAreWrittenAtTheNextAppend(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let (journal, _) = try fixture.open(eventBatchSize: 1_000, eventFlushInterval: .milliseconds(50))
        defer { try? journal.close() }
        try journal.append(EngineEvent(.phaseStarted, at: 0, phase: "p"))
        #expect(try fixture.count("SELECT count(*) FROM events") == 0)
        Thread.sleep(forTimeInterval: 0.08)
        try journal.append(EngineEvent(.phaseFinished, at: 1, phase: "p"))
        #expect(try fixture.count("SELECT count(*) FROM events") == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func approvalsKeepTheirOrderAndTheFirstApprover(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        do {
            let (journal, _) = try fixture.open()
            try journal.recordApproval(name: "cutover", by: "ana")
            try journal.recordApproval(name: "contract", by: "--approve")
            try journal.recordApproval(name: "cutover", by: "bo")  // already approved
            // Durable at once, like the steps.
            #expect(try fixture.count("SELECT count(*) FROM approvals") == 2)
            try journal.close()
        }
        let (journal, _) = try fixture.open()
        defer { try? journal.close() }
        #expect(try journal.approvals() == ["cutover", "contract"])
        #expect(try fixture.strings("SELECT approved_by FROM approvals ORDER BY id") == ["ana", "--approve"])
    }
}

@Suite struct OpenRuleTests {
    @Test(arguments: StoreKind.allCases)
    func reopeningReturnsTheStoredRunWithTheNewHolder(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let first = sampleRun(holder: "alpha:100")
        do {
            let (journal, info) = try fixture.open(first)
            #expect(info == first)
            try journal.close()
        }
        // A resume brings a new start time and seed: the stored ones win.
        var resume = first
        resume.startedAt = Date()
        resume.seed = 42
        resume.holder = "beta:200"
        let (journal, info) = try fixture.open(resume)
        defer { try? journal.close() }
        var expected = first
        expected.holder = "beta:200"
        #expect(info == expected)
        #expect(info.startedAt == first.startedAt)  // exact, to the last bit
        #expect(info.seed == UInt64.max - 6)
        #expect(try fixture.count("SELECT opens FROM run") == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func anotherPlanOrModeIsRefusedAndTheLockIsReleased(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        do {
            let (journal, _) = try fixture.open()
            try journal.close()
        }
        let journal = try fixture.store()
        let other = sampleRun(digest: String(repeating: "cd", count: 32))
        #expect(throws: JournalError.planChanged(journal: sampleRun().planDigest, plan: other.planDigest)) {
            _ = try journal.open(run: other)
        }
        #expect(throws: JournalError.self) { _ = try journal.open(run: sampleRun(mode: "run")) }
        // Refusals released the lock: the right plan opens.
        #expect(try journal.open(run: sampleRun()) == sampleRun())
        try journal.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aSecondOpenInThisProcessIsRefusedWithTheHolderNamed(_ kind: StoreKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.remove() }
        let (first, _) = try fixture.open(sampleRun(holder: "alpha:100"))
        let second = try fixture.store()
        #expect(throws: JournalError.locked(holder: "alpha:100")) {
            _ = try second.open(run: sampleRun(holder: "beta:200"))
        }
        try first.close()
        #expect(try second.open(run: sampleRun(holder: "beta:200")).holder == "beta:200")
        try second.close()
    }
}
