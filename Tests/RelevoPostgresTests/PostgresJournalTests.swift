// What only the PostgreSQL store has: its URL, its run lock across
// processes, a lost connection. (The protocol's rules: JournalConformanceTests.)
import Foundation
import Testing
import RelevoEngine
@testable import RelevoPostgres
import TestbedSupport

func sampleRun(holder: String = "test-host:1") -> RunInfo {
    RunInfo(mode: "run", planName: "exalumnos", planDigest: String(repeating: "ab", count: 32),
            startedAt: Date(timeIntervalSinceReferenceDate: 798_765_432.5), seed: 1, holder: holder)
}

/// A run of its own in the shared cluster, dropped by `remove()`.
struct TestRun {
    let server: PostgresServer
    let name: String
    var url: String { server.journalURL(run: name) }

    init(_ prefix: String = "pg") throws {
        server = try PostgresServer.shared()
        name = PostgresServer.uniqueRun(prefix)
    }

    /// A connection of the tests' own (the relevo role), on the run's schema.
    func connection() throws -> PGConnection {
        try PostgresJournal.connect(try PostgresLocation(parsing: url), environment: ProcessInfo.processInfo.environment,
                                    applicationName: "relevo test")
    }

    func remove() {
        if let db = try? connection() {
            _ = try? db.exec("DROP SCHEMA IF EXISTS relevo_\(name) CASCADE")
            db.close()
        }
    }
}

@Suite struct PostgresLocationTests {
    @Test func aJournalURLNamesItsRunAndAPasswordReferenceOnly() throws {
        let location = try PostgresLocation(parsing: "postgresql://relevo@127.0.0.74:5544/relevo?run=may_2026&password=env:PGPW")
        #expect(location.user == "relevo" && location.host == "127.0.0.74" && location.port == 5544)
        #expect(location.database == "relevo" && location.run == "may_2026" && location.schema == "relevo_may_2026")
        #expect(location.password?.description == "env:PGPW")
        #expect(try PostgresLocation(parsing: "postgres://u@h/db?run=r").port == 5432)

        func refusal(_ url: String) -> String {
            do {
                _ = try PostgresLocation(parsing: url)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        // A password in the URL is on a command line: refused, and not repeated.
        let inline = refusal("postgresql://relevo:hunter2@h/db?run=r")
        #expect(inline.contains("visible to every local user") && !inline.contains("hunter2"))
        #expect(refusal("postgresql://relevo@h/db?run=r&password=hunter2").contains("secret reference"))
        #expect(refusal("postgresql://relevo@h/db").contains("?run=NAME"))
        #expect(refusal("postgresql://relevo@h/db?run=Bad-Name").contains("lower-case"))
        #expect(refusal("postgresql://relevo@h/db?run=r&schema=x").contains("unknown journal URL parameter 'schema'"))
        #expect(refusal("postgresql://h/db?run=r").contains("needs a user"))
        #expect(refusal("postgresql://u@h?run=r").contains("needs a database"))
    }

    @Test func thePasswordComesFromItsReferenceOrPGPASSFILE() throws {
        let run = try TestRun()
        defer { run.remove() }
        let password = try String(contentsOfFile: run.server.passwordFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let base = "\(run.server.url)?run=\(run.name)"
        // env: reference.
        let byEnv = try PostgresJournal(url: base + "&password=env:TEST_PG_PASSWORD",
                                        environment: ["TEST_PG_PASSWORD": password])
        _ = try byEnv.open(run: sampleRun())
        try byEnv.close()
        // PGPASSFILE, read by libpq itself.
        let passfile = run.server.variables["RELEVO_PG_PASSFILE"] ?? ""
        setenv("PGPASSFILE", passfile, 1)
        defer { unsetenv("PGPASSFILE") }
        let byPassfile = try PostgresJournal(url: base)
        _ = try byPassfile.open(run: sampleRun())
        try byPassfile.close()
        // A wrong password: refused, and the message does not hold it.
        let wrong = try PostgresJournal(url: base + "&password=env:TEST_PG_PASSWORD",
                                        environment: ["TEST_PG_PASSWORD": "not-the-password-xyzzy"])
        do {
            _ = try wrong.open(run: sampleRun())
            Issue.record("a wrong password was accepted")
        } catch {
            #expect("\(error)".contains("password authentication failed"))
            #expect(!"\(error)".contains("xyzzy"))
        }
    }
}

@Suite struct PostgresLockTests {
    /// Another process (psql) holds the run's advisory lock as relevo would:
    /// the open is refused naming it; once it is SIGKILLed, the server
    /// releases the lock and the open succeeds.
    @Test func aRunHeldByAnotherProcessIsRefusedUntilThatProcessIsKilled() throws {
        let run = try TestRun()
        defer { run.remove() }
        let journal = try PostgresJournal(url: run.url)
        _ = try journal.open(run: sampleRun())  // creates the schema
        try journal.close()

        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        psql.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-", run.server.url]
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSFILE"] = run.server.variables["RELEVO_PG_PASSFILE"]
        environment["PGAPPNAME"] = "relevo otherhost:4242"
        psql.environment = environment
        let stdin = Pipe(), stdout = Pipe()
        psql.standardInput = stdin
        psql.standardOutput = stdout
        try psql.run()
        defer {
            if psql.isRunning { kill(psql.processIdentifier, SIGKILL) }
            psql.waitUntilExit()
        }
        // psql stays idle on its stdin after this, holding the session.
        stdin.fileHandleForWriting.write(Data("""
            SELECT pg_advisory_lock(\(PostgresJournal.lockClass), hashtext('relevo_\(run.name)'));
            SELECT 'locked';

            """.utf8))
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("locked") {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            said += chunk
        }
        try #require(String(decoding: said, as: UTF8.self).contains("locked"))

        #expect(throws: JournalError.locked(holder: "otherhost:4242")) { _ = try journal.open(run: sampleRun(holder: "me:1")) }

        kill(psql.processIdentifier, SIGKILL)
        psql.waitUntilExit()
        // The server ends the dead client's session (and its lock) when the socket closes.
        var opened: RunInfo?
        for _ in 0..<50 where opened == nil {
            opened = try? journal.open(run: sampleRun(holder: "me:1"))
            if opened == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(opened?.holder == "me:1")
        try journal.close()
    }

    /// pg_terminate_backend on the holder's connection: its next write fails
    /// (and every one after: it never reconnects, the lock went with the
    /// session), and another process can take the run.
    @Test func aLostConnectionStopsEveryWriteAndFreesTheRun() throws {
        let run = try TestRun()
        defer { run.remove() }
        let journal = try PostgresJournal(url: run.url)
        _ = try journal.open(run: sampleRun(holder: "first:1"))
        let key = StepKey(phase: "migrate", set: "ana", index: 0, operation: "redirect")
        try journal.recordIntent(key, detail: "before the cut")
        let pid = try journal.backendPID()

        let admin = try run.connection()
        defer { admin.close() }
        #expect(try admin.exec("SELECT pg_terminate_backend($1)", [.int(Int64(pid))]).first?.bool(0) == true)

        do {
            try journal.recordResult(key, outcome: StepOutcome(status: .done))
            Issue.record("a write on a terminated connection succeeded")
        } catch {
            #expect("\(error)".contains("connection to PostgreSQL was lost"))
        }
        #expect(throws: JournalError.self) { try journal.recordIntent(key, detail: "again") }
        #expect(throws: JournalError.self) { _ = try journal.records(phase: "migrate", set: "ana") }

        let second = try PostgresJournal(url: run.url)
        #expect(try second.open(run: sampleRun(holder: "second:2")).holder == "second:2")
        // The intent survived; the result never reached the journal.
        #expect(try second.records(phase: "migrate", set: "ana") == [StepRecord(key: key, detail: "before the cut", outcome: nil)])
        try second.close()
        try journal.close()
    }

    @Test func runsOfOneDatabaseAreApart() throws {
        let a = try TestRun(), b = try TestRun()
        defer { a.remove(); b.remove() }
        let first = try PostgresJournal(url: a.url), second = try PostgresJournal(url: b.url)
        _ = try first.open(run: sampleRun(holder: "a:1"))
        _ = try second.open(run: sampleRun(holder: "b:1"))  // another run: not locked
        try first.setState(phase: "migrate", set: "ana", .migrated, detail: nil)
        #expect(try second.setStates(phase: "migrate").isEmpty)
        try first.close()
        try second.close()
        #expect(try PostgresJournal.exists(url: a.url))
        #expect(try !PostgresJournal.exists(url: a.server.journalURL(run: PostgresServer.uniqueRun("none"))))
    }
}
