// Live tests of SFTPClient against the testbed's real sshd daemons.
import Foundation
import RelevoSSH
import Testing

@Suite struct SFTPLiveTests {
    let live: Live
    init() throws { live = try Live.make() }

    private func write(_ sftp: SFTPClient, _ path: String, _ text: String) throws {
        let writer = try sftp.createExclusive(path)
        try writer.write(Array(text.utf8))
        try writer.close()
    }

    private func read(_ sftp: SFTPClient, _ path: String) throws -> String {
        let reader = try sftp.openForReading(path)
        defer { try? reader.close() }
        return String(decoding: try reader.readAll(), as: UTF8.self)
    }

    @Test func createExclusiveRefusesAnythingAtThePath() throws {
        let session = try live.connect(.new)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .new) { folder in
            try write(sftp, folder + "/file", "original")
            #expect(try session.run(["mkdir", folder + "/dir"]).succeeded)
            #expect(try session.run(["ln", "-s", "nowhere", folder + "/dangling"]).succeeded)
            for name in ["file", "dir", "dangling"] {
                let (error, _) = expectSSHError { _ = try sftp.createExclusive(folder + "/" + name) }
                #expect(error == .sftp(operation: "create", path: folder + "/" + name, code: .fileAlreadyExists),
                        "\(name): \(String(describing: error))")
            }
            #expect(try read(sftp, folder + "/file") == "original")
            #expect(try sftp.lstat(folder + "/nowhere") == nil, "the dangling link was not followed")
            // In a folder that does not exist: the server's own status.
            let (missing, _) = expectSSHError { _ = try sftp.createExclusive(folder + "/absent/x") }
            #expect(missing == .sftp(operation: "create", path: folder + "/absent/x", code: .noSuchFile))
        }
    }

    @Test func renameNoReplaceNeverOverwrites() throws {
        let session = try live.connect(.new)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .new) { folder in
            try write(sftp, folder + "/a", "content A")
            try write(sftp, folder + "/b", "content B")
            #expect(try sftp.renameNoReplace(from: folder + "/a", to: folder + "/b") == false)
            #expect(try read(sftp, folder + "/a") == "content A")
            #expect(try read(sftp, folder + "/b") == "content B")
            #expect(try session.run(["cat", folder + "/b"]).stdoutText == "content B")

            // Onto an existing directory: refused too, both intact.
            #expect(try sftp.makeDirectory(folder + "/d"))
            #expect(try sftp.renameNoReplace(from: folder + "/a", to: folder + "/d") == false)
            #expect(try sftp.lstat(folder + "/d")?.kind == .directory)
            #expect(try read(sftp, folder + "/a") == "content A")

            // To a free name: renamed.
            #expect(try sftp.renameNoReplace(from: folder + "/a", to: folder + "/c"))
            #expect(try sftp.lstat(folder + "/a") == nil)
            #expect(try read(sftp, folder + "/c") == "content A")

            // A missing source is an error, not "exists".
            let (error, _) = expectSSHError { _ = try sftp.renameNoReplace(from: folder + "/zz", to: folder + "/y") }
            #expect(error?.kind == "sftp", "\(String(describing: error))")
        }
    }

    @Test func lstatReportsSymlinksWithoutFollowing() throws {
        let session = try live.connect(.old)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .old) { folder in
            #expect(try session.run(["ln", "-s", "target-file", folder + "/link"]).succeeded)
            let link = try #require(try sftp.lstat(folder + "/link"))
            #expect(link.kind == .symlink)
            #expect(link.size == UInt64("target-file".utf8.count))
            #expect(try sftp.stat(folder + "/link") == nil, "dangling: stat follows, finds nothing")
            try write(sftp, folder + "/target-file", "12345")
            #expect(try sftp.stat(folder + "/link")?.kind == .regular)
            #expect(try sftp.stat(folder + "/link")?.size == 5)
            #expect(try sftp.lstat(folder + "/link")?.kind == .symlink)
            #expect(try sftp.readlink(folder + "/link") == "target-file")

            #expect(try sftp.lstat(folder + "/absent") == nil)
        }
    }

    @Test func timesAndModeFromTheWriterAreWhatTheHostShows() throws {
        let session = try live.connect(.new)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .new) { folder in
            let path = folder + "/timed"
            let writer = try sftp.createExclusive(path, mode: 0o600)
            try writer.write(Array("hello".utf8))
            try writer.setMode(0o640)
            try writer.setTimes(atime: 1_000_000_000, mtime: 1_234_567_890)
            try writer.fsync()
            let attributes = try writer.fstat()
            try writer.close()
            try writer.close()  // again: no effect
            #expect(attributes.mode == 0o640 && attributes.mtime == 1_234_567_890)
            let shown = try session.run(["stat", "-c", "%a %X %Y %s %F", path])
            #expect(shown.stdoutText == "640 1000000000 1234567890 5 regular file\n")
            let stat = try #require(try sftp.stat(path))
            #expect(stat == FileAttributes(kind: .regular, size: 5, mode: 0o640, uid: stat.uid, gid: stat.gid,
                                           atime: 1_000_000_000, mtime: 1_234_567_890))
            let ids = try session.run(["stat", "-c", "%u %g", path]).stdoutText
            #expect(ids == "\(stat.uid) \(stat.gid)\n")

            // The path-based setters, likewise.
            try sftp.setTimes(path, atime: 1_500_000_000, mtime: 1_600_000_000)
            try sftp.setMode(path, 0o4755)
            #expect(try session.run(["stat", "-c", "%a %X %Y", path]).stdoutText == "4755 1500000000 1600000000\n")
            #expect(expectSSHError { try sftp.setTimes(path, atime: -1, mtime: 0) }.error?.kind == "invalidArgument")
        }
    }

    @Test func twentyMegabytesRoundTripByteIdentical() throws {
        let session = try live.connect(.new)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .new) { folder in
            let size = 20 * 1024 * 1024
            let bytes = randomBytes(size)
            let path = folder + "/big"

            var start = Date()
            let writer = try sftp.createExclusive(path, mode: 0o644)
            var offset = 0
            while offset < size {
                let end = min(size, offset + 1024 * 1024)
                try writer.write(Array(bytes[offset..<end]))
                offset = end
            }
            try writer.fsync()
            try writer.close()
            let upload = Date().timeIntervalSince(start)

            let remote = try session.run(["sha256sum", path]).stdoutText.prefix(64)
            #expect(String(remote) == (try localSHA256(bytes)))
            #expect(try sftp.stat(path)?.size == UInt64(size))

            start = Date()
            let reader = try sftp.openForReading(path)
            var back: [UInt8] = []
            back.reserveCapacity(size)
            while true {
                let chunk = try reader.read(max: 256 * 1024)
                if chunk.isEmpty { break }
                back += chunk
            }
            try reader.close()
            let download = Date().timeIntervalSince(start)
            #expect(back == bytes)
            print("20 MiB over SFTP: upload \(mbps(size, upload)) MB/s, download \(mbps(size, download)) MB/s")
        }
    }

    @Test func copyBetweenHostsKeepsBytes() throws {
        let oldSession = try live.connect(.old)
        let newSession = try live.connect(.new)
        let source = try SFTPClient(session: oldSession)
        let target = try SFTPClient(session: newSession)
        try live.withScratch(oldSession, .old) { oldFolder in
            try live.withScratch(newSession, .new) { newFolder in
                let size = 20 * 1024 * 1024
                #expect(try oldSession.run(["sh", "-c", "head -c \(size) /dev/urandom > \"$1\"", "sh",
                                            oldFolder + "/m"]).succeeded)
                let start = Date()
                let reader = try source.openForReading(oldFolder + "/m")
                let writer = try target.createExclusive(newFolder + "/m")
                while true {
                    let chunk = try reader.read(max: 1024 * 1024)
                    if chunk.isEmpty { break }
                    try writer.write(chunk)
                }
                try writer.close()
                try reader.close()
                let seconds = Date().timeIntervalSince(start)
                let a = try oldSession.run(["sha256sum", oldFolder + "/m"]).stdoutText.prefix(64)
                let b = try newSession.run(["sha256sum", newFolder + "/m"]).stdoutText.prefix(64)
                #expect(a == b)
                print("20 MiB old -> new over two SFTP sessions: \(mbps(size, seconds)) MB/s")
            }
        }
    }

    @Test func listingIsSortedAndUsesLstat() throws {
        let session = try live.connect(.old)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .old) { folder in
            let names = ["b", "a", "C", "_x", ".hidden", "a b", "ñ", "10", "9"]
            for name in names { try write(sftp, folder + "/" + name, name) }
            #expect(try sftp.makeDirectory(folder + "/sub"))
            #expect(try session.run(["ln", "-s", "sub", folder + "/to-sub"]).succeeded)
            let listed = try sftp.list(folder)
            let expected = (names + ["sub", "to-sub"]).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            #expect(listed.map(\.name) == expected)
            #expect(listed.map(\.name) == [".hidden", "10", "9", "C", "_x", "a", "a b", "b", "sub", "to-sub", "ñ"])
            let kinds = Dictionary(uniqueKeysWithValues: listed.map { ($0.name, $0.attributes.kind) })
            #expect(kinds["sub"] == .directory)
            #expect(kinds["to-sub"] == .symlink)
            #expect(kinds["a b"] == .regular)
            #expect(listed.first { $0.name == "a b" }?.attributes.size == 3)
            #expect(try sftp.list(folder + "/sub").isEmpty)
            let (error, _) = expectSSHError { _ = try sftp.list(folder + "/absent") }
            #expect(error == .sftp(operation: "list", path: folder + "/absent", code: .noSuchFile))
        }
    }

    @Test func undecodableNamesAreReportedNotAltered() throws {
        let session = try live.connect(.old)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .old) { folder in
            let made = try session.run(["sh", "-c", "touch \"$1/caf$(printf '\\351')\"", "sh", folder])
            #expect(made.succeeded)
            let (error, _) = expectSSHError { _ = try sftp.list(folder) }
            #expect(error == .undecodableName(directory: folder, bytes: Array("caf".utf8) + [0xE9]))
        }
    }

    @Test func directoriesAndNames() throws {
        let session = try live.connect(.new)
        let sftp = try SFTPClient(session: session)
        try live.withScratch(session, .new) { folder in
            #expect(try sftp.makeDirectory(folder + "/d", mode: 0o750) == true)
            #expect(try sftp.makeDirectory(folder + "/d") == false, "already a directory")
            try write(sftp, folder + "/f", "x")
            #expect(expectSSHError { try sftp.makeDirectory(folder + "/f") }.error?.kind == "sftp")
            try sftp.setMode(folder + "/d", 0o750)
            #expect(try sftp.lstat(folder + "/d")?.mode == 0o750)
            let real = try sftp.realpath(folder + "/d/../d/.")
            #expect(real == (try session.run(["realpath", folder + "/d"]).stdoutText.dropLast()).description)
            try sftp.removeDirectory(folder + "/d")
            #expect(try sftp.lstat(folder + "/d") == nil)
            try sftp.unlink(folder + "/f")
            #expect(try sftp.lstat(folder + "/f") == nil)
            let (error, _) = expectSSHError { try sftp.unlink(folder + "/f") }
            #expect(error == .sftp(operation: "unlink", path: folder + "/f", code: .noSuchFile))
            #expect(error?.description == "sftp unlink \(folder)/f: no such file (2)")
            let (openError, _) = expectSSHError { _ = try sftp.openForReading(folder + "/f") }
            #expect(openError == .sftp(operation: "open", path: folder + "/f", code: .noSuchFile))
            #expect(expectSSHError { _ = try sftp.lstat("a\u{0}b") }.error?.kind == "invalidArgument")
        }
    }
}

func mbps(_ bytes: Int, _ seconds: Double) -> String {
    String(format: "%.1f", Double(bytes) / 1_000_000 / seconds)
}
