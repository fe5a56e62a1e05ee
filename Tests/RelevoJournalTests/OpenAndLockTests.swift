import Foundation
import Testing
import RelevoEngine
@testable import RelevoJournal

@Suite struct OpenAndLockTests {
    // The protocol's open rules (stored run, new holder, another plan or
    // mode refused, a second open refused naming the holder) are checked
    // against every store in JournalConformanceTests; here, the flock itself.
    @Test func aSecondOpenWritesItsHolderInTheLockFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (first, _) = try openJournal(dir, run: sampleRun(holder: "alpha:100"))
        let second = try SQLiteJournal(path: dir.path("run.journal"))
        #expect(throws: JournalError.locked(holder: "alpha:100")) {
            _ = try second.open(run: sampleRun(holder: "beta:200"))
        }
        try first.close()
        #expect(try second.open(run: sampleRun(holder: "beta:200")).holder == "beta:200")
        #expect(try String(contentsOfFile: second.lockPath, encoding: .utf8) == "beta:200\n")
        try second.close()
    }

    @Test func aRunHeldByAnotherProcessIsRefusedUntilThatProcessIsKilled() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try SQLiteJournal(path: dir.path("run.journal"))

        // A child that locks PATH.lock with flock(1), names itself in it, says
        // "locked" and waits on its stdin (a shell builtin: one process).
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", """
            exec 9<>"$1" && /usr/bin/flock -n 9 || exit 3
            printf 'otherhost:%s\\n' "$$" >"$1"
            echo locked
            read line
            """, "sh", journal.lockPath]
        let stdin = Pipe(), stdout = Pipe()
        child.standardInput = stdin
        child.standardOutput = stdout
        try child.run()
        defer {
            if child.isRunning { kill(child.processIdentifier, SIGKILL) }
            child.waitUntilExit()
        }
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("locked\n") {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // the child exited
            said += chunk
        }
        try #require(String(decoding: said, as: UTF8.self) == "locked\n")

        #expect(throws: JournalError.locked(holder: "otherhost:\(child.processIdentifier)")) {
            _ = try journal.open(run: sampleRun(holder: "me:1"))
        }

        // The kernel releases the lock of a killed process.
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(try journal.open(run: sampleRun(holder: "me:1")).holder == "me:1")
        #expect(try String(contentsOfFile: journal.lockPath, encoding: .utf8) == "me:1\n")
        try journal.close()
    }

    @Test func aFileThatIsNotAJournalIsRefused() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("other.db")
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE t (x)")
        }
        let journal = try SQLiteJournal(path: path)
        #expect(throws: JournalError.storage("\(path) is an SQLite file but not a relevo journal")) {
            _ = try journal.open(run: sampleRun())
        }
        let text = dir.path("text.journal")
        try "hello, not sqlite\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: JournalError.self) { _ = try SQLiteJournal(path: text).open(run: sampleRun()) }
    }

    @Test func aMissingDirectoryIsAStorageError() throws {
        let journal = try SQLiteJournal(path: "/nonexistent-relevo-dir/run.journal")
        #expect(throws: JournalError.self) { _ = try journal.open(run: sampleRun()) }
        // Paths that cannot be locked are refused before any file is touched.
        #expect(throws: JournalError.self) { _ = try SQLiteJournal(path: ":memory:") }
    }

    /// A child forked while the journal was open (by another thread, on its
    /// way to exec) shares the lock's open file description; closing the
    /// journal must release the lock anyway.
    @Test func closeReleasesTheLockEvenWhileAForkedChildSharesIt() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        let child = fork()
        if child == 0 {
            // The child holds the descriptors until it exits; only
            // async-signal-safe calls here.
            sleep(20)
            _exit(0)
        }
        try #require(child > 0)
        defer {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        try journal.close()
        let again = try SQLiteJournal(path: dir.path("run.journal"))
        _ = try again.open(run: sampleRun())
        try again.close()
    }
}
