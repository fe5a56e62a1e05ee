import Foundation
import Testing
import TestbedSupport

/// Users whose `mailMessageStore` would take a step outside the store:
/// each is refused when the set is listed (never acted upon), the others
/// migrate, and nothing outside their entries and stores changes. Through
/// the real `relevo`, in a dry run (an LDIF fixture) and in a live run
/// (real slapd and sshd).
@Suite(.serialized) struct HostileLDIFTests {
    /// uid → mailMessageStore, given the store root; and words of the reason.
    static func hostile(root: String) -> [(uid: String, store: String, reason: String)] {
        [("hdotdot", "../../etc", "is not under the root of store-neon"),
         ("habsolute", "/etc", "is not under the root of store-neon"),
         ("habsolute2", "/etc/", "is not under the root of store-neon"),
         ("hinside", "a/../../b", "is not under the root of store-neon"),
         ("hescape", root + "/a/../../b/", "is not under the root of store-neon"),
         ("hparent", root + "/../../../../etc/", "is not under the root of store-neon"),
         ("hroot", root + "/", "is not under the root of store-neon"),
         ("hempty", "", "is not under the root of store-neon"),
         ("hnul", root + "/nul\u{0}x/", "contains a control character"),
         ("hnewline", root + "/new\nline/", "contains a control character"),
         ("hforged", root + "/x\nrelevo: users: ceres refused: forged/", "contains a control character")]
    }

    /// Checks the progress lines: one refusal per hostile user, with its
    /// reason, control characters shown escaped, no line forged by a value.
    static func expectRefusals(_ result: ProcessResult, _ hostile: [(uid: String, store: String, reason: String)]) {
        let lines = setLines(result.stderr)
        for h in hostile {
            let line = lines.first { $0.hasPrefix("relevo: users: \(h.uid) skipped: refused: mailMessageStore") }
            #expect(line?.contains(h.reason) == true, "\(h.uid): \(line ?? "no line")\n\(result.stderr)")
        }
        #expect(!result.stderr.utf8.contains(0) && !result.stdout.utf8.contains(0), "no NUL byte is printed")
        #expect(result.stderr.contains("/nul\\0x/"), "a NUL is shown as \\0")
        #expect(result.stderr.contains("/new\\nline/"), "a newline is shown as \\n")
        #expect(!lines.contains { $0.hasPrefix("relevo: users: ceres refused") }, "no value writes a line of its own")
    }

    @Test func inADryRunHostileStorePathsAreRefusedAndTheFixturesUntouched() throws {
        let folder = "/tmp/relevo-hostile-ldif-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixtures = folder + "/exalumno"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Testbed.root.appendingPathComponent("examples/exalumno").path, toPath: fixtures)
        let hostile = Self.hostile(root: "/home1/maildirs")
        var ldif = "\n"
        for (i, h) in hostile.enumerated() {
            ldif += userLDIF(uid: h.uid, store: h.store, mailHost: "neon.servidores.unam.mx", name: "hostile\(i)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: fixtures + "/neon.ldif"))
        handle.seekToEndOfFile()
        handle.write(Data(ldif.utf8))
        try handle.close()
        // Maildirs where a newline path would lead, to tempt a copy.
        try makeMaildir(fixtures + "/neon/home1/maildirs/new\nline")
        let before = files(fixtures)

        let journal = folder + "/dry.journal"
        let plan = Testbed.root.appendingPathComponent("plans/exalumno.yaml").path
        let result = try ProcessResult.run(relevoBinary, ["simulate", plan, "--fixtures", fixtures, "--approve", "all",
                                                           "--journal", journal, "--format", "json"])
        #expect(result.status == 3, "refused users count as not migrated: \(result)")
        let sets = try #require(try json(result.stdout)["sets"] as? [String: Int])
        #expect(sets["refused"] == hostile.count && sets["migrated"] == 20, "\(sets)")
        Self.expectRefusals(result, hostile)
        #expect(files(fixtures) == before, "the dry run changed its fixtures")
    }

    @Test func inALiveRunHostileStorePathsAreRefusedAndNothingElseChanges() throws {
        let bed = try LiveBed("ldif")
        defer { bed.tearDown() }
        let root = bed["RELEVO_OLD_ROOT"], old = bed["RELEVO_OLD_MAILHOST"], new = bed["RELEVO_NEW_MAILHOST"]
        let hostile = Self.hostile(root: root)
        for (i, h) in hostile.enumerated() {
            let added = try bed.ldapadd(userLDIF(uid: h.uid, store: h.store, mailHost: old, name: "hostile\(i)"))
            try #require(added.status == 0, "slapd takes \(h.uid)'s entry: \(added)")
        }
        try makeMaildir(root + "/new\nline")
        // What a step outside the store could reach: the parent of the roots.
        let outside = URL(fileURLWithPath: root).deletingLastPathComponent().deletingLastPathComponent().path
        let trees = [root, bed["RELEVO_NEW_ROOT"], outside]
        let before = try bed.snapshot(trees: trees)

        let result = try bed.relevo(["run", livePlan, "--yes", "--approve", "all", "--journal", bed.journal, "--format", "json"])
        #expect(result.status == 3, "\(result)")
        let sets = try #require(try json(result.stdout)["sets"] as? [String: Int])
        #expect(sets["refused"] == hostile.count && sets["migrated"] == 20, "\(sets)")
        Self.expectRefusals(result, hostile)

        let after = try bed.snapshot(trees: trees)
        #expect(differences(before.old, after.old).isEmpty, "the old directory changed: \(differences(before.old, after.old))")
        let migrated = dns(of: after.new, mailHost: new)
        #expect(migrated.count == 21, "20 users and the probe: \(migrated.count)")
        #expect(!migrated.contains { $0.hasPrefix("uid=h") }, "no hostile user switched")
        let expected = expectedNewDirectory(from: before.old, migrated: migrated, newMailHost: new)
        #expect(differences(expected, after.new).isEmpty, "unasked changes: \(differences(expected, after.new))")
        #expect(after.trees[root] == before.trees[root], "the old store changed")
        let copied = Set(after.trees[bed["RELEVO_NEW_ROOT"]]!.keys.compactMap { $0.split(separator: "/").first.map(String.init) })
        let users = Set(before.old.values.compactMap { $0["mailMessageStore"]?.first }
            .filter { $0.hasPrefix(root + "/") && !$0.contains("\n") && !$0.contains("\u{0}") && !$0.contains("..") }
            .map { String($0.dropFirst(root.count + 1).split(separator: "/").first ?? "") })
        #expect(copied.isSubset(of: users) && !copied.isEmpty, "only the users' own folders: \(copied.subtracting(users))")
        // Outside both stores (their parents, where '..' would lead) nothing changed.
        let notStores = { (tree: [String: String]) in tree.filter { !$0.key.contains("/maildirs/") } }
        #expect(notStores(after.trees[outside]!) == notStores(before.trees[outside]!), "files outside the stores changed")
    }
}
