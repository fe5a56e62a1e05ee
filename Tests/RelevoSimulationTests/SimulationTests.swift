import Foundation
import Testing
import RelevoEngine
import RelevoJournal
import RelevoSimulation

@Suite(.serialized) struct SimulationTests {
    static let old = "neon.servidores.unam.mx", new = "xalumno.servidores.unam.mx"

    func users(_ scratch: URL) throws -> [String: String] {
        try attributes("mailHost", scratch: scratch).filter { $0.key != "probe" }
    }

    @Test func theExampleMigratesEveryUser() async throws {
        let dir = TempFolder()
        let run = try await simulate(journal: dir.path("j"))
        let s = run.summary
        #expect(!s.halted && s.waitingFor == nil)
        #expect(s.sets.total >= 20 && s.sets.migrated == s.sets.total && s.sets.failed == 0 && s.sets.pending == 0)
        let hosts = try users(run.scratch)
        #expect(hosts.count == s.sets.total)
        #expect(hosts.values.allSatisfy { $0 == Self.old.replacingOccurrences(of: "neon", with: "xalumno") })
        // Every Maildir on the new host identical (names and bytes) to the old one.
        let oldRoot = run.scratch.appendingPathComponent("hosts/neon/home1/maildirs")
        let newRoot = run.scratch.appendingPathComponent("hosts/xalumno/var/qmail/maildirs")
        for user in hosts.keys {
            let a = tree(oldRoot.appendingPathComponent(user)), b = tree(newRoot.appendingPathComponent(user))
            #expect(!a.isEmpty && a == b, "\(user): \(a.count) files on the old host, \(b.count) on the new")
        }
        // The fixture originals are untouched.
        #expect(FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent("examples/exalumno/neon.ldif").path))
    }

    @Test func aFailedCopyUndoesThatUserNotifiesAndHalts() async throws {
        let dir = TempFolder()
        let run = try await simulate(journal: dir.path("j"), inject: ["users.copy@#2=fail"])
        let s = run.summary
        #expect(s.halted)
        #expect(s.sets.migrated == 2 && s.sets.undone == 1 && s.sets.pending == s.sets.total - 3)
        let order = try runOrder(run.journal)
        let hosts = try users(run.scratch)
        #expect(order.prefix(2).allSatisfy { hosts[$0] == Self.new })
        #expect(hosts[order[2]] == Self.old, "the failed user's redirect was undone")
        #expect(order.dropFirst(3).allSatisfy { hosts[$0] == Self.old }, "later users untouched")
        let failedBox = run.scratch.appendingPathComponent("hosts/xalumno/var/qmail/maildirs/\(order[2])")
        #expect(tree(failedBox).isEmpty, "the seed copy of the failed user was removed")
        let notes = try String(contentsOf: run.scratch.appendingPathComponent("notifications.log"), encoding: .utf8)
        #expect(notes.contains("set '\(order[2])' of phase 'users' failed") && notes.contains("undone"))
    }

    @Test(arguments: [1, 2, 3])
    func anErrorBudgetIsHonouredExactly(_ budget: Int) async throws {
        let text = try String(contentsOf: bundledPlan, encoding: .utf8).replacingOccurrences(
            of: "    on-failure:\n      undo: true\n      notify: ops\n      then: halt\n",
            with: "    on-failure:\n      undo: true\n      notify: ops\n      then: { continue: true, budget: \(budget) }\n")
        let dir = TempFolder()
        // Three users fail: #1, #4 and #7.
        let run = try await simulate(journal: dir.path("j"), inject: ["users.copy@#1=fail", "users.copy@#4=fail", "users.copy@#7=fail"],
                                     planText: text)
        let s = run.summary
        // Exactly the budget plus the failure that exceeded it are undone.
        #expect(s.sets.undone == min(3, budget + 1))
        #expect(s.sets.failed == 0)
        #expect(s.halted == (budget < 3))
        #expect(s.sets.migrated + s.sets.undone + s.sets.pending == s.sets.total)
        let states = try setStates(run.journal)
        let order = try runOrder(run.journal)
        if budget < 3 {
            // Halted on the failure that exceeded the budget: #4 for 1, #7 for 2.
            // Sets that had started on the timeline by then finish (at most
            // concurrency - 1 of them, none among the sequential canaries);
            // no later set starts.
            let halting = [1: 4, 2: 7][budget]!
            let concurrency = 4, canary = 5
            let inFlight = halting < canary ? 0 : concurrency - 1
            #expect(states[order[halting]] == .undone)
            let startedAfter = order.dropFirst(halting + 1).filter { states[$0] != .pending }
            #expect(startedAfter.count <= inFlight, "started after the halt: \(startedAfter)")
            #expect(startedAfter.allSatisfy { states[$0] == .migrated })
            #expect(s.sets.migrated == halting + 1 - s.sets.undone + startedAfter.count)
            #expect(s.sets.pending == s.sets.total - halting - 1 - startedAfter.count)
        } else {
            #expect(s.sets.migrated == s.sets.total - 3 && s.sets.pending == 0)
        }
    }

    @Test func theSameSeedGivesTheSameEventLog() async throws {
        let dir = TempFolder()
        let a = try await simulate(journal: dir.path("a"), inject: ["users.copy@30%=partial"], seed: 7)
        let b = try await simulate(journal: dir.path("b"), inject: ["users.copy@30%=partial"], seed: 7)
        let c = try await simulate(journal: dir.path("c"), inject: ["users.copy@30%=partial"], seed: 8)
        let ea = try events(a.journal), eb = try events(b.journal), ec = try events(c.journal)
        #expect(ea.count > 50)
        #expect(ea == eb)
        #expect(ea != ec, "another seed picks other users")
    }

    @Test func anUnansweredApprovalWaits() async throws {
        let dir = TempFolder()
        let run = try await simulate(journal: dir.path("j"), approvals: .given([]))
        #expect(run.summary.waitingFor == "switch-mx")
        #expect(try users(run.scratch).values.allSatisfy { $0 == Self.old })
    }

    func events(_ journal: String) throws -> [EngineEvent] {
        let j = try reopen(journal)
        defer { try? j.close() }
        return try j.events()
    }

    /// The users phase's set states, by key.
    func setStates(_ journal: String) throws -> [String: SetState] {
        let j = try reopen(journal)
        defer { try? j.close() }
        return Dictionary(try j.setStates(phase: "users").compactMap { s in s.set.map { ($0, s.state) } },
                          uniquingKeysWith: { a, _ in a })
    }

    /// The users phase's members in run order.
    func runOrder(_ journal: String) throws -> [String] {
        let j = try reopen(journal)
        defer { try? j.close() }
        return try j.setStates(phase: "users").compactMap { s -> (Int, String)? in
            guard let key = s.set, let detail = s.detail?.data(using: .utf8),
                  let member = try? JSONDecoder().decode(SetMember.self, from: detail) else { return nil }
            return (member.index, key)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
