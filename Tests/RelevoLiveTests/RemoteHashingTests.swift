import Foundation
@testable import RelevoLive
import RelevoSSH
import RelevoStore
import Testing
import TestbedSupport

/// A verification census over SFTP hashes on the host (`sha256sum` there,
/// one command for the Maildir) and must find exactly the digests a local
/// read finds.
@Suite(.serialized) struct RemoteHashingTests {
    static let message = Array("From: a@example.org\nSubject: one\n\nbody\n".utf8)
    static let other = Array("Subject: two\n\nsecond body, longer than the first\n".utf8)

    /// A Maildir on the old host with messages in two folders and two files
    /// whose names a shell would misread.
    func makeMaildir(_ root: String) throws -> String {
        let base = root + "/hashuser"
        for dir in ["cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"] {
            try FileManager.default.createDirectory(atPath: base + "/" + dir, withIntermediateDirectories: true)
        }
        try Data(Self.message).write(to: URL(fileURLWithPath: base + "/cur/1700000000.M1P1.neon:2,S"))
        try Data(Self.other).write(to: URL(fileURLWithPath: base + "/new/1700000001.M2P2.neon"))
        try Data(Self.other).write(to: URL(fileURLWithPath: base + "/.Sent/cur/1700000002.M3P3.neon:2,S"))
        try Data("it's $(a) file; `x`\n".utf8).write(to: URL(fileURLWithPath: base + "/it's $(a) file"))
        try Data("-n\n".utf8).write(to: URL(fileURLWithPath: base + "/-n"))
        return base
    }

    @Test func aCensusOverSFTPHashesOnTheHostAndAgreesWithALocalRead() throws {
        let bed = IsolatedTestbed(name: "hashing")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"]
        let base = try makeMaildir(oldRoot)
        defer { try? FileManager.default.removeItem(atPath: base) }

        guard let address = SSHEndpoint.parseAddress(bed["RELEVO_OLD_SSH"]) else {
            Issue.record("RELEVO_OLD_SSH is not host:port")
            return
        }
        let endpoint = SSHEndpoint(host: address.host, port: address.port, user: bed["RELEVO_SSH_USER"],
                                   identityFile: bed["RELEVO_SSH_IDENTITY"], knownHostsFile: bed["RELEVO_KNOWN_HOSTS"],
                                   timeout: 10, name: "neon")
        let pool = SSHPool()
        defer { pool.closeAll() }
        let fs = SFTPFileSystem(client: try pool.sftp(for: endpoint), name: "neon")

        // Asked directly: one answer per regular file given, nothing for a
        // path that is not there.
        let top = try fs.openDirectory(absolute: base, display: "hashuser")
        let asked = ["cur/1700000000.M1P1.neon:2,S", "it's $(a) file", "-n", "new/missing"]
        let digests = try #require(try top.digests(of: asked))
        #expect(Set(digests.keys) == ["cur/1700000000.M1P1.neon:2,S", "it's $(a) file", "-n"])
        var hasher = SHA256()
        Self.message.withUnsafeBytes { hasher.update(bytes: $0) }
        #expect(digests["cur/1700000000.M1P1.neon:2,S"] == hasher.hexDigest())

        // The census: every message and other file hashed, equal to a local read.
        let remote = try MaildirCensus.scan(try StoreRoot(oldRoot, on: fs).location("hashuser"))
        let local = try MaildirCensus.scan(root: oldRoot, relative: "hashuser")
        #expect(remote.messageCount == 3)
        #expect(remote.messages.values.allSatisfy { $0.file.sha256 != nil })
        #expect(remote.messages.mapValues(\.file.sha256) == local.messages.mapValues(\.file.sha256))
        #expect(remote.otherFiles.map(\.sha256) == local.otherFiles.map(\.sha256))
        #expect(remote.otherFiles.count == 2)
        #expect(remote.difference(to: local).isComplete)
    }
}
