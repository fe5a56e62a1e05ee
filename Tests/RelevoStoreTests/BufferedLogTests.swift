import Foundation
import Testing
import Glibc
@testable import RelevoStore

/// A memory file system's buffered log (a dry run's, written at its
/// journal's commits) against the log written one record at a time: the
/// same records, the same tree replayed; and a replay cut at a committed
/// length gives the tree as it was when that length was taken.
@Suite struct BufferedLogTests {
    /// Every entry under `/`: path, kind, mode, owner, size (not times).
    func tree(_ fs: MemoryFileSystem) throws -> [String] {
        var out: [String] = []
        func walk(_ directory: any StoreDirectory, _ prefix: String) throws {
            for (entry, status) in try directory.listing().sorted(by: { ($0.name.text ?? "") < ($1.name.text ?? "") }) {
                let path = prefix + "/" + (entry.text ?? "?")
                let s = try #require(status)
                out.append("\(path) \(s.kind.rawValue) \(String(s.mode, radix: 8)) \(s.uid):\(s.gid) \(s.kind == .directory ? 0 : s.size)")
                if s.kind == .directory { try walk(try directory.openDirectory(entry.text ?? ""), path) }
            }
        }
        try walk(try fs.openDirectory(absolute: "/", display: ""), "")
        return out
    }

    /// A small seeded generator (xorshift).
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
    }

    /// One random change to `fs` (the same on both file systems for the same generator state).
    func change(_ fs: MemoryFileSystem, _ random: inout Random) throws {
        let root = try fs.openDirectory(absolute: "/", display: "")
        let name = "d\(random.next(12))"
        switch random.next(5) {
        case 0, 1:
            let (dir, _) = try root.makeDirectory(name, mode: 0o700)
            _ = try dir.makeDirectory("cur", mode: 0o755)
        case 2:
            guard let dir = try root.openDirectoryIfPresent(name) else { return }
            let file = "f\(random.next(1000))"
            guard try dir.status(file) == nil else { return }
            let writer = try dir.createExclusive(file, mode: 0o644)
            let bytes = Array(repeating: UInt8(ascii: "x"), count: random.next(300))
            try bytes.withUnsafeBytes { try writer.write($0) }
            try writer.close()
        case 3:
            guard let dir = try root.openDirectoryIfPresent(name) else { return }
            try dir.changeOwner(nil, uid: UInt32(random.next(3)), gid: 7)
        default:
            guard let dir = try root.openDirectoryIfPresent(name) else { return }
            for (entry, status) in try dir.listing() where status?.kind == .regularFile { try dir.unlink(entry.text ?? "") }
        }
    }

    @Test(arguments: [1, 2, 3, 20261204])
    func aBufferedLogGivesWhatOneWriteEachGives(seed: UInt64) throws {
        let folder = try TempDirectory()
        let plainLog = folder.absolute("plain.changes"), bufferedLog = folder.absolute("buffered.changes")
        var marks: [(length: Int, tree: [String])] = []
        do {
            let plain = try MemoryFileSystem(name: "plain", log: plainLog)
            let buffered = try MemoryFileSystem(name: "buffered", log: bufferedLog)
            buffered.bufferedLog = true
            #expect(buffered.bufferedLog && !plain.bufferedLog)
            var a = Random(state: seed), b = Random(state: seed)
            for round in 0..<400 {
                try change(plain, &a)
                try change(buffered, &b)
                if round % 37 == 0 {
                    // Nothing of the buffered log is written before its flush...
                    let written = try FileManager.default.attributesOfItem(atPath: bufferedLog)[.size] as? Int ?? -1
                    let length = try #require(try buffered.flushLog())
                    // ...then all of it, as long as the plain log.
                    #expect(written <= length)
                    #expect(try FileManager.default.attributesOfItem(atPath: bufferedLog)[.size] as? Int == length)
                    #expect(try FileManager.default.attributesOfItem(atPath: plainLog)[.size] as? Int == length)
                    marks.append((length, try tree(buffered)))
                }
            }
            #expect(try tree(plain) == tree(buffered))
            marks.append((try #require(try buffered.flushLog()), try tree(buffered)))
            #expect(try MemoryFileSystem.ChangeLog.read(plainLog).records.count
                    == MemoryFileSystem.ChangeLog.read(bufferedLog).records.count)
        }
        #expect(marks.count > 5)
        // Replayed up to each committed length: the tree as it was then.
        for mark in marks {
            let copy = folder.absolute("copy.changes")
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: bufferedLog, toPath: copy)
            let replayed = try MemoryFileSystem(name: "replayed", log: copy, committed: mark.length)
            #expect(try tree(replayed) == mark.tree)
            // The file is cut there, and new records follow it.
            #expect(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int == mark.length)
            _ = try replayed.openDirectory(absolute: "/", display: "").makeDirectory("after", mode: 0o700)
            let again = try MemoryFileSystem(name: "again", log: copy)
            #expect(try tree(again) == tree(replayed))
        }
    }

    @Test func aCommittedLengthMustEndARecordWithinTheFile() throws {
        let folder = try TempDirectory()
        let log = folder.absolute("host.changes")
        let length: Int
        do {
            let fs = try MemoryFileSystem(name: "m", log: log)
            fs.bufferedLog = true
            _ = try fs.openDirectory(absolute: "/", display: "").makeDirectory("a", mode: 0o700)
            _ = try fs.openDirectory(absolute: "/", display: "").makeDirectory("b", mode: 0o700)
            length = try #require(try fs.flushLog())
        }
        #expect(throws: MemoryFileSystem.ChangeLog.Corrupt.self) { try MemoryFileSystem(name: "x", log: log, committed: length + 1) }
        #expect(throws: MemoryFileSystem.ChangeLog.Corrupt.self) { try MemoryFileSystem(name: "x", log: log, committed: length - 1) }
        #expect(throws: MemoryFileSystem.ChangeLog.Corrupt.self) {
            try MemoryFileSystem(name: "x", log: folder.absolute("missing.changes"), committed: 10)
        }
        let whole = try MemoryFileSystem(name: "x", log: log, committed: length)
        #expect(try whole.linkStatus("/b")?.kind == .directory)
        let none = try MemoryFileSystem(name: "y", log: log, committed: 0)
        #expect(try none.linkStatus("/a") == nil)
    }
}
