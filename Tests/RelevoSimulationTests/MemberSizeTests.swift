import Foundation
@testable import RelevoJournal
import Testing

/// Members' mailbox sizes (the `order: by: activity` key) are measured for
/// all members of a store together; each member must get its own
/// mailbox's size, whatever entries before it were refused.
@Suite struct MemberSizeTests {
    @Test func aRefusedEntryGivesItsMailboxToNobody() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sizes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixtures = dir.appendingPathComponent("exalumno")
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("examples/exalumno"), to: fixtures)
        // Before ceres, an entry with ceres's Maildir but no mail: refused
        // after its store was read.
        let ldif = fixtures.appendingPathComponent("neon.ldif")
        var text = try String(contentsOf: ldif, encoding: .utf8)
        let ghost = """
            dn: uid=ghost,dc=exalumno,dc=unam,dc=mx
            uid: ghost
            cn: ghost
            sn: ghost
            objectClass: top
            objectClass: person
            objectClass: inetOrgPerson
            objectClass: qmailUser
            mailMessageStore: /home1/maildirs/ceres/
            mailHost: neon.servidores.unam.mx


            """
        let ceres = try #require(text.range(of: "dn: uid=ceres,"))
        text.insert(contentsOf: ghost, at: ceres.lowerBound)
        try text.write(to: ldif, atomically: true, encoding: .utf8)

        let journal = dir.appendingPathComponent("run.journal").path
        let run = try runRelevo(["simulate", bundledPlan.path, "--fixtures", fixtures.path, "--approve", "all",
                                 "--journal", journal, "--format", "json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(summary["halted"] as? Bool == false, "\(run.stderr)")
        #expect(run.stderr.contains("ghost skipped: refused: no mail"), "\(run.stderr)")
        let db = try Database(path: journal, readOnly: true)
        let details = try db.query("SELECT set_key, detail FROM sets WHERE phase = 'users' AND state = 'migrated'") { ($0.string(0) ?? "", $0.string(1) ?? "") }
        #expect(details.count > 10)
        #expect(!details.contains { $0.0 == "ghost" })
        for (key, detail) in details {
            let member = try #require(try JSONSerialization.jsonObject(with: Data(detail.utf8)) as? [String: Any])
            let store = try #require((member["fields"] as? [String: String])?["store"])
            var messages = 0, bytes = 0
            for sub in ["cur", "new"] {
                let folder = fixtures.appendingPathComponent("neon/home1/maildirs/\(store)\(sub)").path
                for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                    messages += 1
                    bytes += (try FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int) ?? 0
                }
            }
            #expect(member["messages"] as? Int == messages && member["bytes"] as? Int == bytes,
                    "\(key): \(member["messages"] ?? "?") messages and \(member["bytes"] ?? "?") bytes, its Maildir \(messages) and \(bytes)")
        }
    }
}
