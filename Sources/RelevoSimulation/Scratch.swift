import Foundation
import RelevoBasics
import RelevoDirectory
import RelevoPlan
import RelevoStore

/// The dry run's copy of the world: each host's fixture tree, each
/// directory's LDIF, and the DNS answers, copied into a scratch folder when
/// the run starts so the fixture originals never change. Everything the run
/// changes is on disk, so a run killed at any point can be resumed.
///
/// A host's file system is a folder (`.disk`), or, when the fixtures hold
/// no file inside any store root (sets without messages: nothing but
/// folders to make), a `MemoryFileSystem` whose every change is appended to
/// its log (`.memory`): the same census, copy and chown code runs over it,
/// without making thousands of real folders. The choice is made when the
/// scratch folder is created and kept by a resume (`SCRATCH/.memory-hosts`).
///
///     SCRATCH/hosts/HOST/...          a host's file system (store roots inside)
///     SCRATCH/hosts/HOST.changes      ... or its memory file system's log
///     SCRATCH/directories/ELEMENT.ldif          the directory when the run started
///     SCRATCH/directories/ELEMENT.changes.ldif  every change since, appended
///     SCRATCH/files/                  local files of global steps (LDIF dumps)
///     SCRATCH/dns.json                the MX answers
///     SCRATCH/notifications.log       messages sent to notify targets
final class Scratch: @unchecked Sendable {
    let root: URL
    let plan: Plan
    private let lock = NSLock()
    private var directories: [String: MemoryDirectory] = [:]
    private var dns: [String: String] = [:]
    private var roots: [String: StoreRoot] = [:]
    /// Each host's file system when the hosts are in memory.
    private var memoryHosts: [String: MemoryFileSystem] = [:]

    /// Where the hosts' file systems are.
    enum Hosts: String, Sendable {
        /// Folders under SCRATCH/hosts.
        case disk
        /// `MemoryFileSystem`s with their logs under SCRATCH/hosts.
        case memory
        /// Memory when the fixtures hold no file inside any store root,
        /// else disk (`RELEVO_SCRATCH_HOSTS=disk|memory` chooses instead).
        case automatic
    }

    /// The hosts' file systems as this scratch folder keeps them.
    let hosts: Hosts
    /// The directories' change logs, open for appending (descriptors).
    private var changeLogs: [String: Int32] = [:]
    /// With `bufferLogs`: each directory change log's records not yet
    /// written, and its length in bytes (written and buffered).
    private var changeBuffers: [String: [UInt8]] = [:]
    private var changeLengths: [String: Int] = [:]
    /// The logs are buffered and written by `markWorld` (see `bufferLogs`).
    private(set) var buffersLogs = false
    /// Each log's length at the journal's last commit, by its path under
    /// SCRATCH (`markWorld`'s names): replayed up to there, cut there.
    private let committed: [String: Int]
    /// Called before anything of the run is written under SCRATCH (a
    /// change log line, a host's log record, the DNS answers, a work file,
    /// a notification, a marker): see `SimulatedEnvironment.beforePersisting`.
    private var hook: (@Sendable () throws -> Void)?
    var beforePersisting: (@Sendable () throws -> Void)? {
        get { lock.withLock { hook } }
        set {
            let buffered = lock.withLock {
                hook = newValue
                return buffersLogs
            }
            // Buffered logs are written by `markWorld`, inside the journal's
            // commit: no commit before each record.
            guard !buffered else { return }
            for fs in lock.withLock({ Array(memoryHosts.values) }) { fs.beforeLogging = newValue }
        }
    }

    private func barrier() throws { try lock.withLock { hook }?() }

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens the scratch folder, creating it from the fixtures (found
    /// relative to `fixtureBase`) unless an earlier run of this journal did.
    init(root: URL, plan: Plan, fixtureBase: URL, hosts: Hosts = .automatic, committed: [String: Int] = [:]) throws {
        self.root = root
        self.plan = plan
        let marker = root.appendingPathComponent(".ready")
        let memoryMarker = root.appendingPathComponent(".memory-hosts")
        let exists = FileManager.default.fileExists(atPath: marker.path)
        // Lengths apply to the logs they were taken of, not to new ones.
        self.committed = exists ? committed : [:]
        if !exists {
            try? FileManager.default.removeItem(at: root)
            var chosen = hosts
            if chosen == .automatic {
                chosen = ProcessInfo.processInfo.environment["RELEVO_SCRATCH_HOSTS"].flatMap(Hosts.init(rawValue:)) ?? .automatic
            }
            if chosen == .automatic {
                chosen = Self.storesHoldFiles(plan: plan, fixtureBase: fixtureBase) ? .disk : .memory
            }
            self.hosts = chosen
            try create(fixtureBase: fixtureBase)
            if chosen == .memory { try touch(memoryMarker) }
            try touch(marker)
        } else {
            self.hosts = FileManager.default.fileExists(atPath: memoryMarker.path) ? .memory : .disk
        }
        try load()
    }

    /// Whether any store root of the fixtures holds a file (or anything
    /// but folders): then the hosts are kept on disk.
    static func storesHoldFiles(plan: Plan, fixtureBase: URL) -> Bool {
        let fm = FileManager.default
        for e in plan.elements where e.kind.isStore {
            guard let host = e.host?.name, let rootPath = e.parameters["root"]?.string,
                  let source = plan.fixtures?.hosts.first(where: { $0.host.name == host })?.path else { continue }
            let base = source.hasPrefix("/") ? URL(fileURLWithPath: source) : fixtureBase.appendingPathComponent(source)
            let folder = base.appendingPathComponent(String(rootPath.drop { $0 == "/" }))
            guard let walk = fm.enumerator(at: folder, includingPropertiesForKeys: [.isDirectoryKey]) else { continue }
            for case let url as URL in walk where (try? url.resourceValues(forKeys: [.isDirectoryKey]))?.isDirectory != true {
                return true
            }
        }
        return false
    }

    /// The memory file system of `host` (its log replayed), made once.
    private func memoryHost(_ host: String) throws -> MemoryFileSystem {
        if let known = memoryHosts[host] { return known }
        let fs = try MemoryFileSystem(name: host, log: url("hosts", host + ".changes").path,
                                      committed: committed["hosts/\(host).changes"])
        memoryHosts[host] = fs
        return fs
    }

    private func url(_ parts: String...) -> URL {
        parts.reduce(root) { $0.appendingPathComponent($1) }
    }

    private func create(fixtureBase: URL) throws {
        let fm = FileManager.default
        for sub in ["hosts", "directories", "files"] {
            try fm.createDirectory(at: url(sub), withIntermediateDirectories: true)
        }
        let fixtures = plan.fixtures
        func fixture(_ path: String) -> URL {
            path.hasPrefix("/") ? URL(fileURLWithPath: path) : fixtureBase.appendingPathComponent(path)
        }
        // Hosts: every top-level folder of the fixture tree, copied with the
        // store layer's copier (times kept; symlinks and special files refused).
        for host in plan.hosts {
            let target = url("hosts", host.name.name)
            let toRoot: StoreRoot
            if hosts == .memory {
                toRoot = try StoreRoot("/", on: try memoryHost(host.name.name))
            } else {
                try fm.createDirectory(at: target, withIntermediateDirectories: true)
                toRoot = try StoreRoot(target.path)
            }
            guard let source = fixtures?.hosts.first(where: { $0.host.name == host.name.name })?.path else { continue }
            let from = fixture(source)
            guard fm.fileExists(atPath: from.path) else {
                throw SetupError(description: "fixture folder \(from.path) for host '\(host.name.name)' does not exist")
            }
            let fromRoot = try StoreRoot(from.path)
            for name in try fm.contentsOfDirectory(atPath: from.path).sorted() {
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: from.appendingPathComponent(name).path, isDirectory: &isDirectory),
                      isDirectory.boolValue else { continue }
                _ = try TreeCopier.copy(from: fromRoot.location(name), to: toRoot.location(name),
                                        options: CopyOptions(syncFiles: false))
            }
        }
        // Store roots exist on their hosts.
        for e in plan.elements where e.kind.isStore {
            guard let host = e.host?.name, let rootPath = e.parameters["root"]?.string else { continue }
            if hosts == .memory {
                try memoryHost(host).makeDirectories(rootPath)
            } else {
                try fm.createDirectory(at: url("hosts", host).appendingPathComponent(String(rootPath.dropFirst())),
                                       withIntermediateDirectories: true)
            }
        }
        // Directories.
        for e in plan.elements where e.kind == .ldap {
            let own = fixtures?.directories.first { $0.element.name == e.name.name }?.path
            let file = own ?? fixtures?.directory?.path
            var text = ""
            if let file {
                text = try String(contentsOf: fixture(file), encoding: .utf8)
            }
            // Validate now: a broken fixture is a setup error, not a step
            // failure. The directory made is the one `load` starts from.
            directories[e.name.name] = try makeDirectory(element: e, ldif: text)
            try Data(text.utf8).write(to: url("directories", "\(e.name.name).ldif"))
            try touch(url("directories", "\(e.name.name).changes.ldif"))
        }
        var answers: [String: String] = [:]
        for d in fixtures?.dns ?? [] { answers[d.domain.name.lowercased()] = d.mx }
        try JSONEncoder().encode(answers).write(to: url("dns.json"))
    }

    private func makeDirectory(element: Element, ldif: String) throws -> MemoryDirectory {
        let base = element.parameters["base"]?.template?.description ?? element.parameters["base"]?.string
        let suffixes = base.flatMap { try? DistinguishedName($0) }.map { [$0] } ?? []
        do {
            return try MemoryDirectory(ldif: ldif, suffixes: suffixes)
        } catch {
            throw SetupError(description: "directory fixture for '\(element.name.name)': \(error)")
        }
    }

    private func load() throws {
        if hosts == .memory {
            for host in plan.hosts { _ = try memoryHost(host.name.name) }
        }
        for e in plan.elements where e.kind == .ldap {
            if directories[e.name.name] != nil { continue }  // made just now, nothing changed yet
            let base = try String(contentsOf: url("directories", "\(e.name.name).ldif"), encoding: .utf8)
            var directory = try makeDirectory(element: e, ldif: base)
            let changes = try committedChanges(e.name.name)
            if !changes.isEmpty {
                do {
                    for record in try LDIFReader().read(changes) { try directory.apply(record) }
                } catch {
                    throw SetupError(description: "replaying the changes of '\(e.name.name)': \(error)")
                }
            }
            directories[e.name.name] = directory
        }
        dns = (try? JSONDecoder().decode([String: String].self, from: Data(contentsOf: url("dns.json")))) ?? [:]
    }

    /// The change log of a directory, cut to its committed length when
    /// the journal recorded one (what follows it was written after the
    /// journal's last commit: its steps are not in the journal).
    private func committedChanges(_ element: String) throws -> String {
        let name = "directories/\(element).changes.ldif"
        let file = url("directories", "\(element).changes.ldif")
        var data = try Data(contentsOf: file)
        if let length = committed[name] {
            guard length <= data.count else {
                throw SetupError(description: "\(name) holds \(data.count) bytes, \(length) were committed")
            }
            if length < data.count {
                data = data.prefix(length)
                guard truncate(file.path, off_t(length)) == 0 else {
                    throw SetupError(description: "truncate \(file.path): \(String(cString: strerror(errno)))")
                }
            }
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SetupError(description: "\(name) is not UTF-8")
        }
        return text
    }

    /// From now on the logs of the world (each memory host's, each
    /// directory's change log) are gathered in memory and written by
    /// `markWorld` (or a host's once it gathers a megabyte), instead of one
    /// `write` per record after `beforePersisting`. For a dry run whose
    /// journal calls `markWorld` in every commit and records its lengths
    /// (`SQLiteJournal.attachWorld`), and whose scratch folder is opened
    /// with those lengths (`committed`) when resumed.
    func bufferLogs() {
        let hosts = lock.withLock {
            buffersLogs = true
            return Array(memoryHosts.values)
        }
        for fs in hosts {
            fs.beforeLogging = nil
            fs.bufferedLog = true
        }
    }

    /// Writes every log's buffered records and returns each log's length
    /// (path under SCRATCH, bytes): every change made before the call is in
    /// its log, within that length.
    func markWorld() throws -> [(name: String, length: Int)] {
        try lock.withLock {
            var marks: [(name: String, length: Int)] = []
            for element in directories.keys.sorted() {
                let fd = try changeLog(element)
                if let buffer = changeBuffers[element], !buffer.isEmpty {
                    try writeAll(fd, buffer, to: "\(element).changes.ldif")
                    changeBuffers[element]!.removeAll(keepingCapacity: true)
                }
                marks.append(("directories/\(element).changes.ldif", changeLengths[element]!))
            }
            for host in memoryHosts.keys.sorted() {
                if let length = try memoryHosts[host]!.flushLog() { marks.append(("hosts/\(host).changes", length)) }
            }
            return marks
        }
    }

    /// The change log of `element`, opened for appending (under the lock).
    private func changeLog(_ element: String) throws -> Int32 {
        if let fd = changeLogs[element] { return fd }
        let path = url("directories", "\(element).changes.ldif").path
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw SetupError(description: "open \(path): \(String(cString: strerror(errno)))") }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            close(fd)
            throw SetupError(description: "seek \(path): \(String(cString: strerror(errno)))")
        }
        changeLogs[element] = fd
        changeLengths[element] = Int(end)
        return fd
    }

    // MARK: - Directories

    func directory(_ element: String) -> MemoryDirectory? {
        lock.withLock { directories[element] }
    }

    /// Applies a change and appends it to the element's change log (written
    /// before returning, so a killed run's resume replays it; not synced, as
    /// nothing of the scratch world is: see `SQLiteJournal.Durability`; with
    /// `bufferLogs`, gathered and written by `markWorld`, at the journal's
    /// next commit, which is what a resume replays up to).
    func change(_ element: String, _ record: LDIFChangeRecord) throws {
        try lock.withLock {
            guard directories[element] != nil else { throw SetupError(description: "no directory '\(element)'") }
            // In place: a copy would duplicate every entry for each change.
            // `apply` validates before it changes anything, so a refused
            // change leaves the directory as it was.
            try directories[element]!.apply(.change(record))
            let text = LDIFWriter(includeVersion: false).write([.change(record)]) + "\n"
            if buffersLogs {
                // Written by `markWorld`, in the journal's next commit.
                let fd = try changeLog(element)
                changeBuffers[element, default: []].append(contentsOf: text.utf8)
                changeLengths[element]! += text.utf8.count
                if changeBuffers[element]!.count >= 1 << 20 {
                    try writeAll(fd, changeBuffers[element]!, to: "\(element).changes.ldif")
                    changeBuffers[element]!.removeAll(keepingCapacity: true)
                }
                return
            }
            try hook?()
            let fd = try changeLog(element)
            try writeAll(fd, text, to: "\(element).changes.ldif")
            changeLengths[element]! += text.utf8.count
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], to name: String) throws {
        let error = bytes.withUnsafeBytes { FileDescriptor.writeAll(fd, $0) }
        if let error { throw SetupError(description: "writing \(name): \(String(cString: strerror(error)))") }
    }

    /// Writes all of `text` to `fd` (one `write` call but for a short one).
    private func writeAll(_ fd: Int32, _ text: String, to name: String) throws {
        if let error = FileDescriptor.writeAll(fd, text) {
            throw SetupError(description: "writing \(name): \(String(cString: strerror(error)))")
        }
    }

    deinit {
        // Whole records only; a dry run cuts what its journal did not commit.
        for (element, buffer) in changeBuffers where !buffer.isEmpty {
            if let fd = changeLogs[element] { _ = buffer.withUnsafeBytes { FileDescriptor.writeAll(fd, $0) } }
        }
        for fd in changeLogs.values { close(fd) }
    }

    private func append(_ text: String, to file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    // MARK: - Hosts, files, DNS, notifications

    /// The store root of a store element, inside its host's folder
    /// (created on first use; steps ask for it several times per set).
    func storeRoot(_ element: String) throws -> StoreRoot {
        if let known = lock.withLock({ roots[element] }) { return known }
        guard let e = plan.element(element), e.kind.isStore, let host = e.host?.name,
              let rootPath = e.parameters["root"]?.string else {
            throw SetupError(description: "'\(element)' is not a store on a host")
        }
        let root: StoreRoot
        if hosts == .memory, let fs = lock.withLock({ memoryHosts[host] }) {
            try fs.makeDirectories(rootPath)
            root = try StoreRoot(rootPath, on: fs)
        } else {
            let path = url("hosts", host).appendingPathComponent(String(rootPath.dropFirst())).path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            root = try StoreRoot(path)
        }
        lock.withLock { roots[element] = root }
        return root
    }

    /// A local file of a global step, inside SCRATCH/files (paths are
    /// relative; `..` refused).
    func file(_ relative: String) throws -> URL {
        let components = try StoreRoot.components(ofRelative: relative)
        try barrier()
        let result = components.reduce(url("files")) { $0.appendingPathComponent($1) }
        try FileManager.default.createDirectory(at: result.deletingLastPathComponent(), withIntermediateDirectories: true)
        return result
    }

    func mx(_ domain: String) -> String? { lock.withLock { dns[domain.lowercased()] } }

    func setMX(_ domain: String, _ host: String) throws {
        // The commit first, outside the lock (the journal's commit takes it
        // to mark the world).
        try barrier()
        try lock.withLock {
            dns[domain.lowercased()] = host
            try JSONEncoder().encode(dns).write(to: url("dns.json"), options: .atomic)
        }
    }

    func notify(_ line: String) throws {
        try barrier()
        let file = url("notifications.log")
        if !FileManager.default.fileExists(atPath: file.path) { try touch(file) }
        try lock.withLock { try append(line + "\n", to: file) }
    }

    /// A marker that a one-time event (a crash fault) happened.
    func once(_ name: String) -> Bool {
        let marker = url(".once-" + name.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined())
        if FileManager.default.fileExists(atPath: marker.path) { return false }
        try? barrier()
        // Not recorded, not fired: a marker that cannot be written would
        // make every resume crash again.
        return FileManager.default.createFile(atPath: marker.path, contents: Data())
    }

    /// Creates an empty file, or fails saying which.
    private func touch(_ file: URL) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: Data()) else {
            throw SetupError(description: "cannot create \(file.path)")
        }
    }
}
