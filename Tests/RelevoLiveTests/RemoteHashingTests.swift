import Foundation
@testable import RelevoLive
import RelevoSSH
import RelevoStore
import Testing
import TestbedSupport

/// What a live run asks a host to do in one command instead of many SFTP
/// requests: hash the files of a Maildir (`sha256sum`), read a batch of
/// messages (`tar`). Each must agree exactly with a local read.
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
        try Data(Self.other).write(to: URL(fileURLWithPath: base + "/cur/" + Self.longName))
        return base
    }

    /// A message name longer than a tar header's name field.
    static let longName = String(repeating: "1700000003.M4P4V0000000000000801I0000000000ABCDEF.", count: 3) + "neon,S=50:2,S"

    func endpoint(_ bed: IsolatedTestbed, _ side: String) throws -> SSHEndpoint {
        let address = try #require(SSHEndpoint.parseAddress(bed["RELEVO_\(side)_SSH"]))
        return SSHEndpoint(host: address.host, port: address.port, user: bed["RELEVO_SSH_USER"],
                           identityFile: bed["RELEVO_SSH_IDENTITY"], knownHostsFile: bed["RELEVO_KNOWN_HOSTS"],
                           timeout: 10, name: side.lowercased())
    }

    /// `chown` of a Maildir over SSH is one command per owner; undo gives
    /// every entry its owner back, skipping what is gone since.
    @Test func ownersChangeInOneCommandAndComeBack() throws {
        let bed = IsolatedTestbed(name: "chown")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"]
        let base = try makeMaildir(oldRoot)
        let pool = SSHPool()
        defer { pool.closeAll() }
        let fs = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")
        let location = try StoreRoot(oldRoot, on: fs).location("hashuser")
        #expect(try fs.openDirectory(absolute: base, display: "hashuser").changesManyOwners)
        let vmail = try fs.owner(user: "vmail", group: "vmail")
        let before = try Ownership.currentOwners(of: location)
        let report = try Ownership.change(location, to: vmail)
        #expect(report.applied)
        #expect(report.changes.count == before.count, "every entry was root's")
        #expect(try Ownership.currentOwners(of: location).allSatisfy { $0.owner == vmail })

        try FileManager.default.removeItem(atPath: base + "/-n")
        try Ownership.restore(report, in: location)
        let after = try Ownership.currentOwners(of: location)
        #expect(after.count == before.count - 1)
        #expect(after.allSatisfy { $0.owner.uid == 0 && $0.owner.gid == 0 })
    }

    /// The host's sshd killed while a long listing is under way is an
    /// error, not a crash (the listing's handle was closed after the
    /// failure had already freed the session with it).
    @Test func aServerKilledDuringAListingIsAnError() throws {
        let bed = IsolatedTestbed(name: "listkill")
        try bed.up()
        defer { bed.down() }
        let big = bed["RELEVO_OLD_ROOT"] + "/big"
        try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
        for i in 0..<40000 { FileManager.default.createFile(atPath: big + "/message-\(i)-with-a-long-enough-name", contents: nil) }
        let pool = SSHPool()
        defer { pool.closeAll() }
        let client = try pool.sftp(for: try endpoint(bed, "OLD"))
        let sshd = try #require(bed.pid("sshd-neon"))
        let killer = Thread {
            usleep(60_000)
            killTree(sshd)
        }
        killer.start()
        var failed = false
        for _ in 0..<20 where !failed {
            do { _ = try client.list(big) } catch { failed = true }
        }
        #expect(failed, "the listing after the kill fails with an error")
    }

    @Test func aBatchOfMessagesComesInOneTarAndACopyBetweenHostsUsesIt() throws {
        let bed = IsolatedTestbed(name: "batch")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"], newRoot = bed["RELEVO_NEW_ROOT"]
        let base = try makeMaildir(oldRoot)
        try FileManager.default.createSymbolicLink(atPath: base + "/cur/1700000009.M9P9.neon:2,S", withDestinationPath: "/etc/passwd")
        let pool = SSHPool()
        defer { pool.closeAll() }
        let old = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")
        let new = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "NEW")), name: "xalumno")

        // Asked directly: the regular files, byte for byte, with their times;
        // not the link, not a path that is not there.
        let top = try old.openDirectory(absolute: base, display: "hashuser")
        #expect(top.readsManyFiles)
        let asked = ["cur/1700000000.M1P1.neon:2,S", "cur/" + Self.longName, "it's $(a) file", "-n",
                     "cur/1700000009.M9P9.neon:2,S", "new/missing"]
        let fetched = try #require(try top.readFiles(asked))
        #expect(Set(fetched.keys) == Set(asked.prefix(4)))
        #expect(fetched["cur/1700000000.M1P1.neon:2,S"]?.bytes == Self.message)
        #expect(fetched["cur/" + Self.longName]?.bytes == Self.other)
        let local = try FileManager.default.attributesOfItem(atPath: base + "/cur/1700000000.M1P1.neon:2,S")
        let mtime = try #require(local[.modificationDate] as? Date)
        #expect(fetched["cur/1700000000.M1P1.neon:2,S"]?.status.mtime.seconds == Int64(mtime.timeIntervalSince1970.rounded(.down)))

        // A Maildir with a link is refused whole, before anything is written.
        let source = try StoreRoot(oldRoot, on: old).location("hashuser")
        let target = try StoreRoot(newRoot, on: new).location("hashuser")
        #expect(throws: StoreError.self) { _ = try MaildirCopier(from: source, to: target).copy() }
        #expect(!FileManager.default.fileExists(atPath: newRoot + "/hashuser/cur"))

        // Without the link: every message placed, the same bytes, once.
        try FileManager.default.removeItem(atPath: base + "/cur/1700000009.M9P9.neon:2,S")
        let report = try MaildirCopier(from: source, to: target, options: CopyOptions(flagPolicy: .merge)).copy()
        #expect(report.copied.count == 6, "four messages and two other files: \(report.copied.map(\.path))")
        #expect(report.conflicts.isEmpty)
        let copied = try MaildirCensus.scan(root: newRoot, relative: "hashuser")
        let original = try MaildirCensus.scan(root: oldRoot, relative: "hashuser")
        #expect(copied.messages.mapValues(\.file.sha256) == original.messages.mapValues(\.file.sha256))
        #expect(copied.messages.mapValues(\.file.mtime.seconds) == original.messages.mapValues(\.file.mtime.seconds))
        #expect(try FileManager.default.contentsOfDirectory(atPath: newRoot + "/hashuser/tmp").isEmpty,
                "the batch's staging folder is gone")
        #expect(try MaildirCopier(from: source, to: target).copy().copied.isEmpty, "a second pass copies nothing")
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
        let digests = try #require(try top.digests(of: asked, bytes: 200))
        #expect(Set(digests.keys) == ["cur/1700000000.M1P1.neon:2,S", "it's $(a) file", "-n"])
        var hasher = SHA256()
        Self.message.withUnsafeBytes { hasher.update(bytes: $0) }
        #expect(digests["cur/1700000000.M1P1.neon:2,S"] == hasher.hexDigest())

        // The census: every message and other file hashed, equal to a local read.
        let remote = try MaildirCensus.scan(try StoreRoot(oldRoot, on: fs).location("hashuser"))
        let local = try MaildirCensus.scan(root: oldRoot, relative: "hashuser")
        #expect(remote.messageCount == 4)
        #expect(remote.messages.values.allSatisfy { $0.file.sha256 != nil })
        #expect(remote.messages.mapValues(\.file.sha256) == local.messages.mapValues(\.file.sha256))
        #expect(remote.otherFiles.map(\.sha256) == local.otherFiles.map(\.sha256))
        #expect(remote.otherFiles.count == 2)
        #expect(remote.difference(to: local).isComplete)
    }

    /// Hashing prefers OpenSSL and falls back to coreutils, with the same
    /// digests either way; a name with a newline or a backslash always goes
    /// to `sha256sum --zero`, whose answer cannot be misread; with neither
    /// program there is no answer (the census then reads the files itself).
    @Test func hashingPrefersOpenSSLAndAgreesWithSha256sum() throws {
        let bed = IsolatedTestbed(name: "hashers")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"]
        let base = oldRoot + "/hashers"
        try FileManager.default.createDirectory(atPath: base + "/cur", withIntermediateDirectories: true)
        let names = ["cur/1700000000.M1P1.neon:2,S", "cur/back\\slash", "cur/new\nline", "cur/new\n" + String(repeating: "a", count: 64) + " *x",
                     "cur/it's $(a) file", "cur/-n", "cur/sp ace"]
        var expected: [String: String] = [:]
        for (i, name) in names.enumerated() {
            let bytes = Array("message \(i) \(name)\n".utf8)
            try Data(bytes).write(to: URL(fileURLWithPath: base + "/" + name))
            expected[name] = SHA256.hexHash(bytes)
        }
        let pool = SSHPool()
        defer { pool.closeAll() }
        let fs = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")
        let asked = names + ["cur/missing"]

        #expect(fs.hashers == [.openssl, .sha256sum])
        let (openssl, sha256sum) = (fs.commands("openssl"), fs.commands("sha256sum"))
        let first = try #require(try fs.digests(base: base, paths: asked))
        #expect(first == expected)
        #expect(fs.commands("openssl") - openssl == 1, "the plain names")
        #expect(fs.commands("sha256sum") - sha256sum == 1, "the names with a newline or a backslash")

        // Few bytes: sha256sum, which starts faster, for all of them.
        let small = try #require(try fs.digests(base: base, paths: asked, bytes: 1000))
        #expect(small == expected)
        #expect(fs.commands("openssl") - openssl == 1 && fs.commands("sha256sum") - sha256sum == 3)
        let large = try #require(try fs.digests(base: base, paths: asked, bytes: SFTPFileSystem.opensslFromBytes))
        #expect(large == expected)
        #expect(fs.commands("openssl") - openssl == 2 && fs.commands("sha256sum") - sha256sum == 4)

        fs.hashers = [.sha256sum]
        let second = try #require(try fs.digests(base: base, paths: asked))
        #expect(second == expected)
        #expect(fs.commands("openssl") - openssl == 2, "not asked again")

        fs.hashers = []
        #expect(try fs.digests(base: base, paths: asked) == nil)
    }

    /// A batch of Maildirs (a phase's `batch:`): their census is one `find`
    /// and one `sha256sum` for all of them, their chown one `find` (the
    /// owners before, for undo) and one `chown` per owner, and
    /// each result is what the Maildir's own would be; a refused Maildir
    /// fails alone.
    @Test func aBatchOfMaildirsIsHashedAndChownedInOneCommand() throws {
        let bed = IsolatedTestbed(name: "batchhash")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"]
        let base = try makeMaildir(oldRoot)
        for name in ["batch1", "batch2", "batch3"] {
            let target = oldRoot + "/" + name
            try FileManager.default.copyItem(atPath: base, toPath: target)
            try Data(name.utf8).write(to: URL(fileURLWithPath: target + "/cur/1700000009.M9P9.neon:2,S"))
        }
        // batch3 holds a link: refused, by itself.
        try FileManager.default.createSymbolicLink(atPath: oldRoot + "/batch3/cur/1700000010.M1P1.neon:2,S",
                                                   withDestinationPath: "/etc/passwd")
        let pool = SSHPool()
        defer { pool.closeAll() }
        let fs = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")
        let root = try StoreRoot(oldRoot, on: fs)
        let locations = try ["batch1", "hashuser", "batch2", "batch3"].map { try root.location($0) }

        let hashed = fs.hashCommands, found = fs.commands("find")
        let results = MaildirCensus.scanMany(locations)
        #expect(fs.hashCommands == hashed + 1, "one command hashes the batch")
        #expect(fs.commands("find") == found + 1, "one find lists the batch's Maildirs")
        for (location, result) in zip(locations.prefix(3), results.prefix(3)) {
            let census = try result.get()
            // Listed by find, the census is the one an SFTP walk gives.
            #expect(census == (try MaildirCensus.scan(location)), "\(location.relative)")
            let local = try MaildirCensus.scan(root: oldRoot, relative: location.relative)
            #expect(census.messageCount == 5 || location.relative == "hashuser")
            #expect(census.messages.values.allSatisfy { $0.file.sha256 != nil })
            #expect(census.messages.mapValues(\.file.sha256) == local.messages.mapValues(\.file.sha256))
            #expect(census.otherFiles.map(\.sha256) == local.otherFiles.map(\.sha256))
        }
        let refusedInBatch = #expect(throws: StoreError.self) { try results[3].get() }
        let refusedAlone = #expect(throws: StoreError.self) { try MaildirCensus.scan(locations[3]) }
        #expect(String(describing: refusedInBatch) == String(describing: refusedAlone), "the same refusal")

        let vmail = try fs.owner(user: "vmail", group: "vmail")
        let before = try locations.prefix(3).map { try Ownership.currentOwners(of: $0) }
        let chowned = fs.commands("chown"), listed = fs.commands("find")
        let reports = Ownership.changeMany(locations.map { ($0, vmail) })
        #expect(fs.commands("chown") == chowned + 1, "one chown for the batch")
        #expect(fs.commands("find") == listed + 1, "one find lists the owners before")
        #expect(throws: StoreError.self) { try reports[3].get() }
        for (i, location) in locations.prefix(3).enumerated() {
            let report = try reports[i].get()
            #expect(report.applied && report.changes.count == before[i].count)
            #expect(try Ownership.currentOwners(of: location).allSatisfy { $0.owner == vmail })
            try Ownership.restore(report, in: location)
            #expect(try Ownership.currentOwners(of: location).allSatisfy { $0.owner.uid == 0 && $0.owner.gid == 0 })
        }
    }

    /// Hundreds of long paths in one batch: libssh2 refuses a command line
    /// over about 32 KB, so listing and reading split their paths into
    /// commands that fit, hashing and chown take theirs on standard input,
    /// and every path is answered.
    @Test func manyLongPathsAreSplitIntoCommandsThatFit() throws {
        let bed = IsolatedTestbed(name: "longpaths")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"]
        try FileManager.default.createDirectory(atPath: oldRoot + "/long/cur", withIntermediateDirectories: true)
        var paths: [String] = []
        for i in 0..<600 {
            // 150-byte names, as a long host name makes them.
            let name = "long/cur/1700000000.M\(i)P1." + String(repeating: "mail-storage-node.", count: 6) + "example.org,S=40:2,S"
            try Data("message \(i)\n".utf8).write(to: URL(fileURLWithPath: oldRoot + "/" + name))
            paths.append(name)
        }
        let pool = SSHPool()
        defer { pool.closeAll() }
        let fs = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")

        let hashed = fs.hashCommands
        let digests = try #require(try fs.digests(base: oldRoot, paths: paths))
        #expect(digests.count == 600)
        #expect(digests[paths[7]] == SHA256.hexHash(Array("message 7\n".utf8)))
        #expect(fs.hashCommands - hashed == 1, "one command: the paths go on standard input")

        let fetched = try #require(try fs.fetch(base: oldRoot, paths: paths))
        #expect(fetched.count == 600)
        #expect(fetched[paths[599]]?.bytes == Array("message 599\n".utf8))

        let trees = try #require(try fs.listTrees(base: oldRoot, paths: ["long"]))
        #expect(trees["long"]?.directories["cur"]?.count == 600)

        let chowned = fs.commands("chown")
        #expect(try fs.changeOwners(base: oldRoot, paths: paths, uid: 0, gid: 0, missingIsFine: false))
        #expect(fs.commands("chown") - chowned == 1, "one command: the paths go on standard input")

        // A batch's chown of more than 500 entries, and its undo: one
        // request per owner each (the paths on standard input).
        try FileManager.default.createDirectory(atPath: oldRoot + "/short/cur", withIntermediateDirectories: true)
        let store = try StoreRoot(oldRoot, on: fs)
        let locations = [try store.location("long"), try store.location("short")]
        let vmail = try fs.owner(user: "vmail", group: "vmail")
        let changing = fs.commands("chown")
        let reports = Ownership.changeMany(locations.map { ($0, vmail) })
        #expect(fs.commands("chown") - changing == 1, "one chown for 600 files and 3 folders")
        let report = try reports[0].get()
        #expect(report.changes.count == 602)
        #expect(try Ownership.currentOwners(of: locations[0]).allSatisfy { $0.owner == vmail })
        let restoring = fs.commands("chown")
        try Ownership.restore(report, in: locations[0])
        #expect(fs.commands("chown") - restoring == 1, "one chown gives the 602 entries their owner back")
        #expect(try Ownership.currentOwners(of: locations[0]).allSatisfy { $0.owner.uid == 0 })
        for run in SFTPFileSystem.runs(paths, prefix: oldRoot + "/", count: 512) {
            #expect(run.reduce(0) { $0 + oldRoot.utf8.count + $1.utf8.count + 4 } <= 24 * 1024)
        }
    }

    /// A batch's first copies (`MaildirCopier.copyMany`): one `find` lists
    /// every source, one `tar` reads the messages of those whose destination
    /// is absent; each copy is then what its own `copy()` gives (every file,
    /// byte for byte, nothing twice); a source with a link fails alone, and
    /// a destination that already holds part of the mail is copied the
    /// ordinary way.
    @Test func aBatchOfFirstCopiesSharesOneListingAndOneRead() throws {
        let bed = IsolatedTestbed(name: "copymany")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"], newRoot = bed["RELEVO_NEW_ROOT"]
        let base = try makeMaildir(oldRoot)
        for name in ["many1", "many2", "many3", "many4"] {
            try FileManager.default.copyItem(atPath: base, toPath: oldRoot + "/" + name)
            try Data(name.utf8).write(to: URL(fileURLWithPath: oldRoot + "/" + name + "/cur/1700000009.M9P9.neon:2,S"))
        }
        // many3's source holds a link: refused, by itself.
        try FileManager.default.createSymbolicLink(atPath: oldRoot + "/many3/cur/1700000010.M1P1.neon:2,S",
                                                   withDestinationPath: "/etc/passwd")
        // many4 already has one of its messages on the new host.
        try FileManager.default.createDirectory(atPath: newRoot + "/many4/cur", withIntermediateDirectories: true)
        try Data("many4".utf8).write(to: URL(fileURLWithPath: newRoot + "/many4/cur/1700000009.M9P9.neon:2,S"))

        let pool = SSHPool()
        defer { pool.closeAll() }
        let old = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")
        let new = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "NEW")), name: "xalumno")
        let oldStore = try StoreRoot(oldRoot, on: old), newStore = try StoreRoot(newRoot, on: new)
        let names = ["many1", "hashuser", "many2", "many3", "many4"]
        let copiers = try names.map {
            MaildirCopier(from: try oldStore.location($0), to: try newStore.location($0),
                          options: CopyOptions(flagPolicy: .merge, syncFiles: false))
        }
        let (found, read) = (old.commands("find"), old.commands("tar"))
        let results = MaildirCopier.copyMany(copiers)
        #expect(old.commands("find") == found + 1, "one find lists the sources")
        #expect(old.commands("tar") == read + 2, "one tar reads the first copies' messages; many4 reads its own")

        for (name, result) in zip(names, results) where name != "many3" {
            let report = try result.get()
            let source = try MaildirCensus.scan(root: oldRoot, relative: name)
            let copied = try MaildirCensus.scan(root: newRoot, relative: name)
            #expect(copied.messages.mapValues(\.file.sha256) == source.messages.mapValues(\.file.sha256), "\(name)")
            let expected = source.messages.count + source.otherFiles.count - (name == "many4" ? 1 : 0)
            #expect(report.copied.count == expected, "\(name): \(report.copied.count) of \(expected)")
            #expect(report.conflicts.isEmpty)
        }
        #expect(throws: StoreError.self) { try results[3].get() }
        #expect(!FileManager.default.fileExists(atPath: newRoot + "/many3/cur/1700000010.M1P1.neon:2,S"))
    }

    /// The names a batch reads go to `tar` on its standard input, whatever
    /// their number and length: 60 Maildirs with long names (about 60 KB
    /// of paths, more than one command's arguments may hold) are read by
    /// one `tar`, names such as `-n` and `it's $(a) file` taken verbatim.
    @Test func aBatchsReadIsOneTarWhateverItsNamesLength() throws {
        let bed = IsolatedTestbed(name: "tarnames")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"], newRoot = bed["RELEVO_NEW_ROOT"]
        let base = try makeMaildir(oldRoot)
        let names = (0..<60).map { "u\($0)-" + String(repeating: "x", count: 120) }
        for name in names { try FileManager.default.copyItem(atPath: base, toPath: oldRoot + "/" + name) }

        let pool = SSHPool()
        defer { pool.closeAll() }
        let old = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")
        let new = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "NEW")), name: "xalumno")
        let oldStore = try StoreRoot(oldRoot, on: old), newStore = try StoreRoot(newRoot, on: new)
        let copiers = try names.map {
            MaildirCopier(from: try oldStore.location($0), to: try newStore.location($0),
                          options: CopyOptions(flagPolicy: .merge, syncFiles: false))
        }
        let read = old.commands("tar")
        let results = MaildirCopier.copyMany(copiers)
        #expect(old.commands("tar") == read + 1, "one tar reads every message of the batch")
        for (name, result) in zip(names, results) {
            let report = try result.get()
            let source = try MaildirCensus.scan(root: oldRoot, relative: name)
            let copied = try MaildirCensus.scan(root: newRoot, relative: name)
            #expect(copied.messages.mapValues(\.file.sha256) == source.messages.mapValues(\.file.sha256), "\(name)")
            #expect(report.copied.count == source.messages.count + source.otherFiles.count)
            for odd in ["-n", "it's $(a) file"] {
                #expect(FileManager.default.contents(atPath: newRoot + "/" + name + "/" + odd)
                        == FileManager.default.contents(atPath: base + "/" + odd))
            }
        }
    }

    /// A batch step's path check that lists (`thenListed`) answers the
    /// listing that follows it: one `find` for both, the same trees a fresh
    /// listing gives. The kept listing serves one listing only, of the same
    /// paths or fewer, and never across a request that may change the host
    /// (an SFTP write, a command): then `find` is asked again and sees the
    /// change.
    @Test func aPathCheckThatListsAnswersTheListingThatFollows() throws {
        let bed = IsolatedTestbed(name: "keptlist")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"]
        let base = try makeMaildir(oldRoot)
        for name in ["keep1", "keep2"] { try FileManager.default.copyItem(atPath: base, toPath: oldRoot + "/" + name) }
        let pool = SSHPool()
        defer { pool.closeAll() }
        let client = try pool.sftp(for: try endpoint(bed, "OLD"))
        let old = SFTPFileSystem(client: client, name: "neon")
        let top = try old.openDirectory(absolute: oldRoot, display: "")
        let names = ["hashuser", "keep1", "keep2", "absent"]
        func shape(_ trees: [String: ListedTree]?) -> [String: [String: [String]]] {
            (trees ?? [:]).mapValues { tree in tree.directories.mapValues { $0.map { "\($0.name.display) \($0.status.size)" }.sorted() } }
        }

        var finds = old.commands("find")
        let statuses = try #require(try top.statuses(of: names, thenListed: true))
        #expect(Set(statuses.keys) == ["hashuser", "keep1", "keep2"])
        #expect(statuses.values.allSatisfy { $0.kind == .directory })
        let kept = try top.listTrees(Array(names.prefix(3)))
        #expect(old.commands("find") == finds + 1, "the path check's find answered the listing")
        let fresh = try top.listTrees(names)
        #expect(old.commands("find") == finds + 2, "a kept listing serves one listing only")
        #expect(shape(kept) == shape(fresh) && !shape(fresh).isEmpty)
        // The same answer as a path check alone, but for the folders' access
        // times: find read the folders after giving their status, which may
        // have moved their atime on (relatime) into the next second.
        func withoutAtime(_ statuses: [String: FileStatus]?) -> [String: FileStatus]? {
            statuses?.mapValues { var status = $0; status.atime = FileTime(seconds: 0, nanoseconds: 0); return status }
        }
        #expect(withoutAtime(try top.statuses(of: names, thenListed: false)) == withoutAtime(statuses),
                "the same answer as a path check alone")

        // A change asked of the host in between: listed again, change seen.
        finds = old.commands("find")
        _ = try top.statuses(of: names, thenListed: true)
        #expect(try client.makeDirectory(oldRoot + "/keep1/.Drafts", mode: 0o700))
        let after = try top.listTrees(names)
        #expect(old.commands("find") == finds + 2)
        #expect(after?["keep1"]?.directories[".Drafts"] != nil)
        // More paths than were checked: listed again.
        finds = old.commands("find")
        _ = try top.statuses(of: ["keep1"], thenListed: true)
        _ = try top.listTrees(["keep1", "keep2"])
        #expect(old.commands("find") == finds + 2)
    }

    /// First copies into absent destinations are written whole: one `tar`
    /// on the new host for the batch, then one rename per Maildir out of a
    /// staging folder in `.relevo-staging`; every file with its mode and
    /// times, every folder with its mode, `cur`/`new`/`tmp` of each folder.
    /// A staging folder a killed run left (numbered folders only) is
    /// removed, anything else there is left; undo removes the copy.
    @Test func firstCopiesOfABatchAreWrittenWholeAndAppearAtOnce() throws {
        let bed = IsolatedTestbed(name: "whole")
        try bed.up()
        defer { bed.down() }
        let oldRoot = bed["RELEVO_OLD_ROOT"], newRoot = bed["RELEVO_NEW_ROOT"]
        let base = try makeMaildir(oldRoot)
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: base + "/.Sent")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: base + "/cur/1700000000.M1P1.neon:2,S")
        try FileManager.default.removeItem(atPath: base + "/.Sent/tmp")   // a folder without tmp/ gets one
        for name in ["whole1", "whole2"] { try FileManager.default.copyItem(atPath: base, toPath: oldRoot + "/" + name) }
        let leftover = newRoot + "/.relevo-staging/.relevo-1-abc.d"
        try FileManager.default.createDirectory(atPath: leftover + "/0/cur", withIntermediateDirectories: true)
        try Data("half".utf8).write(to: URL(fileURLWithPath: leftover + "/0/cur/1.M1P1.x"))
        let foreign = newRoot + "/.relevo-staging/.relevo-2-def.d"
        try FileManager.default.createDirectory(atPath: foreign + "/notmine", withIntermediateDirectories: true)

        let pool = SSHPool()
        defer { pool.closeAll() }
        let old = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "OLD")), name: "neon")
        let new = SFTPFileSystem(client: try pool.sftp(for: try endpoint(bed, "NEW")), name: "xalumno")
        let oldStore = try StoreRoot(oldRoot, on: old), newStore = try StoreRoot(newRoot, on: new)
        let names = ["hashuser", "whole1", "whole2"]
        let copiers = try names.map {
            MaildirCopier(from: try oldStore.location($0), to: try newStore.location($0),
                          options: CopyOptions(flagPolicy: .merge, syncFiles: false))
        }
        let written = new.commands("tar")
        let results = MaildirCopier.copyMany(copiers)
        #expect(new.commands("tar") == written + 1, "one tar writes the three Maildirs")

        for (name, result) in zip(names, results) {
            let report = try result.get()
            let source = try MaildirCensus.scan(root: oldRoot, relative: name)
            let copied = try MaildirCensus.scan(root: newRoot, relative: name)
            #expect(copied.messages.mapValues(\.file.sha256) == source.messages.mapValues(\.file.sha256), "\(name)")
            #expect(copied.otherFiles.map(\.sha256) == source.otherFiles.map(\.sha256), "\(name)")
            #expect(report.copied.count == source.messages.count + source.otherFiles.count, "\(name)")
            #expect(report.createdDirectories.first == name, "the Maildir itself is made, first")
            for file in report.copied {
                let a = try FileManager.default.attributesOfItem(atPath: oldRoot + "/" + name + "/" + file.path)
                let b = try FileManager.default.attributesOfItem(atPath: newRoot + "/" + name + "/" + file.path)
                #expect(a[.posixPermissions] as? Int == b[.posixPermissions] as? Int, "\(file.path)")
                #expect(a[.modificationDate] as? Date == b[.modificationDate] as? Date, "\(file.path)")
                #expect(file.sha256 == (try SHA256.hashFile(atPath: newRoot + "/" + name + "/" + file.path)))
            }
            let sent = try FileManager.default.attributesOfItem(atPath: newRoot + "/" + name + "/.Sent")
            #expect(sent[.posixPermissions] as? Int == 0o750)
            #expect(FileManager.default.fileExists(atPath: newRoot + "/" + name + "/.Sent/tmp"))
        }
        #expect(!FileManager.default.fileExists(atPath: leftover), "a killed run's staging folder is removed")
        #expect(FileManager.default.fileExists(atPath: foreign + "/notmine"), "what is not a staging folder is left")
        let staging = try FileManager.default.contentsOfDirectory(atPath: newRoot + "/.relevo-staging")
        #expect(staging == [".relevo-2-def.d"], "this batch's staging folder is gone: \(staging)")

        // Undo of the whole copy removes it, directories included.
        let removal = try copiers[1].removeCopied(report: try results[1].get())
        #expect(removal.kept.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: newRoot + "/whole1"))
    }
}
