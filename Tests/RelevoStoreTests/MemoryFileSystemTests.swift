import Foundation
import Testing
import Glibc
@testable import RelevoStore

/// The same Maildirs on the local disk and in a `MemoryFileSystem` (copied
/// in with the store's own copier) give the same census, the same copies,
/// the same refusals; and a memory file system's log gives it back.
@Suite struct MemoryFileSystemTests {
    /// A host tree on disk: two users, one with messages in INBOX and a
    /// folder, a `maildirsize`, a leftover in `tmp/`; and its copy in memory.
    struct Twin {
        let disk: TempDirectory
        let diskRoot: StoreRoot
        let memory: MemoryFileSystem
        let memoryRoot: StoreRoot

        init(log: String? = nil) throws {
            disk = try TempDirectory()
            disk.makeMaildir("store/ceres", folders: [".Sent"])
            disk.makeMaildir("store/vesta")
            disk.write("store/ceres/cur/1700000000.M1P1.neon,S=5:2,S", "hello", mtime: FileTime(seconds: 1_700_000_000))
            disk.write("store/ceres/new/1700000001.M2P1.neon", "second message", mtime: FileTime(seconds: 1_700_000_001))
            disk.write("store/ceres/.Sent/cur/1700000002.M3P1.neon:2,", "sent", mtime: FileTime(seconds: 1_700_000_002))
            disk.write("store/ceres/maildirsize", "10000S\n")
            disk.write("store/ceres/tmp/1700000003.M4P1.neon", "half written")
            diskRoot = try StoreRoot(disk.absolute("store"))
            memory = try MemoryFileSystem(name: "memory", log: log)
            try memory.makeDirectories("/var/store")
            memoryRoot = try StoreRoot("/var/store", on: memory)
            for user in ["ceres", "vesta"] {
                _ = try TreeCopier.copy(from: diskRoot.location(user), to: memoryRoot.location(user),
                                        options: CopyOptions(syncFiles: false))
            }
        }
    }

    /// A census without what differs by design: the root's absolute path,
    /// device and inode numbers.
    func comparable(_ census: MaildirCensus) -> MaildirCensus {
        func plain(_ entry: CensusEntry) -> CensusEntry {
            var e = entry
            e.device = 0
            e.inode = 0
            return e
        }
        func plain(_ message: MaildirMessage) -> MaildirMessage {
            var m = message
            m.file = plain(m.file)
            return m
        }
        var c = census
        c.root = ""
        c.messages = c.messages.mapValues(plain)
        c.duplicates = c.duplicates.mapValues { $0.map(plain) }
        c.otherFiles = c.otherFiles.map(plain)
        c.temporaryFiles = c.temporaryFiles.map(plain)
        return c
    }

    @Test func aCensusIsTheSameOnDiskAndInMemory() throws {
        let twin = try Twin()
        for user in ["ceres", "vesta"] {
            let onDisk = try MaildirCensus.scan(twin.diskRoot.location(user))
            let inMemory = try MaildirCensus.scan(twin.memoryRoot.location(user))
            #expect(comparable(onDisk) == comparable(inMemory), "\(user)")
        }
        let census = try MaildirCensus.scan(twin.memoryRoot.location("ceres"))
        #expect(census.messageCount == 3)
        #expect(census.otherFiles.map(\.path) == ["maildirsize"])
        #expect(try twin.memoryRoot.location("ceres").size(subfolders: ["cur", "new"]) == (2, 19))
    }

    @Test func aCopyDoesTheSameOnDiskAndInMemory() throws {
        let twin = try Twin()
        // To a new user's Maildir on the same host, then again (nothing to do).
        var reports: [[CopyReport]] = []
        for root in [twin.diskRoot, twin.memoryRoot] {
            let copier = MaildirCopier(from: try root.location("ceres"), to: try root.location("ceres-copy"),
                                       options: CopyOptions(syncFiles: false))
            reports.append([try copier.copy(), try copier.copy()])
        }
        func shown(_ r: CopyReport) -> [String] {
            [r.copied.map(\.path).sorted().joined(separator: ","), r.createdDirectories.sorted().joined(separator: ","),
             "\(r.skipped)", "\(r.bytesCopied)", "\(r.isStable)"]
        }
        #expect(reports[0].map(shown) == reports[1].map(shown))
        let onDisk = try MaildirCensus.scan(twin.diskRoot.location("ceres-copy"))
        let inMemory = try MaildirCensus.scan(twin.memoryRoot.location("ceres-copy"))
        #expect(comparable(onDisk) == comparable(inMemory))
        #expect(inMemory.messageCount == 3)
        // Undo: the copied files and made folders removed, the source intact.
        let copier = MaildirCopier(from: try twin.memoryRoot.location("ceres"), to: try twin.memoryRoot.location("ceres-copy"))
        _ = try copier.removeCopied(reports: reports[1])
        #expect(try !twin.memoryRoot.location("ceres-copy").exists())
        #expect(try MaildirCensus.scan(twin.memoryRoot.location("ceres")).messageCount == 3)
    }

    @Test func linksAndSpecialFilesAreRefusedAsOnDisk() throws {
        let twin = try Twin()
        // The same hostile entries in both trees.
        #expect(symlink("/etc/passwd", twin.disk.absolute("store/ceres/cur/1700000009.M9P1.neon:2,")) == 0)
        #expect(mkfifo(twin.disk.absolute("store/ceres/new/fifo"), 0o600) == 0)
        #expect(symlink("../vesta", twin.disk.absolute("store/ceres/.Trash")) == 0)
        try twin.memory.makeSpecial("/var/store/ceres/cur/1700000009.M9P1.neon:2,", kind: .symbolicLink, target: "/etc/passwd")
        try twin.memory.makeSpecial("/var/store/ceres/new/fifo", kind: .fifo)
        try twin.memory.makeSpecial("/var/store/ceres/.Trash", kind: .symbolicLink, target: "../vesta")
        func refusals(_ root: StoreRoot) throws -> [Refusal] {
            do {
                _ = try MaildirCensus.scan(root.location("ceres"))
                return []
            } catch StoreError.refused(let list) {
                return list
            }
        }
        let onDisk = try refusals(twin.diskRoot), inMemory = try refusals(twin.memoryRoot)
        #expect(onDisk.count == 3)
        #expect(onDisk == inMemory)
        // A copy refuses before writing anything, on both.
        for root in [twin.diskRoot, twin.memoryRoot] {
            #expect(throws: StoreError.self) {
                try MaildirCopier(from: root.location("ceres"), to: root.location("other")).copy()
            }
            #expect(try !root.location("other").exists())
        }
        // A link in a store path is refused when the location is made.
        #expect(throws: StoreError.symlinkInPath(path: "ceres/.Trash/cur", component: "ceres/.Trash")) {
            try twin.memoryRoot.location("ceres/.Trash/cur")
        }
    }

    @Test func theLogGivesTheTreeBackAndDropsACutRecord() throws {
        let folder = try TempDirectory()
        let log = folder.absolute("host.changes")
        let twin = try Twin(log: log)
        let copier = MaildirCopier(from: try twin.memoryRoot.location("ceres"), to: try twin.memoryRoot.location("juno"),
                                   options: CopyOptions(syncFiles: false))
        _ = try copier.copy()
        _ = try twin.memoryRoot.location("vesta").removeTree()
        let expected = try MaildirCensus.scan(twin.memoryRoot.location("juno"))

        let replayed = try MemoryFileSystem(name: "again", log: log)
        let root = try StoreRoot("/var/store", on: replayed)
        #expect(comparable(try MaildirCensus.scan(root.location("juno"))) == comparable(expected))
        #expect(try !root.location("vesta").exists())
        #expect(try MaildirCensus.scan(root.location("ceres")).messageCount == 3)

        // A process killed in the middle of a write leaves its last record
        // short: replay stops before it, and later records follow the rest.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        _ = try replayed.openDirectory(absolute: "/var/store", display: "").makeDirectory("mars", mode: 0o700)
        let full = try #require(FileManager.default.contents(atPath: log))
        #expect(full.count > size)
        try full.prefix(full.count - 3).write(to: URL(fileURLWithPath: log))
        let cut = try MemoryFileSystem(name: "cut", log: log)
        #expect(try cut.linkStatus("/var/store/mars") == nil)
        #expect(try cut.linkStatus("/var/store/juno")?.kind == .directory)
        _ = try cut.openDirectory(absolute: "/var/store", display: "").makeDirectory("venus", mode: 0o700)
        let last = try MemoryFileSystem(name: "last", log: log)
        #expect(try last.linkStatus("/var/store/venus")?.kind == .directory)
        #expect(try last.linkStatus("/var/store/mars") == nil)
    }

    @Test func nothingIsReplacedAndMovesStayOnTheirFileSystem() throws {
        let memory = try MemoryFileSystem(name: "m")
        try memory.makeDirectories("/a/b")
        let a = try memory.openDirectory(absolute: "/a", display: "")
        let file = try a.createExclusive("x", mode: 0o644)
        try Array("x".utf8).withUnsafeBytes { try file.write($0) }
        try file.close()
        #expect(throws: StoreError.io(path: "x", operation: "create", errno: EEXIST)) { try a.createExclusive("x", mode: 0o644) }
        let b = try a.openDirectory("b")
        #expect(try a.moveNoReplace("x", to: b, as: "y"))
        #expect(try a.status("x") == nil)
        _ = try b.createExclusive("z", mode: 0o600)
        #expect(try !b.moveNoReplace("y", to: b, as: "z"))
        let other = try MemoryFileSystem(name: "n").openDirectory(absolute: "/", display: "")
        #expect(throws: StoreError.self) { try b.moveNoReplace("y", to: other, as: "y") }
        #expect(try b.status("y")?.size == 1)
        #expect(try !a.removeDirectoryIfEmpty("b"))
        #expect(throws: StoreError.self) { try a.unlink("b") }
        let disk = try TempDirectory()
        #expect(throws: StoreError.self) {
            try b.moveNoReplace("y", to: LocalFileSystem.shared.openDirectory(absolute: disk.path, display: ""), as: "y")
        }
    }
}

/// A copy's undo record written by hand reads back, through `JSONDecoder`,
/// as the reports it was written from; odd names included.
@Suite struct CopyReportJSONTests {
    @Test func reportsReadBackEqual() throws {
        let odd = ["plain", "quote\"back\\slash/slash", "tab\tnew\nline\r\u{01}\u{7f}", "é ✓ 𝄞", ""]
        var reports: [CopyReport] = []
        for (i, name) in odd.enumerated() {
            var r = CopyReport(source: "/home1/maildirs/" + name, destination: "/var/qmail/maildirs/" + name)
            r.copied = [CopiedFile(path: "cur/" + name, size: UInt64(i) * 1_000_000_007, sha256: String(repeating: "a", count: 64),
                                   mtime: FileTime(seconds: -5 + Int64(i) * 1_700_000_000, nanoseconds: Int32(i) * 123_456_789))]
            r.renamed = [RenamedFile(from: "new/" + name, to: "cur/" + name + ":2,S", sha256: i % 2 == 0 ? nil : "b")]
            r.skipped = i
            r.conflicts = i == 1 ? [CopyConflict(sourcePath: name, destinationPath: "d" + name, reason: .differentContent, isMessage: true),
                                    CopyConflict(sourcePath: "x", destinationPath: "y", reason: .notARegularFile, isMessage: false)] : []
            r.vanished = i == 2 ? [name, "other"] : []
            r.createdDirectories = [name, name + "/cur"]
            reports.append(r)
        }
        for sample in [[], [CopyReport(source: "", destination: "")], reports] {
            let text = CopyReport.json(sample)
            #expect(try JSONDecoder().decode([CopyReport].self, from: Data(text.utf8)) == sample, "\(text)")
            // Keys in the encoder's sorted order.
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let reference = try JSONSerialization.jsonObject(with: encoder.encode(sample)) as? NSArray
            #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSArray == reference)
        }
    }
}
