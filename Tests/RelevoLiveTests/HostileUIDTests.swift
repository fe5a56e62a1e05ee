import Foundation
import Testing
import TestbedSupport

/// uids full of shell, DN and filter metacharacters, and uids that look
/// like options, against real slapd and sshd through the real `relevo`:
/// the first kind migrate, each touching only its own entry and Maildir,
/// and reach a command on the host as one argument, unchanged; the second
/// kind are refused when the set is listed.
@Suite(.serialized) struct HostileUIDTests {
    static let marker = "relevo-pwned-\(UUID().uuidString.prefix(8))"

    static let migrating = [
        // shell
        "$(touch \(marker))", "`touch \(marker)`", "a;touch \(marker)", "a|touch \(marker)", "a&&touch \(marker)",
        "a>\(marker)", "'single'", "\"double\"", "sp ace", "~root", "glob*?[x]",
        // DN (RFC 4514)
        "comma,uid=admin", "plus+sn=x", "#hash", "back\\slash", "semi;colon", "less<greater>", "equals=sign",
        // filter (RFC 4515)
        "*)(uid=*", "paren(x)", "\\2a", "amp&pipe|bang!",
    ]
    /// uid → the reason it is refused.
    static let refused = [("-rf", "starts with '-'"), ("--help", "starts with '-'"), ("-", "starts with '-'"),
                          ("..", "is not a single name"), ("a/b", "is not a single name"),
                          ("tab\there", "control character")]

    @Test func metacharactersStayDataAndOptionLikeUidsAreRefused() throws {
        let bed = try LiveBed("uid")
        defer { bed.tearDown() }
        let root = bed["RELEVO_OLD_ROOT"], newRoot = bed["RELEVO_NEW_ROOT"]
        let old = bed["RELEVO_OLD_MAILHOST"], new = bed["RELEVO_NEW_MAILHOST"]
        // A run-command step after the chown: `mkdir -- SEEN/${uid}` on the
        // new host, so the test sees each uid as the host received it.
        let seen = bed.work + "/seen"
        try FileManager.default.createDirectory(atPath: seen, withIntermediateDirectories: true)
        let plan = try bed.plan("uids.yaml", [("      - chown:    { path: \"store-xalumno:${store}\" }\n", """
                  - chown:    { path: "store-xalumno:${store}" }
                  - run-command: { on: xalumno, run: [mkdir, "--", "\(seen)/${uid}"] }

            """)])
        var ldif = ""
        for (i, uid) in (Self.migrating + Self.refused.map(\.0)).enumerated() {
            try makeMaildir("\(root)/hostile\(i)", message: "Subject: \(i)\n\nhello \(i)\n")
            ldif += userLDIF(uid: uid, store: "\(root)/hostile\(i)/", mailHost: old, name: "hostile\(i)")
        }
        let added = try bed.ldapadd(ldif)
        try #require(added.status == 0, "\(added)")
        let homes = ["/root", "/", FileManager.default.currentDirectoryPath, bed.work, root, newRoot]
        let before = try bed.snapshot(trees: [root])

        let result = try bed.relevo(["run", plan, "--yes", "--approve", "all", "--journal", bed.journal, "--format", "json"])
        #expect(result.status == 3, "the option-like uids are refused: \(result)")
        let sets = try #require(try json(result.stdout)["sets"] as? [String: Int])
        #expect(sets["migrated"] == 20 + Self.migrating.count && sets["refused"] == Self.refused.count, "\(sets)\n\(result.stderr)")

        for folder in homes {
            #expect(!FileManager.default.fileExists(atPath: folder + "/" + Self.marker), "a value reached a shell (\(folder))")
        }
        // Each uid arrived on the host as one argument, byte for byte.
        let arrived = Set(try FileManager.default.contentsOfDirectory(atPath: seen))
        #expect(arrived.isSuperset(of: Self.migrating), "missing: \(Set(Self.migrating).subtracting(arrived))")
        #expect(arrived.isDisjoint(with: Self.refused.map(\.0)))
        let lines = setLines(result.stderr)
        for (uid, reason) in Self.refused {
            let shown = uid.replacingOccurrences(of: "\t", with: "\\t")
            #expect(lines.contains { $0.hasPrefix("relevo: users: \(shown) skipped: refused:") && $0.contains(reason) },
                    "\(uid): \(lines.filter { $0.contains("skipped") })")
        }

        let after = try bed.snapshot(trees: [root])
        #expect(differences(before.old, after.old).isEmpty, "the old directory changed: \(differences(before.old, after.old))")
        let migrated = dns(of: after.new, mailHost: new)
        #expect(migrated.count == 21 + Self.migrating.count)
        let expected = expectedNewDirectory(from: before.old, migrated: migrated, newMailHost: new)
        #expect(differences(expected, after.new).isEmpty, "unasked changes: \(differences(expected, after.new))")
        for (i, uid) in Self.migrating.enumerated() {
            let entry = after.new.first { $0.value["uid"] == [uid] }
            #expect(entry?.value["mailHost"] == [new], "\(uid) migrated")
            #expect(files(newRoot + "/hostile\(i)").count == 1, "\(uid)'s one message")
        }
        for (i, _) in Self.refused.enumerated() {
            #expect(!FileManager.default.fileExists(atPath: newRoot + "/hostile\(Self.migrating.count + i)"), "a refused user is not copied")
        }
        #expect(after.trees[root] == before.trees[root], "the old store changed")
    }
}
