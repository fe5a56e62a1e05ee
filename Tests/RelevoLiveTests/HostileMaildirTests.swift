import Foundation
import Testing
import TestbedSupport

/// Maildirs holding what a store must never hold, against real sshd through
/// the real `relevo`: links to /etc/shadow and into another user's Maildir,
/// a FIFO, a device, a link planted in the destination store, and messages
/// swapped for links during the copy (at the two moments a race could be
/// won, through the debug-only seam RELEVO_TEST_BEFORE_OPEN, see
/// docs/security.md). Each such user's copy fails, the user is undone
/// (mailHost back, copied files removed), the others migrate; nothing of
/// /etc/shadow reaches the new store; nothing outside changes.
@Suite(.serialized) struct HostileMaildirTests {
    @Test func linksSpecialFilesAndSwappedMessagesFailOnlyTheirUser() throws {
        let bed = try LiveBed("maildir")
        defer { bed.tearDown() }
        let root = bed["RELEVO_OLD_ROOT"], newRoot = bed["RELEVO_NEW_ROOT"]
        let old = bed["RELEVO_OLD_MAILHOST"], new = bed["RELEVO_NEW_MAILHOST"]
        let fm = FileManager.default
        func message(_ user: String, _ n: Int) -> String { "\(root)/\(user)/cur/160000000\(n).M\(n)P1.neon,S=10:2,S" }
        func mkdirs(_ path: String) throws { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) }
        let icovillaMessage = try #require(try fm.contentsOfDirectory(atPath: "\(root)/icovilla/cur").sorted().first)

        // ceres: a link to /etc/shadow among its messages.
        try fm.createSymbolicLink(atPath: message("ceres", 1), withDestinationPath: "/etc/shadow")
        // calewiro: its new/ is a link to another user's cur/.
        try? fm.removeItem(atPath: "\(root)/calewiro/new")
        try fm.createSymbolicLink(atPath: "\(root)/calewiro/new", withDestinationPath: "\(root)/icovilla/cur")
        // fguerrero: a message that is a link to another user's message.
        try fm.createSymbolicLink(atPath: message("fguerrero", 2), withDestinationPath: "\(root)/icovilla/cur/\(icovillaMessage)")
        // sergioop: a FIFO; bavila: a character device (what /dev/zero is).
        #expect(mkfifo(message("sergioop", 3), 0o600) == 0)
        #expect(mknod(message("bavila", 4), S_IFCHR | 0o600, (1 << 8) | 5) == 0, "mknod (as root)")
        // jmendoza: a message swapped for a link to /etc/shadow just before
        // the batch read by tar; tramos87: a message larger than a batch
        // takes (read alone) swapped between its lstat and its open.
        let swappedSmall = message("jmendoza", 5)
        try Data("small one\n".utf8).write(to: URL(fileURLWithPath: swappedSmall))
        let swappedLarge = "\(root)/tramos87/cur/1600000006.M6P1.neon:2,S"
        try mkdirs("\(root)/tramos87/cur")
        try Data(repeating: 0x61, count: 1_500_000).write(to: URL(fileURLWithPath: swappedLarge))
        let seam = bed.work + "/swap.sh"
        try """
            #!/bin/bash
            # Called by a debug relevo with the paths it is about to read.
            for p in "$@"; do
              case "$p" in
                "\(swappedSmall)"|"\(swappedLarge)")
                  mark="\(bed.work)/swapped-$(basename "$p")"
                  if [ ! -e "$mark" ]; then touch "$mark"; rm -f "$p"; ln -s /etc/shadow "$p"; fi ;;
              esac
            done
            echo "$#" >> "\(bed.work)/seam-calls"

            """.write(toFile: seam, atomically: true, encoding: .utf8)
        #expect(chmod(seam, 0o755) == 0)
        // almadg: its Maildir in the new store is already a link, to a folder outside.
        let victim = bed.work + "/victim"
        try mkdirs(victim + "/cur")
        try Data("victim\n".utf8).write(to: URL(fileURLWithPath: victim + "/cur/keep"))
        try mkdirs(newRoot)
        try fm.createSymbolicLink(atPath: "\(newRoot)/almadg", withDestinationPath: victim)

        let hostile: [(user: String, reason: String)] = [
            ("ceres", "symbolic link"), ("calewiro", "symbolic link"), ("fguerrero", "symbolic link"),
            ("sergioop", "FIFO (a store holds only regular files and directories)"),
            ("bavila", "character device (a store holds only regular files and directories)"),
            ("jmendoza", "symbolic link"), ("tramos87", "changed while it was being copied"),
            ("almadg", "outside the store root"),
        ]
        let shadow = try #require(fm.contents(atPath: "/etc/shadow"))
        let before = try bed.snapshot(trees: [root, victim])

        let plan = try bed.plan("go-on.yaml", [goOnAfterFailures])
        let result = try bed.relevo(["run", plan, "--yes", "--approve", "all", "--journal", bed.journal, "--format", "json"],
                                    environment: ["RELEVO_TEST_BEFORE_OPEN": seam])
        #expect(result.status == 3, "\(result)")
        let sets = try #require(try json(result.stdout)["sets"] as? [String: Int])
        #expect(sets["migrated"] == 20 - hostile.count && sets["undone"] == hostile.count, "\(sets)\n\(result.stderr)")
        #expect(fm.fileExists(atPath: "\(bed.work)/swapped-\((swappedSmall as NSString).lastPathComponent)"), "the seam swapped")
        #expect(fm.fileExists(atPath: "\(bed.work)/swapped-\((swappedLarge as NSString).lastPathComponent)"), "the seam swapped")

        let lines = setLines(result.stderr)
        for (user, reason) in hostile {
            let line = lines.first { $0.hasPrefix("relevo: users: \(user) undone:") }
            #expect(line?.contains(reason) == true, "\(user): \(line ?? "no line")")
        }
        let after = try bed.snapshot(trees: [root, victim])
        #expect(differences(before.old, after.old).isEmpty)
        let migrated = dns(of: after.new, mailHost: new)
        let expected = expectedNewDirectory(from: before.old, migrated: migrated, newMailHost: new)
        #expect(differences(expected, after.new).isEmpty, "unasked changes: \(differences(expected, after.new))")
        for (user, _) in hostile {
            #expect(after.new["uid=\(user),dc=exalumno,dc=unam,dc=mx"]?["mailHost"] == [old], "\(user) is back on the old host")
            if user != "almadg" {
                #expect(files(newRoot + "/" + user).isEmpty, "\(user): what the copy placed was removed")
            }
        }
        // Nothing of /etc/shadow anywhere in the new store, nothing in the victim.
        for (path, _) in files(newRoot) {
            #expect(fm.contents(atPath: newRoot + "/" + path) != shadow, "\(path) holds /etc/shadow")
        }
        #expect(after.trees[victim] == before.trees[victim], "the folder behind the planted link changed")
        var oldTree = before.trees[root]!
        for swapped in [swappedSmall, swappedLarge] { oldTree[String(swapped.dropFirst(root.count + 1))] = "<NSFileTypeSymbolicLink>" }
        #expect(after.trees[root] == oldTree, "the old store changed beyond the two swaps")
        #expect(files(newRoot + "/icovilla").count == files(root + "/icovilla").count, "icovilla migrated, once")
    }

    /// The dry run copies its fixture trees to a scratch area: one holding a
    /// link or a FIFO is refused whole (exit 4) before anything runs.
    @Test func inADryRunFixturesWithLinksAndSpecialFilesAreRefusedWhole() throws {
        let folder = "/tmp/relevo-hostile-fixtures-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixtures = folder + "/exalumno", maildirs = folder + "/exalumno/neon/home1/maildirs"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Testbed.root.appendingPathComponent("examples/exalumno").path, toPath: fixtures)
        try FileManager.default.createSymbolicLink(atPath: maildirs + "/ceres/cur/1600000000.M1P1.neon:2,S", withDestinationPath: "/etc/shadow")
        #expect(mkfifo(maildirs + "/calewiro/cur/1600000001.M1P1.neon:2,S", 0o600) == 0)
        let before = files(fixtures)
        let journal = folder + "/dry.journal"
        let result = try ProcessResult.run(relevoBinary, ["simulate", Testbed.root.appendingPathComponent("plans/exalumno.yaml").path,
                                                           "--fixtures", fixtures, "--approve", "all", "--journal", journal])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("relevo: error: fixtures: refused 2 entries: "), "\(result.stderr)")
        #expect(result.stderr.contains("calewiro/cur/1600000001.M1P1.neon:2,S: FIFO (a store holds only regular files and directories)"))
        #expect(result.stderr.contains("ceres/cur/1600000000.M1P1.neon:2,S: symbolic link (a store is never read through a link)"))
        #expect(files(fixtures) == before, "the fixtures are unchanged")
        // The run's own scratch area holds neither the link, nor the FIFO, nor what the link named.
        let shadow = FileManager.default.contents(atPath: "/etc/shadow")
        for (path, kind) in files(journal + ".scratch") {
            #expect(!kind.hasPrefix("<"), "\(path) is \(kind) in the scratch area")
            #expect(FileManager.default.contents(atPath: journal + ".scratch/" + path) != shadow, "\(path) holds /etc/shadow")
        }
    }
}
