import Foundation
import Testing
import RelevoEngine
@testable import RelevoJournal

@Suite struct StateEventApprovalTests {
    @Test func setStatesKeepFirstRecordOrderAndRoundTripNil() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        do {
            let (journal, _) = try openJournal(dir)
            try journal.setState(phase: "migrate", set: "cy", .running, detail: nil)
            try journal.setState(phase: "migrate", set: "ana", .pending, detail: "waiting")
            try journal.setState(phase: "migrate", set: nil, .running, detail: "phase")
            try journal.setState(phase: "migrate", set: "cy", .migrated, detail: "12 messages")
            try journal.setState(phase: "expand", set: nil, .skipped, detail: nil)
            try journal.close()
        }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let states = try journal.setStates(phase: "migrate")
        #expect(states.map(\.set) == ["cy", "ana", nil])
        #expect(states.map(\.state) == [.migrated, .pending, .running])
        #expect(states.map(\.detail) == ["12 messages", "waiting", "phase"])
        let expand = try journal.setStates(phase: "expand")
        #expect(expand.count == 1 && expand[0].set == nil && expand[0].state == .skipped && expand[0].detail == nil)
        #expect(try journal.setStates(phase: "contract").isEmpty)
    }

    @Test func eventsKeepTheirOrderAcrossBufferingWritesAndReopen() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var expected: [EngineEvent] = []
        do {
            let (journal, _) = try openJournal(dir, eventBatchSize: 64, eventFlushInterval: .seconds(3600))
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
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        try journal.append(EngineEvent(.resumed, at: 100))
        expected.append(EngineEvent(.resumed, at: 100))
        #expect(try journal.events() == expected)
    }

    @Test func eventsWaitForTheNextDurableWriteOrTheirBatch() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("run.journal")
        let (journal, _) = try openJournal(dir, eventBatchSize: 4, eventFlushInterval: .seconds(3600))
        defer { try? journal.close() }
        for i in 0..<3 { try journal.append(EngineEvent(.setStarted, at: Double(i), set: "s\(i)")) }
        #expect(try readOnlyCount(path, "SELECT count(*) FROM events") == 0)

        // An intent writes the buffered events in its own transaction, before itself.
        try journal.recordIntent(StepKey(phase: "p", set: "s0", index: 0, operation: "x"), detail: "")
        #expect(try readOnlyCount(path, "SELECT count(*) FROM events") == 3)

        // A full batch is written by itself.
        for i in 0..<4 { try journal.append(EngineEvent(.setStarted, at: Double(i))) }
        #expect(try readOnlyCount(path, "SELECT count(*) FROM events") == 7)
    }

    @Test func eventsOlderThanTheIntervalAreWrittenAtTheNextAppend() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("run.journal")
        let (journal, _) = try openJournal(dir, eventBatchSize: 1_000, eventFlushInterval: .milliseconds(50))
        defer { try? journal.close() }
        try journal.append(EngineEvent(.phaseStarted, at: 0, phase: "p"))
        #expect(try readOnlyCount(path, "SELECT count(*) FROM events") == 0)
        Thread.sleep(forTimeInterval: 0.08)
        try journal.append(EngineEvent(.phaseFinished, at: 1, phase: "p"))
        #expect(try readOnlyCount(path, "SELECT count(*) FROM events") == 2)
    }

    @Test func approvalsKeepTheirOrderAndTheFirstApprover() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("run.journal")
        do {
            let (journal, _) = try openJournal(dir)
            try journal.recordApproval(name: "cutover", by: "ana")
            try journal.recordApproval(name: "contract", by: "--approve")
            try journal.recordApproval(name: "cutover", by: "bo")  // already approved
            // Durable at once, like the steps.
            #expect(try readOnlyCount(path, "SELECT count(*) FROM approvals") == 2)
            try journal.close()
        }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        #expect(try journal.approvals() == ["cutover", "contract"])
        let db = try Database(path: path, readOnly: true)
        #expect(try db.query("SELECT approved_by FROM approvals ORDER BY id") { $0.string(0) } == ["ana", "--approve"])
    }
}
