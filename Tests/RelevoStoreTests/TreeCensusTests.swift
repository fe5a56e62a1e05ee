import Foundation
import Testing
import Glibc
@testable import RelevoStore

@Suite struct TreeCensusTests {
    @Test func listsRegularFilesWithRelativePaths() throws {
        let directory = try TempDirectory()
        let time = FileTime(seconds: 1_234_567_890, nanoseconds: 123_456_789)
        directory.write("store/ceres/cur/1.2.h:2,S", "hello", mtime: time, mode: 0o640)
        directory.write("store/ceres/maildirsize", "10000000S,5000000C\n")
        directory.makeDirectory("store/ceres/new")
        let census = try TreeCensus.scan(root: directory.absolute("store"), relative: "ceres/")
        #expect(census.location == "ceres")
        #expect(census.root == directory.absolute("store"))
        #expect(census.files.map(\.path) == ["cur/1.2.h:2,S", "maildirsize"])
        #expect(census.directories.map(\.path) == ["cur", "new"])
        let message = try #require(census["cur/1.2.h:2,S"])
        #expect(message.size == 5)
        #expect(message.mode == 0o640)
        #expect(message.mtime == directory.mtime("store/ceres/cur/1.2.h:2,S"))
        #expect(message.mtime.seconds == 1_234_567_890)
        #expect(message.sha256 == SHA256.hexHash(Array("hello".utf8)))
        #expect(message.sha256 == (try SHA256.hashFile(atPath: directory.absolute("store/ceres/cur/1.2.h:2,S"))))
        #expect(message.linkCount == 1)
        #expect(census.totalBytes == 5 + 19)
        #expect(census["missing"] == nil)
        let unhashed = try TreeCensus.scan(root: directory.absolute("store"), relative: "ceres",
                                           options: CensusOptions(hashContents: false))
        #expect(unhashed.files.allSatisfy { $0.sha256 == nil })
    }

    @Test func refusesASymlinkToEtcShadowNamingThePathFromTheStoreRoot() throws {
        let directory = try TempDirectory()
        directory.write("store/ceres/cur/1.2.h", "ok")
        directory.symlink("store/ceres/cur/3.4.h:2,S", to: "/etc/shadow")
        let error = storeError { try TreeCensus.scan(root: directory.absolute("store"), relative: "ceres") }
        #expect(error == .refused([Refusal(path: "ceres/cur/3.4.h:2,S", reason: .specialFile(.symbolicLink))]))
        #expect(error?.description.contains("ceres/cur/3.4.h:2,S: symbolic link") == true)
        // The Maildir census refuses it the same way.
        #expect(storeError { try MaildirCensus.scan(root: directory.absolute("store"), relative: "ceres") } == error)
    }

    @Test func refusesASymlinkToAnotherUsersMaildir() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/pluto")
        directory.write("store/pluto/cur/1.2.h", "pluto's mail")
        directory.makeMaildir("store/ceres")
        directory.symlink("store/ceres/.Archive", to: "../pluto")
        let error = storeError { try MaildirCensus.scan(root: directory.absolute("store"), relative: "ceres") }
        #expect(error?.refusals == [Refusal(path: "ceres/.Archive", reason: .specialFile(.symbolicLink))])
    }

    @Test func refusesAFifoWithoutBlocking() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres")
        #expect(mkfifo(directory.absolute("store/ceres/new/1.2.h"), 0o600) == 0)
        let error = storeError { try TreeCensus.scan(root: directory.absolute("store"), relative: "ceres") }
        #expect(error == .refused([Refusal(path: "ceres/new/1.2.h", reason: .specialFile(.fifo))]))
    }

    @Test func refusesASocket() throws {
        let directory = try TempDirectory()
        directory.makeDirectory("store/ceres")
        let path = directory.absolute("store/ceres/sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in path.utf8.enumerated() { buffer[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let error = storeError { try TreeCensus.scan(root: directory.absolute("store"), relative: "ceres") }
        #expect(error == .refused([Refusal(path: "ceres/sock", reason: .specialFile(.socket))]))
    }

    @Test func refusesHardLinksUnlessAllowed() throws {
        let directory = try TempDirectory()
        directory.write("outside/passwd-copy", "secret")
        directory.makeDirectory("store/ceres/cur")
        #expect(link(directory.absolute("outside/passwd-copy"), directory.absolute("store/ceres/cur/1.2.h")) == 0)
        let root = directory.absolute("store")
        let error = storeError { try TreeCensus.scan(root: root, relative: "ceres") }
        #expect(error == .refused([Refusal(path: "ceres/cur/1.2.h", reason: .hardLinked(links: 2))]))
        let allowed = try TreeCensus.scan(root: root, relative: "ceres", options: CensusOptions(allowHardLinks: true))
        #expect(allowed.files.first?.linkCount == 2)
        #expect(storeError { try MaildirCensus.scan(root: root, relative: "ceres") } == error)
    }

    @Test func listsEveryRefusalAtOnce() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres")
        directory.symlink("store/ceres/cur/a.b.c", to: "/etc/passwd")
        #expect(mkfifo(directory.absolute("store/ceres/tmp/fifo"), 0o600) == 0)
        directory.write("store/ceres/new/1.2.h", "fine")
        let error = storeError { try TreeCensus.scan(root: directory.absolute("store"), relative: "ceres") }
        #expect(error?.refusals.map(\.path) == ["ceres/cur/a.b.c", "ceres/tmp/fifo"])
    }

    @Test func refusesNonUTF8Names() throws {
        let directory = try TempDirectory()
        directory.makeDirectory("store/ceres")
        var bytes = Array(directory.absolute("store/ceres/bad").utf8) + [0xff, 0xfe, 0]
        let fd = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                open($0, O_CREAT | O_WRONLY, 0o600)
            }
        }
        #expect(fd >= 0)
        close(fd)
        let error = storeError { try TreeCensus.scan(root: directory.absolute("store"), relative: "ceres") }
        #expect(error?.refusals.first?.reason == .undecodableName)
        #expect(error?.refusals.first?.path.hasPrefix("ceres/bad") == true)
    }

    @Test func refusesBadRelativePathsBeforeReading() throws {
        let directory = try TempDirectory()
        #expect(storeError { try TreeCensus.scan(root: directory.path, relative: "../etc") }
                == .invalidRelativePath("../etc", .parentComponent))
        #expect(storeError { try TreeCensus.scan(root: directory.path, relative: "/etc") }
                == .invalidRelativePath("/etc", .absolute))
        #expect(storeError { try TreeCensus.scan(root: directory.path, relative: "missing") }
                == .io(path: "missing", operation: "open directory", errno: ENOENT))
    }
}
