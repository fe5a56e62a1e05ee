import Foundation
import Testing
import RelevoCheck
import RelevoDirectory
import RelevoOperations
import RelevoSimulation

/// A dry run's world with buffered logs (`bufferLogs`, `markWorld`) is
/// opened again at the lengths its journal committed: what was written
/// after them (a later flush, a kill between a flush and the commit) is
/// not replayed, and the files are cut there.
@Suite(.serialized) struct CommittedLogsTests {
    @Test func aResumedScratchIsCutBackToTheLastCommit() throws {
        let dir = TempFolder()
        let fixtures = try MemoryHostsTests.fixtures(dir, users: 12)
        let text = try String(contentsOf: bundledPlan, encoding: .utf8)
        let plan = try #require(Checker.check(PlanLoader.load(text: text, file: bundledPlan.path),
                                              baseDirectory: bundledPlan.deletingLastPathComponent().path).plan)
        let scratch = dir.url.appendingPathComponent("j.scratch")
        let ldif = try String(contentsOf: fixtures.appendingPathComponent("neon.ldif"), encoding: .utf8)
        let dns = ldif.split(separator: "\n").filter { $0.hasPrefix("dn: uid=") && !$0.contains("probe") }.map { String($0.dropFirst(4)) }
        #expect(dns.count == 12)
        func setHost(_ access: any DirectoryAccess, _ dn: String, _ value: String) throws {
            let records = try LDIFReader().read("dn: \(dn)\nchangetype: modify\nreplace: mailHost\nmailHost: \(value)\n-\n")
            guard case .change(let change) = try #require(records.first) else { Issue.record("not a change"); return }
            try access.apply(change)
        }
        func host(_ access: any DirectoryAccess, _ dn: String) throws -> String? {
            try access.entry(DistinguishedName(dn))?.first("mailHost")
        }

        var marks: [String: Int] = [:]
        var before: [String?] = []
        do {
            let env = try SimulatedEnvironment(plan: plan, scratch: scratch, fixtureBase: fixtures, faults: FaultPlan(seed: 1))
            #expect(env.hosts == .memory)
            env.bufferLogs()
            let neon = try #require(try env.directory("directory-neon"))
            before = try dns.map { try host(neon, $0) }
            for dn in dns[0..<4] { try setHost(neon, dn, "moved.example.org") }
            _ = try env.storeRoot("store-xalumno").location("a/b").create(mode: 0o755)
            // What the journal's commit records.
            for mark in try env.markWorld() { marks[mark.name] = mark.length }
            // After the commit: more changes, written out (as a later flush
            // or a kill after one would leave them) but never committed.
            for dn in dns[4..<8] { try setHost(neon, dn, "later.example.org") }
            _ = try env.storeRoot("store-xalumno").location("c").create(mode: 0o755)
            let later = try env.markWorld()
            #expect(later.contains { $0.length > marks[$0.name] ?? 0 })
        }
        #expect(Set(marks.keys) == ["directories/directory-neon.changes.ldif", "directories/directory.changes.ldif",
                                    "hosts/neon.changes", "hosts/xalumno.changes"])
        #expect((marks["directories/directory-neon.changes.ldif"] ?? 0) > 0)

        let resumed = try SimulatedEnvironment(plan: plan, scratch: scratch, fixtureBase: fixtures, faults: FaultPlan(seed: 1),
                                               committedLogs: marks)
        let neon = try #require(try resumed.directory("directory-neon"))
        #expect(try dns[0..<4].map { try host(neon, $0) } == Array(repeating: "moved.example.org", count: 4))
        #expect(try dns[4...].map { try host(neon, $0) } == Array(before[4...]))
        #expect(try resumed.storeRoot("store-xalumno").location("a/b").exists())
        #expect(try !resumed.storeRoot("store-xalumno").location("c").exists())
        for (name, length) in marks {
            let size = try FileManager.default.attributesOfItem(atPath: scratch.appendingPathComponent(name).path)[.size] as? Int
            #expect(size == length, "\(name) cut to its committed length")
        }
        // Without lengths (a journal that never recorded any) the logs are
        // replayed whole: here, what the cut left.
        let again = try SimulatedEnvironment(plan: plan, scratch: scratch, fixtureBase: fixtures, faults: FaultPlan(seed: 1))
        #expect(try host(try #require(try again.directory("directory-neon")), dns[0]) == "moved.example.org")
    }
}
