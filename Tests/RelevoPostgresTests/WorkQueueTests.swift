// The work queue's claims and leases on the real PostgreSQL, without a
// testbed: two workers' stores on one run whose member list a controller wrote.
import Foundation
import Testing
import RelevoEngine
@testable import RelevoPostgres

@Suite struct WorkQueueClaimTests {
    /// A controller (run lock) with the member list of phase `users`, and two workers.
    struct Queue {
        let run: TestRun
        let controller: PostgresJournal
        let a: WorkQueue, b: WorkQueue

        init(members: [String], lease: Double = 30) throws {
            run = try TestRun("wq")
            controller = try PostgresJournal(url: run.url)
            _ = try controller.open(run: sampleRun(holder: "controller:1"))
            try controller.setStates(phase: "users", members.map { ($0, .pending, "{}") })
            a = try Self.worker("a", run: run, lease: lease)
            b = try Self.worker("b", run: run, lease: lease)
        }

        static func worker(_ name: String, run: TestRun, lease: Double) throws -> WorkQueue {
            let journal = try PostgresJournal(url: run.url, access: .worker(owner: name))
            _ = try journal.open(run: RunInfo(mode: "", planName: "exalumnos", planDigest: String(repeating: "ab", count: 32),
                                              startedAt: Date(), seed: 0, holder: name))
            let queue = WorkQueue(journal: journal, owner: name, leaseSeconds: lease)
            try queue.register()
            return queue
        }

        func close() {
            try? a.journal.close()
            try? b.journal.close()
            try? controller.close()
            run.remove()
        }
    }

    @Test func aLiveLeaseIsNeverClaimedTwiceAndAWorkerWritesOnlyUnderItsLease() throws {
        let q = try Queue(members: ["ana", "bo"])
        defer { q.close() }
        let first = try #require(try q.a.claim(phase: "users", hosts: [:], phaseLimit: 10, canary: 0))
        let second = try #require(try q.b.claim(phase: "users", hosts: [:], phaseLimit: 10, canary: 0))
        #expect(first.set == "ana" && second.set == "bo" && first.claims == 1)
        #expect(try q.a.claim(phase: "users", hosts: [:], phaseLimit: 10, canary: 0) == nil, "nothing left")

        let ana = StepKey(phase: "users", set: "ana", index: 0, operation: "copy")
        try q.a.journal.recordIntent(ana, detail: "")
        // b holds no lease on ana: refused, in the same transaction as the write.
        #expect(throws: JournalError.self) { try q.b.journal.recordResult(ana, outcome: StepOutcome(status: .done)) }
        #expect(throws: JournalError.self) { try q.b.journal.setState(phase: "users", set: "ana", .migrated, detail: nil) }
        // Global scopes, member lists and approvals are the controller's.
        #expect(throws: JournalError.self) { try q.a.journal.recordIntent(StepKey(phase: "directory", set: nil, index: 0, operation: "x"), detail: "") }
        #expect(throws: JournalError.self) { try q.a.journal.recordApproval(name: "go", by: "a") }
        #expect(throws: JournalError.self) { try q.a.journal.setStates(phase: "users", [("cy", .pending, nil)]) }
        try q.a.journal.recordResult(ana, outcome: StepOutcome(status: .done))
        #expect(try q.a.renew(first))
        try q.a.release(first, state: .migrated)
        #expect(try !q.a.renew(first), "a released lease is not renewed")
    }

    @Test func anExpiredLeaseIsTakenOverAndItsOldOwnerStops() throws {
        let q = try Queue(members: ["ana"], lease: 1)
        defer { q.close() }
        let first = try #require(try q.a.claim(phase: "users", hosts: [:], phaseLimit: 10, canary: 0))
        let key = StepKey(phase: "users", set: "ana", index: 0, operation: "redirect")
        try q.a.journal.recordIntent(key, detail: "mailHost=old")
        #expect(try q.b.claim(phase: "users", hosts: [:], phaseLimit: 10, canary: 0) == nil)
        Thread.sleep(forTimeInterval: 1.3)
        // Expired: a's writes are refused, even before anyone takes over.
        #expect(throws: JournalError.self) { try q.a.journal.recordResult(key, outcome: StepOutcome(status: .done)) }
        let taken = try #require(try q.b.claim(phase: "users", hosts: [:], phaseLimit: 10, canary: 0))
        #expect(taken.set == "ana" && taken.claims == 2)
        #expect(try !q.a.renew(first), "the old owner cannot renew a lease it lost")
        // The new owner finds the intent in flight and finishes the step.
        #expect(try q.b.journal.records(phase: "users", set: "ana") == [StepRecord(key: key, detail: "mailHost=old", outcome: nil)])
        try q.b.journal.recordResult(key, outcome: StepOutcome(status: .done))
    }

    @Test func hostAndPhaseLimitsAndCanariesHoldAcrossWorkers() throws {
        let q = try Queue(members: ["c1", "s1", "s2", "s3"])
        defer { q.close() }
        // The canary runs alone: nothing else while it is leased or unfinished.
        let canary = try #require(try q.a.claim(phase: "users", hosts: ["neon": 2], phaseLimit: 10, canary: 1))
        #expect(canary.set == "c1")
        #expect(try q.b.claim(phase: "users", hosts: ["neon": 2], phaseLimit: 10, canary: 1) == nil)
        try q.controller.setState(phase: "users", set: "c1", .migrated, detail: nil)  // (as its worker would)
        try q.a.release(canary, state: .migrated)
        // neon takes two sets at once, whoever runs them.
        let one = try #require(try q.a.claim(phase: "users", hosts: ["neon": 2], phaseLimit: 10, canary: 1))
        let two = try #require(try q.b.claim(phase: "users", hosts: ["neon": 2], phaseLimit: 10, canary: 1))
        #expect([one.set, two.set] == ["s1", "s2"])
        #expect(try q.b.claim(phase: "users", hosts: ["neon": 2], phaseLimit: 10, canary: 1) == nil, "neon is busy")
        // The phase's own concurrency counts too.
        #expect(try q.b.claim(phase: "users", hosts: [:], phaseLimit: 2, canary: 1) == nil)
        try q.controller.setState(phase: "users", set: "s2", .failed, detail: nil)
        try q.b.release(two, state: .failed)
        #expect(try q.b.claim(phase: "users", hosts: ["neon": 2], phaseLimit: 10, canary: 1)?.set == "s3")
        #expect(try q.a.progress(phase: "users") == (listed: true, unfinished: 2))  // s1, s3
        #expect(try q.a.controllerPresent())
    }
}
