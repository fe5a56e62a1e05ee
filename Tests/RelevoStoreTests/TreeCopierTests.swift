import Foundation
import Testing
import Glibc
@testable import RelevoStore

@Suite struct TreeCopierTests {
    struct Trees {
        let directory: TempDirectory
        let copier: TreeCopier

        init() throws {
            directory = try TempDirectory()
            directory.makeDirectory("old/web")
            directory.makeDirectory("new")
            copier = TreeCopier(from: try StoreRoot(directory.absolute("old")).location("web"),
                                to: try StoreRoot(directory.absolute("new")).location("web"),
                                options: CopyOptions(syncFiles: false))
        }
    }

    @Test func copiesATreeKeepingTimesAndNeverOverwriting() throws {
        let trees = try Trees()
        let d = trees.directory
        let time = FileTime(seconds: 1_400_000_000, nanoseconds: 987_654_321)
        d.write("old/web/prefs/ceres.prefs", "lang=es", mtime: time, mode: 0o644)
        d.write("old/web/index.php", "<?php")
        d.makeDirectory("old/web/empty", mode: 0o750)
        d.write("new/web/index.php", "<?php // edited on the new host")

        let report = try trees.copier.copy()
        #expect(report.copied.map(\.path) == ["prefs/ceres.prefs"])
        #expect(report.conflicts == [CopyConflict(sourcePath: "index.php", destinationPath: "index.php",
                                                  reason: .differentContent, isMessage: false)])
        #expect(d.read("new/web/index.php") == "<?php // edited on the new host")
        #expect(d.read("new/web/prefs/ceres.prefs") == "lang=es")
        #expect(d.mtime("new/web/prefs/ceres.prefs") == d.mtime("old/web/prefs/ceres.prefs"))
        #expect(d.mode("new/web/prefs/ceres.prefs") == 0o644)
        #expect(d.mode("new/web/empty") == 0o750)
        #expect(d.list("new/web/prefs") == ["ceres.prefs"])  // no temporary file left
        #expect(Set(report.createdDirectories) == ["web/empty", "web/prefs"])

        let second = try trees.copier.copy()
        #expect(second.isStable)
        #expect(second.skipped == 1)
        #expect(second.conflicts.count == 1)
    }

    @Test func aWideTreeKeepsOnlyItsPathOpen() throws {
        // 10000 Maildirs once failed with EMFILE: the copier kept a descriptor
        // for every folder it had been through.
        let trees = try Trees()
        let d = trees.directory
        for i in 0..<300 { d.write("old/web/u\(i)/cur/m", "\(i)") }
        let cache = DirectoryCache(base: try StoreRoot(d.absolute("new")).location("web").openCreating().handle)
        var most = 0
        for i in 0..<300 {
            _ = try cache.directory("u\(i)/cur", create: true)
            most = max(most, cache.openCount)
        }
        #expect(most == 3, "the base, u/ and u/cur")
        let report = try trees.copier.copy()
        #expect(report.copied.count == 300)
        #expect(d.read("new/web/u299/cur/m") == "299")
    }

    @Test func removeCopiedDeletesOnlyUnchangedCopies() throws {
        let trees = try Trees()
        let d = trees.directory
        d.write("old/web/a", "a")
        d.write("old/web/sub/b", "b")
        let reports = try trees.copier.copyUntilStable()
        #expect(reports.count == 2)
        d.write("new/web/sub/late", "written after the copy")
        d.write("new/web/a", "changed after the copy")
        let removal = try trees.copier.removeCopied(reports: reports)
        #expect(removal.removed == ["sub/b"])
        #expect(removal.kept == [KeptFile(path: "a", reason: .changed)])
        #expect(d.read("new/web/sub/late") == "written after the copy")
        #expect(removal.removedDirectories.isEmpty)  // web/ and web/sub still hold files
    }

    @Test func refusesLinksInTheSource() throws {
        let trees = try Trees()
        trees.directory.write("old/web/a", "a")
        trees.directory.symlink("old/web/passwd", to: "/etc/passwd")
        let error = storeError { try trees.copier.copy() }
        #expect(error == .refused([Refusal(path: "web/passwd", reason: .specialFile(.symbolicLink))]))
        #expect(!trees.directory.exists("new/web"))
    }

    @Test func quickComparisonTrustsSizeAndMtime() throws {
        let trees = try Trees()
        let d = trees.directory
        let time = FileTime(seconds: 1_400_000_000)
        d.write("old/web/a", "same size 1", mtime: time)
        d.write("new/web/a", "same size 2", mtime: time)
        var quick = trees.copier
        quick.options.comparison = .sizeAndModificationTime
        #expect(try quick.copy().skipped == 1)
        #expect(try trees.copier.copy().conflicts.count == 1)  // SHA-256 sees the difference
    }
}
