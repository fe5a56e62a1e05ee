import Foundation
import Glibc
import RelevoSSH
import RelevoStore

/// A host's file system over SFTP, as a `StoreFileSystem`: the live run's
/// Maildir copy streams each file from the old host through this process
/// to the new host (no trust between the hosts needed), with the store
/// layer's rules unchanged: every path is confined under its store root and
/// checked one component at a time with `lstat`, links are refused, files
/// are written under a temporary name and moved into place without ever
/// replacing one.
///
/// What SFTP (version 3, OpenSSH's server) cannot give, and what that
/// means:
/// - paths, not descriptors: a link planted between the `lstat` and the
///   use is not caught by the protocol. Only root and the mail system write
///   into the stores, never the mail users (who have no shell), so this is
///   a race with the operator, not with an attacker; the census after the
///   copy re-reads what was written.
/// - no device, inode or link count: a file replaced between listing and
///   reading is caught by size and mtime; hard links are not detected.
/// - times to the second (SFTP v3 carries no nanoseconds).
/// - ownership through `setstat`, which follows links: every change is
///   preceded by an `lstat` that refuses a link.
public final class SFTPFileSystem: StoreFileSystem, @unchecked Sendable {
    // @unchecked Sendable: the client serializes every request on its
    // session's lock; `ownerCache` is guarded by `lock`.
    public let client: SFTPClient
    public let name: String
    private let lock = NSLock()
    private var ownerCache: [String: Owner] = [:]
    private var isRootUser: Bool?
    private var tarUnavailable = false
    /// Set when the host's tar cannot read names verbatim from its input.
    private var tarNamesAsArguments = false
    /// See `takeKept`.
    private var keptListing: KeptListing?
    private var findUnavailable = false
    /// Commands run on the host so far, by the program that does the work
    /// (`sha256sum` for `xargs -0 -r sha256sum`; for tests: what
    /// a batch saves is counted, never timed).
    private var commandsRun: [String: Int] = [:]
    func commands(_ program: String) -> Int { lock.withLock { commandsRun[program, default: 0] } }
    /// Commands run to hash files, whichever program did.
    var hashCommands: Int { commands("openssl") + commands("sha256sum") }

    public init(client: SFTPClient, name: String) {
        self.client = client
        self.name = name
    }

    // MARK: - StoreFileSystem

    public func canonicalPath(_ path: String) throws -> String? {
        do {
            guard try client.lstat(path) != nil else { return nil }
            return try client.realpath(path)
        } catch let error as SSHError {
            if error.isNotFound { return nil }
            throw storeError(error, operation: "realpath", path: path)
        }
    }

    public func linkStatus(_ path: String) throws -> FileStatus? {
        do {
            return try client.lstat(path).map(FileStatus.init)
        } catch let error as SSHError {
            throw storeError(error, operation: "lstat", path: path)
        }
    }

    public func linkTarget(_ path: String) -> String? {
        try? client.readlink(path)
    }

    public func openDirectory(absolute path: String, display: String) throws -> any StoreDirectory {
        guard let status = try linkStatus(path) else {
            throw StoreError.io(path: display.isEmpty ? path : display, operation: "open directory", errno: ENOENT)
        }
        guard status.kind == .directory else {
            throw StoreError.refused([Refusal(path: display.isEmpty ? path : display, reason: .specialFile(status.kind))])
        }
        return SFTPDirectory(fileSystem: self, path: path, displayPath: display)
    }

    /// True when the SSH user is root on the host (`id -u` says 0).
    public var canChangeOwners: Bool {
        lock.withLock {
            if let known = isRootUser { return known }
            let result = try? client.session.run(["id", "-u"])
            let root = result?.succeeded == true && result?.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0"
            isRootUser = root
            return root
        }
    }

    /// `user:group` as numbers on the host, asked with `id -u USER` and
    /// `getent group GROUP` (arguments passed as a vector, never through
    /// a shell's parsing); numbers are taken as they are.
    public func owner(user: String, group: String) throws -> Owner {
        let key = user + ":" + group
        if let known = lock.withLock({ ownerCache[key] }) { return known }
        let uid = try UInt32(user) ?? remoteNumber(["id", "-u", "--", user], missing: .unknownUser(user))
        let gid: UInt32
        if let number = UInt32(group) {
            gid = number
        } else {
            let result = try run(["getent", "group", "--", group])
            let fields = result.stdoutText.split(separator: ":", omittingEmptySubsequences: false)
            guard result.succeeded, fields.count >= 3, let number = UInt32(fields[2]) else {
                throw StoreError.unknownGroup(group)
            }
            gid = number
        }
        let owner = Owner(uid: uid, gid: gid)
        lock.withLock { ownerCache[key] = owner }
        return owner
    }

    private func remoteNumber(_ argv: [String], missing: StoreError) throws -> UInt32 {
        let result = try run(argv)
        guard result.succeeded, let number = UInt32(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw missing
        }
        return number
    }

    private func run(_ argv: [String], environment: [(name: String, value: String)] = [],
                     stdin: [UInt8]? = nil) throws -> CommandResult {
        // The program that does the work: after `xargs -OPTIONS`.
        var words = argv[...]
        if words.first == "xargs" { words = words.dropFirst().drop { $0.hasPrefix("-") } }
        let program = words.first ?? argv.first ?? ""
        lock.withLock { commandsRun[program, default: 0] += 1 }
        do {
            // Through the connection's command agent where the host runs
            // one: a fork and an exec there instead of a channel, a session
            // process and a shell (about 1.7 instead of 4.4 ms of the host's
            // CPU for a small command, and a quarter of the wait).
            return try client.session.run(argv, environment: environment, stdin: stdin, throughAgent: true)
        } catch let error as SSHError {
            // The command as a message: its first words and how many paths followed.
            let shown = argv.count > 8 ? argv.prefix(6).joined(separator: " ") + " ... (\(argv.count - 6) more arguments)"
                : argv.joined(separator: " ")
            throw StoreError.unavailable(fileSystem: name, operation: shown, path: "", reason: "\(error)")
        }
    }

    // MARK: - Hashing on the host

    /// The programs that can hash files on a host, the fastest first.
    enum Hasher: Sendable, CaseIterable {
        /// `openssl dgst -sha256 -r`: OpenSSL's SHA-256 uses the CPU's
        /// SHA extensions where there are some (about five times
        /// coreutils' speed on the testbed's CPU).
        case openssl
        /// coreutils' `sha256sum --zero`.
        case sha256sum
    }

    /// The hashers not yet found missing on this host, in order of
    /// preference; tests remove one to force the other.
    var hashers: [Hasher] {
        get { lock.withLock { usableHashers } }
        set { lock.withLock { usableHashers = newValue } }
    }
    private var usableHashers = Hasher.allCases

    /// SHA-256 of files below the directory `base`, computed on the host
    /// (one command however many files: the paths go NUL-separated on its
    /// standard input to `xargs -0`, never through a shell's parsing): the
    /// census of a verification gate then costs one round trip instead of
    /// reading every byte over SSH. By `openssl dgst` where the host has
    /// it and there are `bytes` enough to pay for its slower start (1 MB,
    /// `opensslFromBytes`; unknown: yes), else by coreutils' `sha256sum
    /// --zero`; a path with a newline or
    /// a backslash in it always by `sha256sum`, whose `--zero` answer
    /// cannot be misread (OpenSSL writes one line per file, and newer
    /// versions escape such names). nil when the host has neither (the
    /// census then reads the files itself). A path missing from the answer
    /// (gone, unreadable) has no digest: the census scans that Maildir
    /// again on its own. Both programs follow a link planted after the
    /// listing; what they return is only a digest, which then differs
    /// from the other side's and fails the gate.
    func digests(base: String, paths: [String], bytes: UInt64? = nil) throws -> [String: String]? {
        guard !paths.isEmpty else { return [:] }
        // OpenSSL starts about 3 ms slower than sha256sum and then hashes
        // about 3 ms a MB faster (SHA extensions): worth it from 1 MB on.
        let allowed = bytes.map { $0 >= Self.opensslFromBytes } ?? true ? Hasher.allCases : [.sha256sum]
        let prefix = Self.prefix(base)
        var plain: [String] = [], awkward: [String] = []
        for path in paths {
            if path.utf8.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\\") }) {
                awkward.append(path)
            } else {
                plain.append(path)
            }
        }
        var digests: [String: String] = [:]
        if !plain.isEmpty {
            guard let answer = try self.digests(prefix: prefix, paths: plain, allowing: allowed) else { return nil }
            digests = answer
        }
        if !awkward.isEmpty {
            guard let answer = try self.digests(prefix: prefix, paths: awkward, allowing: [.sha256sum]) else { return nil }
            digests.merge(answer) { first, _ in first }
        }
        return digests
    }

    /// The bytes from which `digests` asks OpenSSL rather than `sha256sum`.
    static let opensslFromBytes: UInt64 = 1 << 20

    /// The digests of `paths` (below `prefix`) by the first usable hasher
    /// of `allowing`; nil when none is.
    private func digests(prefix: String, paths: [String], allowing: [Hasher]) throws -> [String: String]? {
        let names = Self.nulSeparated(paths.map { prefix + $0 })
        let wanted = Set(paths)
        for hasher in hashers where allowing.contains(hasher) {
            let argv: [String] = switch hasher {
            case .openssl: ["xargs", "-0", "-r", "openssl", "dgst", "-sha256", "-r", "--"]
            case .sha256sum: ["xargs", "-0", "-r", "sha256sum", "--zero", "--"]
            }
            let result = try runTool(argv, stdin: names)
            // xargs answers 127 when the program is missing, 126 when it
            // cannot run; a program that does not know an option answers
            // nothing and complains.
            if result.exitStatus == 127 || result.exitStatus == 126 || result.exitStatus == nil
                || (!result.succeeded && result.stdout.isEmpty
                    && (result.stderrText.contains("option") || result.stderrText.contains("Usage"))) {
                lock.withLock { usableHashers.removeAll { $0 == hasher } }
                continue
            }
            var digests: [String: String] = [:]
            let separator: UInt8 = hasher == .sha256sum ? 0 : UInt8(ascii: "\n")
            for record in result.stdout.split(separator: separator) {
                // "HEX  PATH" or "HEX *PATH" (binary mode, and OpenSSL's -r).
                guard let (hex, path) = Self.digestRecord(record), path.hasPrefix(prefix) else { continue }
                let relative = String(path.dropFirst(prefix.count))
                if wanted.contains(relative) { digests[relative] = hex }
            }
            return digests
        }
        return nil
    }

    /// A line of `sha256sum` or `openssl dgst -r`: 64 hexadecimal digits
    /// (lower-cased here), a space, a space or `*`, the path. nil for
    /// anything else, such as an escaped name's line (starting with `\`).
    static func digestRecord(_ record: ArraySlice<UInt8>) -> (hex: String, path: String)? {
        guard record.count > 66 else { return nil }
        let start = record.startIndex
        guard record[start + 64] == UInt8(ascii: " "),
              record[start + 65] == UInt8(ascii: " ") || record[start + 65] == UInt8(ascii: "*") else { return nil }
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in record[start..<(start + 64)] {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): hex.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): hex.append(byte + 32)
            default: return nil
            }
        }
        return (String(decoding: hex, as: UTF8.self), String(decoding: record[(start + 66)...], as: UTF8.self))
    }

    // MARK: - Many trees listed in one request

    /// Every entry below each of the directories `paths` (relative to the
    /// directory `base`), listed by one GNU `find -P` on the host (paths as
    /// arguments, never through a shell's parsing; `-P` never follows a
    /// link): for a batch of Maildirs, one round trip instead of a few SFTP
    /// requests per folder. Each status is what an SFTP listing gives (the
    /// `lstat` of the entry, times in whole seconds, no device, inode or
    /// link count), so a census over it is the census over SFTP. nil when
    /// the host has no GNU find, or when find complained at all (a file
    /// vanished, a folder unreadable): then the caller lists each tree over
    /// SFTP, the ordinary way. A start path that is not a directory when
    /// find reaches it, or does not exist, is left out.
    func listTrees(base: String, paths: [String]) throws -> [String: ListedTree]? {
        if let kept = takeKept(base: base, paths: paths) { return kept }
        return try findListing(base: base, paths: paths)?.trees
    }

    /// The listing by one `find -P` per run of `paths` (see `listTrees`):
    /// the trees of the start paths that are directories, and the `lstat`
    /// of every start path that exists (from the same answer).
    private func findListing(base: String, paths: [String])
        throws -> (trees: [String: ListedTree], tops: [String: FileStatus])? {
        if lock.withLock({ findUnavailable }) { return nil }
        let prefix = Self.prefix(base)
        var trees: [String: ListedTree] = [:]
        var tops: [String: FileStatus] = [:]
        for batch in Self.runs(paths, prefix: prefix, count: 256) {
            // Per entry: type, mode (octal), size, mtime, atime, uid, gid,
            // then the start path and the path below it, each ended by a NUL.
            let result = try runTool(["find", "-P"] + batch.map { prefix + $0 }
                                     + ["-printf", "%y %m %s %T@ %A@ %U %G\\0%H\\0%P\\0"])
            let wanted = Set(batch)
            guard usableFindAnswer(result, prefix: prefix, starts: wanted) else { return nil }
            let fields = result.stdout.split(separator: 0, omittingEmptySubsequences: false)
            // The output ends with a NUL, so the last field is empty.
            guard fields.count % 3 == 1, fields.last?.isEmpty == true else { return nil }
            // Entries come start path by start path, folder by folder: the
            // start path and the parent are read once per run of them.
            let prefixBytes = Array(prefix.utf8)
            var lastTop: ArraySlice<UInt8> = [], relative = ""
            var lastParent: ArraySlice<UInt8> = [], parentText = ""
            var i = 0
            while i + 2 < fields.count {
                let (attributes, top, below) = (fields[i], fields[i + 1], fields[i + 2])
                i += 3
                if relative.isEmpty || !top.elementsEqual(lastTop) {
                    guard top.starts(with: prefixBytes) else { return nil }
                    relative = String(decoding: top.dropFirst(prefixBytes.count), as: UTF8.self)
                    guard wanted.contains(relative) else { return nil }
                    lastTop = top
                    lastParent = []
                    parentText = ""
                }
                guard let status = Self.findStatus(attributes) else { return nil }
                if below.isEmpty {
                    // The start path itself: a tree only if it is a directory.
                    if tops[relative] == nil { tops[relative] = status }
                    if status.kind == .directory, trees[relative] == nil {
                        trees[relative] = ListedTree(directories: ["": []], top: status)
                    }
                    continue
                }
                guard trees[relative] != nil else { continue }
                // Its parent's listing gains the entry; a directory gets its own (empty so far).
                let slash = below.lastIndex(of: UInt8(ascii: "/"))
                let parentBytes = slash.map { below[..<$0] } ?? below[below.startIndex..<below.startIndex]
                if !parentBytes.elementsEqual(lastParent) {
                    parentText = String(decoding: parentBytes, as: UTF8.self)
                    lastParent = parentBytes
                }
                let name = slash.map { Array(below[($0 + 1)...]) } ?? Array(below)
                guard !name.isEmpty else { return nil }
                trees[relative]!.directories[parentText, default: []].append((EntryName(bytes: name), status))
                if status.kind == .directory {
                    trees[relative]!.directories[String(decoding: below, as: UTF8.self), default: []] += []
                }
            }
        }
        return (trees, tops)
    }

    /// A listing made by a path check (`statuses(base:names:thenListed:)`)
    /// for the listing that follows it: the trees, the start paths asked,
    /// and the session's `changeRequests` once it was read.
    private struct KeptListing {
        var base: String
        var names: Set<String>
        var trees: [String: ListedTree]
        var changes: Int
    }

    /// The kept listing, forgotten at the first listing asked after it, and
    /// used for it when it is of the same directory and start paths (or
    /// fewer) and nothing that could change the host was asked of this
    /// connection in between (a command, an SFTP write): it is then what a
    /// new `find` would answer, a moment earlier.
    private func takeKept(base: String, paths: [String]) -> [String: ListedTree]? {
        guard let kept = lock.withLock({ () -> KeptListing? in defer { keptListing = nil }; return keptListing }),
              kept.base == base, kept.changes == client.session.changeRequests,
              paths.allSatisfy(kept.names.contains) else { return nil }
        var trees: [String: ListedTree] = [:]
        for path in paths { trees[path] = kept.trees[path] }
        return trees
    }

    /// Whether `find`'s answer can be read: it ran (a host without GNU find
    /// says "unknown predicate", BusyBox "unrecognized": then find is not
    /// asked again), and it complained of nothing but start paths (`starts`,
    /// below `prefix`) that do not exist, which are only absent from it.
    private func usableFindAnswer(_ result: CommandResult, prefix: String, starts: Set<String>) -> Bool {
        if result.exitStatus == 127 || result.stderrText.contains("unknown predicate")
            || result.stderrText.contains("invalid predicate") || result.stderrText.contains("unrecognized") {
            lock.withLock { findUnavailable = true }
            return false
        }
        if result.succeeded && result.stderr.isEmpty { return true }
        let absentStart = { (line: Substring) -> Bool in
            guard line.hasPrefix("find: '"), line.hasSuffix("': No such file or directory") else { return false }
            let path = line.dropFirst("find: '".count).dropLast("': No such file or directory".count)
            return path.hasPrefix(prefix) && starts.contains(String(path.dropFirst(prefix.count)))
        }
        return result.exitStatus == 1 && result.stderrText.split(separator: "\n").allSatisfy(absentStart)
    }

    /// `%y %m %s %T@ %A@ %U %G` of find's `-printf` as the status an SFTP
    /// listing would give; nil for anything unexpected.
    static func findStatus(_ text: ArraySlice<UInt8>) -> FileStatus? {
        // Seven fields separated by single spaces, read on the bytes (a
        // batch's listing has one line per file of every Maildir).
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(7)
        var start = text.startIndex
        for i in text.indices where text[i] == UInt8(ascii: " ") {
            fields.append(text[start..<i])
            start = i + 1
        }
        fields.append(text[start...])
        guard fields.count == 7, fields[0].count == 1 else { return nil }
        let kind: EntryKind
        switch fields[0].first! {
        case UInt8(ascii: "f"): kind = .regularFile
        case UInt8(ascii: "d"): kind = .directory
        case UInt8(ascii: "l"): kind = .symbolicLink
        case UInt8(ascii: "p"): kind = .fifo
        case UInt8(ascii: "s"): kind = .socket
        case UInt8(ascii: "c"): kind = .characterDevice
        case UInt8(ascii: "b"): kind = .blockDevice
        default: kind = .unknown
        }
        /// Digits in `radix` (at most 20 of them), nil for anything else.
        func number(_ digits: ArraySlice<UInt8>, radix: UInt64 = 10) -> UInt64? {
            guard !digits.isEmpty, digits.count <= 20 else { return nil }
            var value: UInt64 = 0
            for byte in digits {
                let digit = UInt64(byte &- UInt8(ascii: "0"))
                guard digit < radix else { return nil }
                let (times, overflow) = value.multipliedReportingOverflow(by: radix)
                let (sum, carry) = times.addingReportingOverflow(digit)
                guard !overflow, !carry else { return nil }
                value = sum
            }
            return value
        }
        /// "1700000000.0000000000": whole seconds, as SFTP gives them.
        func seconds(_ text: ArraySlice<UInt8>) -> Int64? {
            let dot = text.firstIndex(of: UInt8(ascii: "."))
            let whole = dot.map { text[..<$0] } ?? text
            if let dot, text[text.index(after: dot)...].contains(where: { $0 < UInt8(ascii: "0") || $0 > UInt8(ascii: "9") }) {
                return nil
            }
            if whole.first == UInt8(ascii: "-") {
                return number(whole.dropFirst()).flatMap { $0 <= UInt64(Int64.max) ? -Int64($0) : nil }
            }
            return number(whole).flatMap { $0 <= UInt64(Int64.max) ? Int64($0) : nil }
        }
        guard let mode = number(fields[1], radix: 8), mode <= UInt64(UInt32.max), let size = number(fields[2]),
              let mtime = seconds(fields[3]), let atime = seconds(fields[4]),
              let uid = number(fields[5]), uid <= UInt64(UInt32.max),
              let gid = number(fields[6]), gid <= UInt64(UInt32.max) else { return nil }
        return FileStatus(kind: kind, mode: UInt32(mode) & 0o7777, size: size, mtime: FileTime(seconds: mtime),
                          atime: FileTime(seconds: atime), uid: UInt32(uid), gid: UInt32(gid))
    }

    // MARK: - Many files in one request

    /// Whether `fetch` may still be tried (no earlier sign that the host
    /// lacks GNU tar).
    var fetchesWithTar: Bool { !lock.withLock { tarUnavailable } }

    /// The regular files at `paths` below the directory `base`, read by one
    /// `tar -c --format=posix --no-recursion` on the host (the paths on its
    /// standard input, NUL-separated and taken verbatim, never through a
    /// shell's parsing; tar reads each with `lstat` and never follows a
    /// link): one round trip for a whole batch instead of several requests
    /// per file. A member that is not a regular file, or not one of the
    /// paths asked, is left out (the caller copies what is missing alone,
    /// and meets the problem there), and so is a path that vanished since
    /// the listing (a message the IMAP server just moved: tar says "Cannot
    /// stat" and exits 2, the other members are whole). Any other complaint
    /// (a file that changed while tar read it) and the archive is not used
    /// at all. nil when the host has no GNU tar. A tar too old to read
    /// names verbatim from its input (before 1.29) is given them as
    /// arguments, in runs that fit a command.
    func fetch(base: String, paths: [String]) throws -> [String: FetchedFile]? {
        guard fetchesWithTar, !paths.isEmpty else { return paths.isEmpty ? [:] : nil }
        if !lock.withLock({ tarNamesAsArguments }) {
            var names: [UInt8] = []
            for path in paths { names.append(contentsOf: path.utf8); names.append(0) }
            if let fetched = try fetchRun(base: base, paths: paths, names: names) { return fetched }
            guard lock.withLock({ tarNamesAsArguments }) else { return nil }
        }
        var files: [String: FetchedFile] = [:]
        for run in Self.runs(paths, prefix: "", count: paths.count) {
            guard let fetched = try fetchRun(base: base, paths: run, names: nil) else { return nil }
            files.merge(fetched) { first, _ in first }
        }
        return files
    }

    /// `fetch` of `paths` in one command: given on standard input (`names`,
    /// NUL-separated) or, when `names` is nil, as arguments.
    private func fetchRun(base: String, paths: [String], names: [UInt8]?) throws -> [String: FetchedFile]? {
        #if DEBUG
        TestSeam.beforeOpen(paths.map { Self.prefix(base) + $0 })
        #endif
        let common = ["tar", "-c", "-f", "-", "--format=posix", "--no-recursion", "--numeric-owner", "-C", base]
        let result = try names.map { try runTool(common + ["--null", "--verbatim-files-from", "-T", "-"], stdin: $0) }
            ?? runTool(common + ["--"] + paths)
        let unrecognized = result.stderrText.contains("unrecognized option") || result.stderrText.contains("invalid option")
        if names != nil, result.exitStatus != 127, unrecognized {
            // A GNU tar without --verbatim-files-from: names as arguments.
            lock.withLock { tarNamesAsArguments = true }
            return nil
        }
        if result.exitStatus == 127 || result.exitStatus == 64 || unrecognized {
            lock.withLock { tarUnavailable = true }
            return nil
        }
        if !result.succeeded {
            let complaints = Self.complaints(result, except: ["Cannot stat: No such file or directory",
                                                              "Exiting with failure status due to previous errors"])
            guard result.exitStatus == 2, complaints.isEmpty else { return [:] }
        }
        let entries: [TarEntry]
        do {
            entries = try TarReader.entries(result.stdout)
        } catch {
            return [:]
        }
        let wanted = Set(paths)
        var files: [String: FetchedFile] = [:]
        for entry in entries where entry.kind == .regular && wanted.contains(entry.path) {
            let status = FileStatus(kind: .regularFile, mode: entry.mode & 0o7777, size: UInt64(entry.data.count),
                                    mtime: entry.mtime, atime: entry.atime ?? entry.mtime, uid: entry.uid, gid: entry.gid)
            files[entry.path] = FetchedFile(status: status, bytes: entry.data)
        }
        return files
    }

    /// Writes `files` into the empty staging folder `directory` (made by the
    /// caller) with one `tar -x` on the host, fed a stream Relevo wrote
    /// (regular files only, under the names given, which are plain names;
    /// `storeTree` of a flat tree): one round trip for a batch. False when
    /// the host has no GNU tar, or tar did not finish cleanly.
    func store(_ files: [(name: String, file: FetchedFile)], in directory: String) throws -> Bool {
        guard files.allSatisfy({ !$0.name.contains("/") }) else { return false }
        return try storeTree(files.map { .file(path: $0.name, $0.file) }, in: directory)
    }

    /// Writes a whole tree into the empty staging folder `directory` (made
    /// by the caller) with one `tar -x` on the host, fed a stream Relevo
    /// wrote (`TarWriter`: directories and regular files only, under paths
    /// made of plain names, each directory before what it holds). False
    /// when the host has no GNU tar, a path is not plain, or tar did not
    /// finish cleanly.
    func storeTree(_ items: [TreeItem], in directory: String) throws -> Bool {
        guard fetchesWithTar else { return false }
        let plain = items.allSatisfy { item in
            let parts = item.path.split(separator: "/", omittingEmptySubsequences: false)
            return !parts.isEmpty && parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && !$0.utf8.contains(0) }
        }
        guard plain else { return false }
        // A directory made now has the time of now, as one made over SFTP would.
        let now = FileTime(seconds: Int64(time(nil)))
        let archive = TarWriter.archive(items.map { item in
            switch item {
            case .directory(let path, let mode):
                return TarWriter.File(name: path, mode: mode & 0o777, mtime: now, atime: now, bytes: [], isDirectory: true)
            case .file(let path, let file):
                return TarWriter.File(name: path, mode: file.status.mode & 0o777, mtime: file.status.mtime,
                                      atime: file.status.atime, bytes: file.bytes)
            }
        })
        // --no-overwrite-dir: an existing directory keeps its mode; --delay-directory-restore:
        // a directory's mode is set after what it holds is written.
        let result = try runTool(["tar", "-x", "-f", "-", "--no-same-owner", "--no-overwrite-dir",
                                  "--delay-directory-restore", "-C", directory], stdin: archive)
        return result.succeeded
    }

    /// The `lstat` of each of `names` (entries of the directory `base`),
    /// by one GNU `find -P NAMES -maxdepth 0` on the host (names as
    /// arguments, never through a shell's parsing; nothing followed): for a
    /// batch of Maildirs, one round trip instead of an SFTP request each.
    /// An absent name is missing from the answer. nil when the host has no
    /// GNU find, a name is not a plain entry name, or find complained of
    /// anything but an absent name.
    ///
    /// `thenListed`: the caller lists these trees next (a batch step's path
    /// check, then its census or copy): the answer comes from the whole
    /// listing instead (one `find` of every entry below them), kept for
    /// that listing (`takeKept`), so the two are one request.
    func statuses(base: String, names: [String], thenListed: Bool = false) throws -> [String: FileStatus]? {
        if lock.withLock({ findUnavailable }) { return nil }
        guard names.allSatisfy({ !$0.isEmpty && !$0.contains("/") && $0 != "." && $0 != ".." }) else { return nil }
        if thenListed {
            guard let listing = try findListing(base: base, paths: names) else { return nil }
            let kept = KeptListing(base: base, names: Set(names), trees: listing.trees, changes: client.session.changeRequests)
            lock.withLock { keptListing = kept }
            return listing.tops
        }
        let prefix = Self.prefix(base)
        var statuses: [String: FileStatus] = [:]
        for batch in Self.runs(names, prefix: prefix, count: 512) {
            let result = try runTool(["find", "-P"] + batch.map { prefix + $0 }
                                     + ["-maxdepth", "0", "-printf", "%y %m %s %T@ %A@ %U %G\\0%p\\0"])
            let wanted = Set(batch)
            guard usableFindAnswer(result, prefix: prefix, starts: wanted) else { return nil }
            let fields = result.stdout.split(separator: 0, omittingEmptySubsequences: false)
            guard fields.count % 2 == 1, fields.last?.isEmpty == true else { return nil }
            var i = 0
            while i + 1 < fields.count {
                let path = String(decoding: fields[i + 1], as: UTF8.self)
                guard path.hasPrefix(prefix), let status = Self.findStatus(fields[i]) else { return nil }
                let name = String(path.dropFirst(prefix.count))
                guard wanted.contains(name) else { return nil }
                statuses[name] = status
                i += 2
            }
        }
        return statuses
    }

    /// `chown -h -- UID:GID PATH...` on the host, the paths NUL-separated on
    /// standard input for `xargs -0` (one command for any number; `-h`: a
    /// link is changed itself, never followed). With `missingIsFine`, a
    /// path that no longer exists is not an error. False when the command
    /// is not there; any other failure is an error naming chown's complaint.
    func changeOwners(base: String, paths: [String], uid: UInt32, gid: UInt32, missingIsFine: Bool) throws -> Bool {
        guard !paths.isEmpty else { return true }
        let prefix = Self.prefix(base)
        let names = Self.nulSeparated(paths.map { $0.isEmpty ? base : prefix + $0 })
        let result = try runTool(["xargs", "-0", "-r", "chown", "-h", "--", "\(uid):\(gid)"], stdin: names)
        if result.succeeded { return true }
        if result.exitStatus == 127 { return false }
        let complaints = Self.complaints(result, except: missingIsFine ? ["No such file or directory"] : [])
        if complaints.isEmpty { return true }
        throw StoreError.unavailable(fileSystem: name, operation: "chown", path: base,
                                     reason: String(complaints.first ?? "exit \(result.exitStatus.map(String.init) ?? "?")"))
    }

    /// `paths` in runs that each fit one command: libssh2 sends a command
    /// in one SSH channel request and refuses a request over about 32 KB
    /// ("Unable to send channel request"; seen with 300 long Maildir paths),
    /// so each run's arguments, quoted as `ShellQuoting` quotes them with
    /// `prefix` before each, stay within `argumentBytes`, and at most
    /// `count` paths. Never an empty run; a path longer than the limit on
    /// its own is a run by itself.
    static func runs(_ paths: [String], prefix: String, count: Int, argumentBytes: Int = 24 * 1024) -> [[String]] {
        var runs: [[String]] = []
        var current: [String] = []
        var bytes = 0
        let prefixBytes = prefix.utf8.count + 3 * prefix.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "'") ? 1 : 0) }
        for path in paths {
            // Two quotes and a space, and '\'' for each quote inside.
            let size = prefixBytes + path.utf8.count + 3 + 3 * path.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "'") ? 1 : 0) }
            if !current.isEmpty && (current.count >= max(count, 1) || bytes + size > argumentBytes) {
                runs.append(current)
                current = []
                bytes = 0
            }
            current.append(path)
            bytes += size
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// A tool on the host with its messages in English (`LC_ALL=C`), so
    /// that what is read of its standard error is the same on every host.
    private func runTool(_ argv: [String], stdin: [UInt8]? = nil) throws -> CommandResult {
        try run(argv, environment: [("LC_ALL", "C")], stdin: stdin)
    }

    /// The lines of a command's standard error that end in none of `expected`.
    private static func complaints(_ result: CommandResult, except expected: [String]) -> [Substring] {
        result.stderrText.split(separator: "\n").filter { line in !expected.contains { line.hasSuffix($0) } }
    }

    /// Each path followed by a NUL byte, for `xargs -0` on standard input.
    static func nulSeparated(_ paths: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(paths.reduce(0) { $0 + $1.utf8.count + 1 })
        for path in paths {
            bytes += path.utf8
            bytes.append(0)
        }
        return bytes
    }

    /// `base` with one trailing slash, to prefix relative paths.
    private static func prefix(_ base: String) -> String { base.hasSuffix("/") ? base : base + "/" }

    // MARK: - Errors

    /// An SSH error as the store layer's: SFTP statuses with an errno
    /// equivalent become `.io`, everything else `.unavailable`.
    func storeError(_ error: SSHError, operation: String, path: String) -> StoreError {
        if case .sftp(_, _, let code) = error, let number = code.errnoEquivalent {
            return .io(path: path, operation: operation, errno: number)
        }
        if case .sftp(_, _, let code) = error, code == .failure {
            return .unavailable(fileSystem: name, operation: operation, path: path,
                                reason: "the server refused it (\(code)); OpenSSH says no more: check that the store is writable (not read-only, not full, within quota)")
        }
        if case .undecodableName(let directory, let bytes) = error {
            let name = String(decoding: bytes, as: UTF8.self)
            return .refused([Refusal(path: directory.isEmpty ? name : directory + "/" + name, reason: .undecodableName)])
        }
        return .unavailable(fileSystem: name, operation: operation, path: path, reason: "\(error)")
    }
}

extension SSHError {
    var isNotFound: Bool {
        if case .sftp(_, _, let code) = self { return code == .noSuchFile || code == .noSuchPath }
        return false
    }
}

extension SFTPStatus {
    /// The errno an SFTP status stands for, when there is one.
    var errnoEquivalent: Int32? {
        switch self {
        case .noSuchFile, .noSuchPath: return ENOENT
        case .permissionDenied, .writeProtect: return EACCES
        case .fileAlreadyExists: return EEXIST
        case .noSpaceOnFilesystem: return ENOSPC
        case .quotaExceeded: return EDQUOT
        case .directoryNotEmpty: return ENOTEMPTY
        case .notADirectory: return ENOTDIR
        case .linkLoop: return ELOOP
        case .invalidFilename: return EINVAL
        default: return nil
        }
    }
}

extension FileStatus {
    init(_ attributes: FileAttributes) {
        let kind: EntryKind
        switch attributes.kind {
        case .regular: kind = .regularFile
        case .directory: kind = .directory
        case .symlink: kind = .symbolicLink
        case .fifo: kind = .fifo
        case .characterDevice: kind = .characterDevice
        case .blockDevice: kind = .blockDevice
        case .socket: kind = .socket
        case .other: kind = .unknown
        }
        self.init(kind: kind, mode: attributes.mode & 0o7777, size: attributes.size,
                  mtime: FileTime(seconds: attributes.mtime), atime: FileTime(seconds: attributes.atime),
                  uid: attributes.uid, gid: attributes.gid)
    }
}

/// One directory on an SFTP file system, by absolute path.
final class SFTPDirectory: StoreDirectory {
    let fileSystem: SFTPFileSystem
    let path: String
    let displayPath: String

    init(fileSystem: SFTPFileSystem, path: String, displayPath: String) {
        self.fileSystem = fileSystem
        self.path = path
        self.displayPath = displayPath
    }

    private var client: SFTPClient { fileSystem.client }

    private func absolute(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    private func attempt<T>(_ operation: String, _ name: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SSHError {
            throw fileSystem.storeError(error, operation: operation, path: name.map(display) ?? displayPath)
        }
    }

    func status(_ name: String) throws -> FileStatus? {
        try attempt("lstat", name) { try client.lstat(absolute(name)).map(FileStatus.init) }
    }

    func status() throws -> FileStatus {
        guard let status = try attempt("lstat", nil, { try client.lstat(path).map(FileStatus.init) }) else {
            throw StoreError.io(path: displayPath, operation: "lstat", errno: ENOENT)
        }
        return status
    }

    func openDirectoryIfPresent(_ name: String) throws -> (any StoreDirectory)? {
        guard let status = try status(name) else { return nil }
        switch status.kind {
        case .directory:
            return SFTPDirectory(fileSystem: fileSystem, path: absolute(name), displayPath: display(name))
        case .regularFile:
            throw StoreError.notADirectory(display(name))
        default:
            throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(status.kind))])
        }
    }

    func digests(of paths: [String], bytes: UInt64) throws -> [String: String]? {
        try fileSystem.digests(base: path, paths: paths, bytes: bytes)
    }

    func listTrees(_ paths: [String]) throws -> [String: ListedTree]? {
        try fileSystem.listTrees(base: path, paths: paths)
    }

    var readsManyFiles: Bool { fileSystem.fetchesWithTar }

    var writesManyFiles: Bool { fileSystem.fetchesWithTar }

    var changesManyOwners: Bool { fileSystem.canChangeOwners }

    func changeOwners(_ paths: [String], uid: UInt32, gid: UInt32, missingIsFine: Bool) throws -> Bool {
        try fileSystem.changeOwners(base: path, paths: paths, uid: uid, gid: gid, missingIsFine: missingIsFine)
    }

    func writeFiles(_ files: [(name: String, file: FetchedFile)], into staging: String) throws -> Bool {
        try fileSystem.store(files, in: absolute(staging))
    }

    var writesTrees: Bool { fileSystem.fetchesWithTar }

    func writeTree(_ items: [TreeItem], into staging: String) throws -> Bool {
        try fileSystem.storeTree(items, in: absolute(staging))
    }

    func statuses(of names: [String], thenListed: Bool) throws -> [String: FileStatus]? {
        try fileSystem.statuses(base: path, names: names, thenListed: thenListed)
    }

    func readFiles(_ paths: [String]) throws -> [String: FetchedFile]? {
        try fileSystem.fetch(base: path, paths: paths)
    }

    func openListed(_ name: String, listed: FileStatus) throws -> (handle: any StoreDirectory, status: FileStatus) {
        guard listed.kind == .directory else {
            throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(listed.kind))])
        }
        return (SFTPDirectory(fileSystem: fileSystem, path: absolute(name), displayPath: display(name)), listed)
    }

    func makeDirectory(_ name: String, mode: UInt32) throws -> (handle: any StoreDirectory, created: Bool) {
        // Most directories a pass asks for exist already: one lstat answers
        // (a mkdir that fails would cost two more round trips).
        if let existing = try openDirectoryIfPresent(name) { return (existing, false) }
        let created = try attempt("mkdir", name) { try client.makeDirectory(absolute(name), mode: 0o700) }
        guard let handle = try openDirectoryIfPresent(name) else {
            throw StoreError.io(path: display(name), operation: "mkdir", errno: ENOENT)
        }
        if created {
            try attempt("chmod", name) { try client.setMode(absolute(name), mode & 0o777) }
        }
        return (handle, created)
    }

    func entries() throws -> [EntryName] {
        try listing().map(\.name)
    }

    /// One readdir: OpenSSH's server fills each name's attributes with
    /// `lstat`, which is what `status(_:)` would ask for each.
    func listing() throws -> [(name: EntryName, status: FileStatus?)] {
        try attempt("read directory", nil) {
            try client.list(path).map { (EntryName(bytes: Array($0.name.utf8)), FileStatus($0.attributes)) }
        }.sorted { $0.name.display < $1.name.display }
    }

    func openForReading(_ name: String) throws -> any StoreFileReader {
        guard let status = try status(name) else {
            throw StoreError.io(path: display(name), operation: "open", errno: ENOENT)
        }
        guard status.kind == .regularFile else {
            throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(status.kind))])
        }
        #if DEBUG
        TestSeam.beforeOpen([absolute(name)])
        #endif
        let reader = try attempt("open", name) { try client.openForReading(absolute(name)) }
        let file = SFTPReader(reader: reader, path: display(name), fileSystem: fileSystem)
        let opened = try file.status()
        guard opened.kind == .regularFile else {
            throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(opened.kind))])
        }
        file.opened = opened
        return file
    }

    func createExclusive(_ name: String, mode: UInt32) throws -> any StoreFileWriter {
        let writer = try attempt("create", name) { try client.createExclusive(absolute(name), mode: mode) }
        return SFTPWriter(writer: writer, path: display(name), fileSystem: fileSystem)
    }

    func moveNoReplace(_ name: String, to other: any StoreDirectory, as newName: String) throws -> Bool {
        guard let target = other as? SFTPDirectory, target.fileSystem === fileSystem else {
            throw StoreError.io(path: other.display(newName), operation: "rename across file systems", errno: EXDEV)
        }
        return try attempt("rename", name) {
            try client.renameNoReplace(from: absolute(name), to: target.absolute(newName))
        }
    }

    func unlink(_ name: String) throws {
        try attempt("unlink", name) { try client.unlink(absolute(name)) }
    }

    func removeDirectoryIfEmpty(_ name: String) throws -> Bool {
        do {
            try client.removeDirectory(absolute(name))
            return true
        } catch let error as SSHError {
            // OpenSSH answers a non-empty directory with a bare "failure":
            // what is still there tells.
            if error.isNotFound { return false }
            if case .sftp = error, (try? client.lstat(absolute(name))) != nil { return false }
            throw fileSystem.storeError(error, operation: "rmdir", path: display(name))
        }
    }

    func changeOwner(_ name: String?, uid: UInt32, gid: UInt32) throws {
        let target = name.map(absolute) ?? path
        let shown = name.map(display) ?? displayPath
        guard let status = try attempt("lstat", name, { try client.lstat(target) }) else {
            throw StoreError.io(path: shown, operation: "chown", errno: ENOENT)
        }
        guard status.kind == .regular || status.kind == .directory else {
            throw StoreError.refused([Refusal(path: shown, reason: .specialFile(FileStatus(status).kind))])
        }
        try attempt("chown", name) { try client.setOwner(target, uid: uid, gid: gid) }
    }
}

final class SFTPReader: StoreFileReader {
    let reader: SFTPFileReader
    let path: String
    let fileSystem: SFTPFileSystem

    init(reader: SFTPFileReader, path: String, fileSystem: SFTPFileSystem) {
        self.reader = reader
        self.path = path
        self.fileSystem = fileSystem
    }

    /// The `fstat` taken when the file was opened: the caller's first
    /// `status()` (just after opening) is answered with it instead of a
    /// second request; later calls ask the server again.
    var opened: FileStatus?
    private var openedUnused = true

    deinit { try? reader.close() }

    func status() throws -> FileStatus {
        if openedUnused, let opened {
            openedUnused = false
            return opened
        }
        do { return FileStatus(try reader.fstat()) } catch let error as SSHError {
            throw fileSystem.storeError(error, operation: "fstat", path: path)
        }
    }

    /// Reads until the end; once as many bytes as the file held when
    /// opened have come, the end is not asked for: the caller's `status()`
    /// after reading compares size and mtime, so a file that grew or
    /// changed is still caught.
    func readChunks(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var total: UInt64 = 0
        while true {
            let chunk: [UInt8]
            do { chunk = try reader.read(max: 256 * 1024) } catch let error as SSHError {
                throw fileSystem.storeError(error, operation: "read", path: path)
            }
            if chunk.isEmpty { return }
            try chunk.withUnsafeBytes(body)
            total += UInt64(chunk.count)
            if let size = opened?.size, total >= size { return }
        }
    }
}

final class SFTPWriter: StoreFileWriter {
    let writer: SFTPFileWriter
    let path: String
    let fileSystem: SFTPFileSystem
    private var closed = false

    init(writer: SFTPFileWriter, path: String, fileSystem: SFTPFileSystem) {
        self.writer = writer
        self.path = path
        self.fileSystem = fileSystem
    }

    deinit { if !closed { try? writer.close() } }

    private func attempt(_ operation: String, _ body: () throws -> Void) throws {
        do { try body() } catch let error as SSHError {
            throw fileSystem.storeError(error, operation: operation, path: path)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try attempt("write") { try writer.write(Array(bytes)) }
    }

    func setMode(_ mode: UInt32) throws {
        try attempt("chmod") { try writer.setMode(mode & 0o777) }
    }

    func setTimes(access: FileTime, modification: FileTime) throws {
        try attempt("set times of") { try writer.setTimes(atime: access.seconds, mtime: modification.seconds) }
    }

    func setModeAndTimes(_ mode: UInt32, access: FileTime, modification: FileTime) throws {
        try attempt("set mode and times of") {
            try writer.setModeAndTimes(mode & 0o777, atime: access.seconds, mtime: modification.seconds)
        }
    }

    func sync() throws {
        try attempt("fsync") { try writer.fsync() }
    }

    func close() throws {
        guard !closed else { return }
        closed = true
        try attempt("close") { try writer.close() }
    }
}
