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
