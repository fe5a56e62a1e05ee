import Foundation
import Testing
import RelevoEngine
@testable import RelevoJournal

/// A dry run's journal with its world attached (`attachWorld`): every
/// commit records the world's log lengths, taken inside it, and nothing
/// else makes one but the limits; what another connection sees after each
/// call is what a `kill -9` there leaves.
@Suite struct WorldTests {
    /// A stand-in for the scratch folder: one log whose length the test
    /// moves, as effects would; `mark` counts its calls and can fail once.
    final class World: @unchecked Sendable {
        private let lock = NSLock()
        private var length = 0
        private var marks = 0
        private var failNext = false
        func grow(_ bytes: Int) { lock.withLock { length += bytes } }
        func failOnce() { lock.withLock { failNext = true } }
        var markCount: Int { lock.withLock { marks } }
        struct Failure: Error {}
        func mark() throws -> [(name: String, length: Int)] {
            try lock.withLock {
                marks += 1
                if failNext {
                    failNext = false
                    throw Failure()
                }
                return [("hosts/a.changes", length), ("directories/d.changes.ldif", 2 * length)]
            }
        }
    }

    func open(_ dir: TempDir, durability: SQLiteJournal.Durability = .process) throws -> SQLiteJournal {
        let journal = try SQLiteJournal(path: dir.path("run.journal"), durability: durability)
        _ = try journal.open(run: sampleRun())
        return journal
    }

    @Test func oneCommitHoldsTheSetsAndTheWorldsLengths() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try open(dir)
        defer { try? journal.close() }
        let world = World()
        #expect(try journal.attachWorld { try world.mark() })
        #expect(try journal.holdIntents())
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        func steps() throws -> [String] {
            try reader.query("SELECT set_key || '#' || idx || ':' || coalesce(status, 'in flight') FROM steps ORDER BY id") { $0.string(0) ?? "" }
        }
        func state(_ set: String) throws -> String? {
            try reader.query("SELECT state FROM sets WHERE set_key = ?1", [.text(set)]) { $0.string(0) ?? "" }.first
        }
        func lengths() throws -> [String] {
            try reader.query("SELECT name || '=' || length FROM world_logs ORDER BY name") { $0.string(0) ?? "" }
        }
        // Attaching commits the lengths at once.
        #expect(try lengths() == ["directories/d.changes.ldif=0", "hosts/a.changes=0"])

        try journal.setStates(phase: "users", [("ana", .pending, "{}"), ("bob", .pending, "{}")])
        #expect(try state("ana") == "pending")
        // A whole set: its running state, steps, effects and end, all held.
        world.grow(10)
        try journal.setState(phase: "users", set: "ana", .running, detail: "{}")
        let copy = StepKey(phase: "users", set: "ana", index: 0, operation: "copy")
        let gate = StepKey(phase: "users", set: "ana", index: 1, operation: "maildir-superset")
        try journal.recordIntent(copy, detail: "{}")
        world.grow(5)
        try journal.recordResult(copy, outcome: StepOutcome(status: .done, evidence: "copied", bytes: 3))
        try journal.recordIntent(gate, detail: "{}")
        try journal.recordResult(gate, outcome: StepOutcome(status: .done, evidence: "superset"))
        try journal.setState(phase: "users", set: "ana", .migrated, detail: "{\"n\":1}")
        try journal.append(EngineEvent(.setMigrated, at: 1, phase: "users", set: "ana", message: "ana migrated"))
        // A kill now: the set as before it started, the world cut back to 0.
        #expect(try state("ana") == "pending")
        #expect(try steps() == [])
        #expect(try lengths() == ["directories/d.changes.ldif=0", "hosts/a.changes=0"])
        // The commit: all of it, with the lengths taken inside it.
        try journal.commitHeld()
        #expect(try state("ana") == "migrated")
        #expect(try steps() == ["ana#0:done", "ana#1:done"])
        #expect(try lengths() == ["directories/d.changes.ldif=30", "hosts/a.changes=15"])
        #expect(try reader.query("SELECT count(*) FROM events") { $0.int64(0) } == [1])
        #expect(try reader.query("SELECT detail FROM sets WHERE set_key = 'ana'") { $0.string(0) ?? "" } == ["{\"n\":1}"])

        // Nothing held, the world grown: `commitHeld` still records it.
        world.grow(1)
        try journal.commitHeld()
        #expect(try lengths() == ["directories/d.changes.ldif=32", "hosts/a.changes=16"])

        // A mark that fails fails the commit: nothing of it is written, and
        // what was held is still held for the next one.
        let bob = StepKey(phase: "users", set: "bob", index: 0, operation: "copy")
        try journal.recordIntent(bob, detail: "{}")
        world.grow(4)
        world.failOnce()
        #expect(throws: JournalError.self) { try journal.commitHeld() }
        #expect(try steps().count == 2)
        #expect(try lengths() == ["directories/d.changes.ldif=32", "hosts/a.changes=16"])
        try journal.commitHeld()
        #expect(try steps() == ["ana#0:done", "ana#1:done", "bob#0:in flight"])
        #expect(try lengths() == ["directories/d.changes.ldif=40", "hosts/a.changes=20"])
        #expect(try journal.worldLengths() == ["directories/d.changes.ldif": 40, "hosts/a.changes": 20])
    }

    @Test func whatIsHeldIsCommittedAtTheLimit() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try open(dir)
        defer { try? journal.close() }
        let world = World()
        try journal.attachWorld { try world.mark() }
        try journal.holdIntents()
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        let marks = world.markCount
        #expect(journal.hasCommitter)
        // Four writes a set: the limit is reached by the last write of set
        // heldLimit / 4, and not before.
        let sets = SQLiteJournal.heldLimit / 4
        for set in 0..<sets {
            let name = "u\(set)"
            try journal.setState(phase: "users", set: name, .running, detail: nil)
            let key = StepKey(phase: "users", set: name, index: 0, operation: "copy")
            try journal.recordIntent(key, detail: "")
            world.grow(1)
            try journal.recordResult(key, outcome: StepOutcome(status: .done))
            if set == sets - 1 {
                try journal.waitForCommits()
                #expect(try reader.query("SELECT count(*) FROM steps") { $0.int64(0) } == [0])
                #expect(world.markCount == marks)
            }
            try journal.setState(phase: "users", set: name, .migrated, detail: nil)
        }
        // Handed to the committer thread, with the marks taken then.
        #expect(world.markCount == marks + 1)
        world.grow(100)
        try journal.waitForCommits()
        let set = sets
        // The commit holds every set so far, whole, and the world's length with them.
        #expect(try reader.query("SELECT count(*) FROM sets WHERE state = 'migrated'") { $0.int64(0) } == [Int64(set)])
        #expect(try reader.query("SELECT length FROM world_logs WHERE name = 'hosts/a.changes'") { $0.int64(0) } == [Int64(set)])
        // `running` states replaced in the same commit were not written at
        // all: the rows are in the order the sets started.
        #expect(try reader.query("SELECT set_key FROM sets ORDER BY id LIMIT 3") { $0.string(0) ?? "" } == ["u0", "u1", "u2"])
    }

    @Test func aLiveJournalOrAResumedOneDoesNotHoldSets() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let live = try open(dir, durability: .disk)
        #expect(try !live.attachWorld { [] })
        try live.close()

        let dir2 = try TempDir()
        defer { dir2.remove() }
        let first = try open(dir2)
        let world = World()
        try first.attachWorld { try world.mark() }
        try first.holdIntents()
        try first.recordIntent(StepKey(phase: "p", set: nil, index: 0, operation: "copy"), detail: "")
        world.grow(7)
        try first.close()
        // Resumed: the lengths of the last commit (close's) are there; the
        // world is attached again, but sets are written as they end.
        let resumed = try open(dir2)
        defer { try? resumed.close() }
        #expect(try resumed.worldLengths() == ["directories/d.changes.ldif": 14, "hosts/a.changes": 7])
        #expect(try resumed.attachWorld { try world.mark() })
        #expect(try !resumed.holdIntents())
        let reader = try Database(path: dir2.path("run.journal"), readOnly: true)
        try resumed.setState(phase: "users", set: "ana", .migrated, detail: nil)
        #expect(try reader.query("SELECT state FROM sets") { $0.string(0) ?? "" } == ["migrated"])
        world.grow(1)
        try resumed.recordIntent(StepKey(phase: "p", set: nil, index: 1, operation: "chown"), detail: "")
        #expect(try reader.query("SELECT length FROM world_logs WHERE name = 'hosts/a.changes'") { $0.int64(0) } == [8])
    }

    /// A commit the committer thread cannot make stops it: no later
    /// commit is made (it would leave a gap), and every call throws.
    @Test func aFailedCommitStopsTheCommitsAndIsReported() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try open(dir)
        defer { try? journal.close() }
        let world = World()
        try journal.attachWorld { try world.mark() }
        try journal.holdIntents()
        #expect(journal.hasCommitter)
        // Another connection makes every new event fail.
        let other = try Database(path: dir.path("run.journal"))
        try other.execute("CREATE TRIGGER boom BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'boom'); END")
        other.close()
        for n in 0..<SQLiteJournal.heldLimit {
            try journal.append(EngineEvent(.stepDone, at: Double(n), phase: "users", set: "ana", message: "event"))
        }
        #expect(throws: JournalError.self) { try journal.waitForCommits() }
        #expect(throws: JournalError.self) { try journal.setState(phase: "users", set: "ana", .migrated, detail: nil) }
        #expect(throws: JournalError.self) { try journal.commitHeld() }
        let reader = try Database(path: dir.path("run.journal"), readOnly: true)
        #expect(try reader.query("SELECT count(*) FROM events") { $0.int64(0) } == [0])
    }

    @Test func aJournalWithoutAWorldHasNoLengths() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let journal = try open(dir)
        defer { try? journal.close() }
        #expect(try journal.worldLengths() == [:])
    }
}

/// Held intents and results of one step (a lookup each) against the
/// general code of several: seeded random calls, repeats and wrong orders
/// included, give the same errors and the same rows.
@Suite struct HeldFastPathTests {
    @Test(arguments: [1, 7, 42, 20261204] as [UInt64])
    func oneStepCallsMatchTheGeneralCode(seed: UInt64) throws {
        let dirs = (try TempDir(), try TempDir())
        defer { dirs.0.remove(); dirs.1.remove() }
        func open(_ dir: TempDir, general: Bool) throws -> SQLiteJournal {
            let journal = try SQLiteJournal(path: dir.path("run.journal"), durability: .process)
            _ = try journal.open(run: sampleRun())
            #expect(try journal.holdIntents())
            if general { try journal.useGeneralHoldingCode() }
            return journal
        }
        let fast = try open(dirs.0, general: false), general = try open(dirs.1, general: true)
        defer { try? fast.close(); try? general.close() }
        var state = seed | 1
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let keys = (0..<8).map { StepKey(phase: "users", set: $0 < 4 ? "ana" : "bob", index: $0 % 4, operation: "op\($0 % 4)") }
        var errors: [(Bool, Bool)] = []
        for call in 0..<300 {
            let key = keys[next(keys.count)]
            if next(2) == 0 {
                let detail = "{\"call\":\(call)}"
                let a = (try? fast.recordIntent(key, detail: detail)) == nil
                let b = (try? general.recordIntent(key, detail: detail)) == nil
                errors.append((a, b))
            } else {
                let outcome = StepOutcome(status: next(3) == 0 ? .failed : .done, evidence: "e\(next(2))", bytes: Int64(next(5)))
                let a = (try? fast.recordResult(key, outcome: outcome)) == nil
                let b = (try? general.recordResult(key, outcome: outcome)) == nil
                errors.append((a, b))
            }
            if next(25) == 0 { try fast.commitHeld(); try general.commitHeld() }
        }
        #expect(errors.map(\.0) == errors.map(\.1))
        #expect(errors.contains { $0.0 }, "some calls break the rules")
        func rows(_ journal: SQLiteJournal, _ dir: TempDir) throws -> [String] {
            try journal.commitHeld()
            let reader = try Database(path: dir.path("run.journal"), readOnly: true)
            return try reader.query("""
                SELECT id, set_key, idx, operation, detail, intents, coalesce(status, '-'), coalesce(evidence, '-'), coalesce(bytes, -1)
                FROM steps ORDER BY id
                """) { row in (0..<9).map { row.string($0) ?? "" }.joined(separator: "|") }
        }
        let (a, b) = (try rows(fast, dirs.0), try rows(general, dirs.1))
        #expect(a == b)
        #expect(a.count == keys.count)
    }
}
