import Foundation
import Testing
import RelevoEngine
@testable import RelevoJournal

@Suite struct DurabilityTests {
    /// What a write returned is committed: another connection sees it while
    /// the writer is still open (not merely buffered in the writer).
    @Test func aReturnedWriteIsVisibleToAnIndependentConnection() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("run.journal")
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let key = StepKey(phase: "migrate", set: "ana", index: 1, operation: "copy-mailbox")

        try journal.recordIntent(key, detail: "copy")
        let reader = try Database(path: path, readOnly: true)
        let status = "SELECT count(*), count(status) FROM steps WHERE set_key = 'ana'"
        #expect(try reader.query(status) { [$0.int64(0), $0.int64(1)] }.first == [1, 0])

        try journal.recordResult(key, outcome: StepOutcome(status: .done, undo: ["created": "INBOX.1"], bytes: 10))
        #expect(try reader.query(status) { [$0.int64(0), $0.int64(1)] }.first == [1, 1])
        #expect(try reader.query("SELECT undo_json FROM steps") { $0.string(0) } == [#"{"created":"INBOX.1"}"#])

        try journal.setState(phase: "migrate", set: "ana", .migrated, detail: nil)
        #expect(try reader.query("SELECT state FROM sets") { $0.string(0) } == ["migrated"])
    }

    /// A phase's member list is written all at once or not at all: an
    /// entry that cannot be written leaves none of the others.
    @Test func manySetStatesAreOneWrite() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let members = (0..<500).map { (set: "user\($0)", state: SetState.pending, detail: Optional("{}")) }
        #expect(throws: (any Error).self) {
            try journal.setStates(phase: "users", members + [(set: "", state: .pending, detail: nil)] + members)
        }
        #expect(try journal.setStates(phase: "users").isEmpty)
        try journal.setStates(phase: "users", members)
        let written = try journal.setStates(phase: "users")
        #expect(written.map(\.set) == members.map(\.set))
        #expect(written.allSatisfy { $0.state == .pending })
    }

    @Test func theFileIsInWALMode() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        #expect(try reader.pragmaText("journal_mode") == "wal")
        #expect(try reader.pragmaInteger("user_version") == Schema.version)
        #expect(try reader.pragmaInteger("application_id") == Schema.applicationID)
    }

    /// SQLite does not sync commits (the journal syncs the WAL itself, see
    /// SQLiteJournal.write); every write is committed and visible at once,
    /// results included.
    @Test func commitsAreNotSyncedBySQLiteButVisibleAtOnce() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        #expect(try journal.synchronousMode() == 1)
        #expect(FileManager.default.fileExists(atPath: dir.path("run.journal") + "-wal"))
        let key = StepKey(phase: "migrate", set: "ana", index: 0, operation: "copy")
        try journal.recordIntent(key, detail: "copy")
        try journal.recordResult(key, outcome: StepOutcome(status: .done, bytes: 1))
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        #expect(try reader.query("SELECT status FROM steps") { $0.string(0) } == ["done"])
        #expect(throws: (any Error).self) {
            try journal.recordResult(StepKey(phase: "migrate", set: "bob", index: 0, operation: "copy"),
                                     outcome: StepOutcome(status: .done))
        }
        #expect(try reader.query("SELECT count(*) FROM steps") { $0.int64(0) } == [1], "a refused write leaves nothing")
    }

    /// `.disk` syncs every write but results; `.process` (a dry run's)
    /// commits the same writes, visible at once, and syncs none.
    @Test(arguments: [SQLiteJournal.Durability.disk, .process])
    func durabilityDecidesTheSyncsNotTheCommits(_ durability: SQLiteJournal.Durability) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try SQLiteJournal(path: dir.path("run.journal"), durability: durability)
        _ = try journal.open(run: RunInfo(mode: "simulate", planName: "p", planDigest: "d", startedAt: Date(), seed: 1, holder: "t"))
        defer { try? journal.close() }
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        for (i, set) in ["ana", "bob", "cy"].enumerated() {
            let key = StepKey(phase: "users", set: set, index: 0, operation: "copy")
            try journal.recordIntent(key, detail: "copy")
            try journal.recordResult(key, outcome: StepOutcome(status: .done, bytes: 1))
            try journal.setState(phase: "users", set: set, .migrated, detail: nil)
            #expect(try reader.query("SELECT count(status) FROM steps") { $0.int64(0) } == [Int64(i + 1)])
        }
        #expect(journal.syncCount == (durability == .disk ? 6 : 0))
    }

    /// A batch's intents are one write and one sync, all or none; its
    /// results one write and no sync.
    @Test func aBatchsIntentsAreOneSyncedWriteAllOrNone() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let keys = ["ana", "bob", "cy"].map { StepKey(phase: "users", set: $0, index: 0, operation: "copy") }
        let before = journal.syncCount
        try journal.recordIntents(keys.map { ($0, "copy") })
        #expect(journal.syncCount == before + 1)
        try journal.recordResults(keys.map { ($0, StepOutcome(status: .done, bytes: 1)) })
        #expect(journal.syncCount == before + 1)
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        #expect(try reader.query("SELECT count(status) FROM steps") { $0.int64(0) } == [3])

        // A second batch whose last intent is refused (a result exists for
        // it): none of the batch is written.
        let next = ["ana", "bob"].map { StepKey(phase: "users", set: $0, index: 1, operation: "chown") }
        #expect(throws: (any Error).self) { try journal.recordIntents(next.map { ($0, "chown") } + [(keys[2], "copy")]) }
        #expect(try reader.query("SELECT count(*) FROM steps WHERE idx = 1") { $0.int64(0) } == [0])
        // Results likewise: one without an intent refuses the whole write.
        try journal.recordIntents(next.map { ($0, "chown") })
        #expect(throws: (any Error).self) {
            try journal.recordResults(next.map { ($0, StepOutcome(status: .done)) }
                                      + [(StepKey(phase: "users", set: "dee", index: 1, operation: "chown"), StepOutcome(status: .done))])
        }
        #expect(try reader.query("SELECT count(status) FROM steps WHERE idx = 1") { $0.int64(0) } == [0])
    }

    /// The same, seen from another process: the sqlite3 shell, when installed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")))
    func aReturnedResultIsVisibleToAnotherProcess() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let key = StepKey(phase: "cutover", set: nil, index: 0, operation: "redirect")
        try journal.recordIntent(key, detail: "")
        try journal.recordResult(key, outcome: StepOutcome(status: .done, undo: ["mailHost": "old"]))

        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        shell.arguments = ["-readonly", dir.path("run.journal"),
                           "SELECT quote(set_key), status, undo_json FROM steps"]
        let out = Pipe()
        shell.standardOutput = out
        try shell.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        #expect(text == #"''|done|{"mailHost":"old"}"# + "\n")
    }
}

@Suite struct DatabaseTests {
    @Test func valuesRoundTripIncludingNULsEmptyBlobsAndNull() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB)")
        try db.run("INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
                   [.integer(Int64.min), .real(-0.5), .text("a\u{0}b ✓"), .blob([0, 255, 0])])
        try db.run("INSERT INTO t VALUES (?1, ?2, ?3, ?4)", [.null, .null, .text(""), .blob([])])
        let rows = try db.query("SELECT i, r, s, b FROM t ORDER BY rowid") { row in
            (row.isNull(0) ? nil : row.int64(0), row.isNull(1) ? nil : row.double(1), row.string(2), row.blob(3))
        }
        #expect(rows.count == 2)
        #expect(rows[0].0 == Int64.min && rows[0].1 == -0.5 && rows[0].2 == "a\u{0}b ✓" && rows[0].3 == [0, 255, 0])
        #expect(rows[1].0 == nil && rows[1].1 == nil && rows[1].2 == "" && rows[1].3 == [])
    }

    @Test func failuresCarrySQLitesMessage() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (x TEXT NOT NULL UNIQUE)")
        try db.run("INSERT INTO t VALUES (?1)", [.text("a")])
        let error = try #require(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES (?1)", [.text("a")]) }
        #expect(error.message.contains("UNIQUE constraint failed: t.x"))
        #expect(error.code == 19)  // SQLITE_CONSTRAINT
        #expect(throws: SQLiteError.self) { _ = try db.prepare("SELEKT 1") }
        #expect(throws: SQLiteError.self) { _ = try Database(path: "/nonexistent-relevo-dir/x.db", readOnly: true) }
    }

    @Test func aFailedTransactionRollsBack() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (x INTEGER)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(db.isAutocommit)
        #expect(try db.query("SELECT count(*) FROM t") { $0.int64(0) } == [0])
    }
}

/// A dry run's journal with its world in memory (`holdIntents`): what
/// another connection sees after each call is what a `kill -9` at that
/// point leaves (a commit is in the WAL, in the operating system; what is
/// held is in the dead process only).
@Suite struct HeldWritesTests {
    func open(_ dir: TempDir, durability: SQLiteJournal.Durability = .process) throws -> SQLiteJournal {
        let journal = try SQLiteJournal(path: dir.path("run.journal"), durability: durability)
        _ = try journal.open(run: sampleRun())
        return journal
    }

    @Test func whatAKillLeavesAtEachPoint() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try open(dir)
        defer { try? journal.close() }
        #expect(try journal.holdIntents())
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        func steps() throws -> [String] {
            try reader.query("SELECT set_key || '#' || idx || ':' || coalesce(status, 'in flight') FROM steps ORDER BY id") { $0.string(0) ?? "" }
        }
        func state(_ set: String) throws -> String? {
            try reader.query("SELECT state FROM sets WHERE set_key = ?1", [.text(set)]) { $0.string(0) ?? "" }.first
        }
        let copy = StepKey(phase: "users", set: "ana", index: 0, operation: "copy")
        let gate = StepKey(phase: "users", set: "ana", index: 1, operation: "maildir-superset")

        // The member list is written at once, as ever.
        try journal.setStates(phase: "users", [("ana", .pending, "{}"), ("bob", .pending, "{}")])
        #expect(try state("ana") == "pending")
        // The set starts and its first step's intent is recorded: held. A
        // kill now leaves the set pending without records, and the step's
        // effect has not reached the disk either (the world commits first).
        try journal.setState(phase: "users", set: "ana", .running, detail: "{}")
        try journal.recordIntent(copy, detail: "{}")
        #expect(try state("ana") == "pending")
        #expect(try steps() == [])
        // The world is about to write the copy's effect: all of it is committed.
        try journal.commitHeld()
        #expect(try state("ana") == "running")
        #expect(try steps() == ["ana#0:in flight"])
        // The result and the gate (which writes nothing) are held: a kill
        // leaves the copy in flight, which resume reads back or runs again.
        try journal.recordResult(copy, outcome: StepOutcome(status: .done, evidence: "copied", bytes: 3))
        try journal.recordIntent(gate, detail: "{}")
        try journal.recordResult(gate, outcome: StepOutcome(status: .done, evidence: "superset"))
        #expect(try steps() == ["ana#0:in flight"])
        // The set's end is written at once, with everything before it: the
        // gate's intent and result as one row.
        try journal.setState(phase: "users", set: "ana", .migrated, detail: "{}")
        #expect(try state("ana") == "migrated")
        #expect(try steps() == ["ana#0:done", "ana#1:done"])
        #expect(try reader.query("SELECT intents, evidence, intent_at <= result_at FROM steps WHERE idx = 1") {
            "\($0.int64(0)) \($0.string(1) ?? "") \($0.int64(2))"
        } == ["1 superset 1"])
        #expect(try journal.records(phase: "users", set: "ana").map(\.outcome?.bytes) == [3, 0])

        // A read sees what is held (it commits first).
        let bob = StepKey(phase: "users", set: "bob", index: 0, operation: "copy")
        try journal.recordIntent(bob, detail: "{}")
        #expect(try steps().count == 2)
        #expect(try journal.records(phase: "users", set: "bob").count == 1)
        #expect(try steps().count == 3)
        // A step seen before is checked at once, as without holding: no
        // second intent for a step that has a result.
        #expect(throws: JournalError.self) { try journal.recordIntent(copy, detail: "{}") }
    }

    @Test func onlyAFreshDryRunJournalHolds() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let live = try open(dir, durability: .disk)
        #expect(try !live.holdIntents())
        try live.recordIntent(StepKey(phase: "p", set: nil, index: 0, operation: "copy"), detail: "")
        try live.close()
        // Resumed: the journal held steps when opened; intents are written at once.
        let resumed = try open(dir)
        defer { try? resumed.close() }
        #expect(try !resumed.holdIntents())
        try resumed.recordIntent(StepKey(phase: "p", set: nil, index: 1, operation: "chown"), detail: "")
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        #expect(try reader.query("SELECT count(*) FROM steps") { $0.int64(0) } == [2])
    }

    /// The summary's totals from one query equal what the records say.
    @Test func totalsCountGatesBytesAndMessagesOfTheRecords() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try open(dir)
        defer { try? journal.close() }
        try journal.setStates(phase: "users", [("ana", .pending, nil), ("bob", .pending, nil)])
        func step(_ set: String?, _ phase: String, _ index: Int, _ status: StepOutcome.Status?, bytes: Int64 = 0,
                  messages: Int = 0, undo: Bool = false) throws {
            let key = StepKey(phase: phase, set: set, index: index, operation: "op\(index)", undo: undo)
            try journal.recordIntent(key, detail: "")
            if let status { try journal.recordResult(key, outcome: StepOutcome(status: status, bytes: bytes, messages: messages)) }
        }
        try step("ana", "users", 0, .done, bytes: 100, messages: 2)
        try step("ana", "users", 0, .done, bytes: 7, messages: 1, undo: true)
        try step("ana", "users", 1, .failed, bytes: 50)
        try step("ana", "users", 2, .done)
        try step("bob", "users", 0, .done, bytes: 10, messages: 1)
        try step("bob", "users", 2, .failed)
        try step("bob", "users", 3, nil)
        try step(nil, "directory", 0, .done, bytes: 1000)
        try step(nil, "directory", 1, .done)
        #expect(try journal.totals(phase: "users", perSet: true, firstGate: 2)
                == JournalTotals(gatesPassed: 1, gatesFailed: 1, bytes: 110, messages: 3))
        #expect(try journal.totals(phase: "directory", perSet: false, firstGate: 1)
                == JournalTotals(gatesPassed: 1, gatesFailed: 0, bytes: 1000, messages: 0))
        #expect(try journal.totals(phase: "users", perSet: false, firstGate: 2) == JournalTotals())
    }
}
