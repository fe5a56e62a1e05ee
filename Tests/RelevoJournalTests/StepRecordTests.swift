import Foundation
import Testing
import RelevoEngine
@testable import RelevoJournal

@Suite struct StepRecordTests {
    @Test func intentsAndResultsRoundTripAcrossReopen() throws {
        let dir = try TempDir()
        defer { dir.remove() }
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
            let (journal, _) = try openJournal(dir)
            try journal.recordIntent(global, detail: "notify ops")
            try journal.recordResult(global, outcome: StepOutcome(status: .skipped))
            try journal.recordIntent(copy, detail: "copy INBOX\nto new")
            try journal.recordResult(copy, outcome: copyOutcome)
            try journal.recordIntent(undo, detail: "")
            try journal.recordResult(undo, outcome: undoOutcome)
            try journal.close()
        }

        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        #expect(try journal.records(phase: "expand", set: nil) ==
                [StepRecord(key: global, detail: "notify ops", outcome: StepOutcome(status: .skipped))])
        #expect(try journal.records(phase: "migrate", set: "ana@example.org") == [
            StepRecord(key: copy, detail: "copy INBOX\nto new", outcome: copyOutcome),
            StepRecord(key: undo, detail: "", outcome: undoOutcome),
        ])
        // nil and "" scopes do not mix, nor do phases.
        #expect(try journal.records(phase: "migrate", set: nil).isEmpty)
        #expect(try journal.records(phase: "expand", set: "ana@example.org").isEmpty)
    }

    @Test func recordsComeInIndexOrderWithUndoRecordsAfter() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
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

    @Test func anIntentInFlightIsReRecordedOnResumeInOneRow() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let key = StepKey(phase: "migrate", set: "ana", index: 3, operation: "set-mailhost")
        do {
            let (journal, _) = try openJournal(dir)
            try journal.recordIntent(key, detail: "first try")
            try journal.close()  // "crash" before the result
        }
        let (journal, _) = try openJournal(dir, run: sampleRun(holder: "test-host:2"))
        defer { try? journal.close() }
        #expect(try journal.records(phase: "migrate", set: "ana") ==
                [StepRecord(key: key, detail: "first try", outcome: nil)])
        try journal.recordIntent(key, detail: "resumed")
        try journal.recordResult(key, outcome: StepOutcome(status: .done, undo: ["old": "a"]))
        #expect(try journal.records(phase: "migrate", set: "ana") ==
                [StepRecord(key: key, detail: "resumed", outcome: StepOutcome(status: .done, undo: ["old": "a"]))])
        let path = dir.path("run.journal")
        #expect(try readOnlyCount(path, "SELECT count(*) FROM steps") == 1)
        #expect(try readOnlyCount(path, "SELECT intents FROM steps") == 2)
    }

    @Test func writeAheadViolationsAreRefused() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
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
    }

    @Test func callsBeforeOpenAndAfterCloseFail() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try SQLiteJournal(path: dir.path("run.journal"))
        let key = StepKey(phase: "p", set: nil, index: 0, operation: "x")
        #expect(throws: JournalError.storage("\(journal.path) is not open")) {
            try journal.recordIntent(key, detail: "")
        }
        _ = try journal.open(run: sampleRun())
        try journal.close()
        try journal.close()  // idempotent
        #expect(throws: JournalError.self) { try journal.records(phase: "p", set: nil) }
        #expect(throws: JournalError.self) { _ = try SQLiteJournal(path: ":memory:") }
    }
}

@Suite struct ConcurrencyTests {
    /// Calls from many threads are serialized: nothing is lost or interleaved.
    @Test func manyThreadsShareOneJournal() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir, eventBatchSize: 7)
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
            // Each worker's own events stay in its order.
            let ats = try journal.events().filter { $0.set == "w\(worker)" }.map(\.at)
            #expect(ats == (0..<25).map(Double.init))
        }
        #expect(try journal.setStates(phase: "migrate").allSatisfy { $0.detail == "24" })
    }
}
