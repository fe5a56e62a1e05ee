import Glibc

/// A file system held in memory, for a dry run whose scratch hosts need no
/// bytes on disk (sets without messages): census, copy, removal and
/// ownership run over it through the same `StoreFileSystem` and
/// `StoreDirectory` protocols as over the local disk or SFTP, so every rule
/// (no link followed, nothing replaced, refusals) is the same code.
///
/// What it keeps of each entry: its kind, permission bits, owner, times, a
/// regular file's bytes, a link's target, and an inode number given in
/// creation order (the device number is this file system's own, so two
/// instances never share a file). Not kept: a directory's times after it is
/// made (they do not move when entries come and go), hard links (every
/// file has one name), names that are not valid UTF-8.
///
/// **Persistence.** With a `log`, every change is appended to that file
/// (one `write` each, not synced: see `SQLiteJournal.Durability.process`)
/// before the call that made it returns, and a new instance on the same log
/// replays it: a process killed at any point comes back with every change
/// it made. A record cut short by the kill (the last one) is dropped on
/// replay: its call had not returned. With `bufferedLog` the records are
/// written by `flushLog` instead, and its owner replays up to the length it
/// recorded (`init(name:log:committed:)`).
///
/// Thread-safe: every call holds the instance's lock.
public final class MemoryFileSystem: StoreFileSystem, @unchecked Sendable {
    public let name: String
    let device: UInt64
    private let mutex = MemoryLock()
    private let root: Node
    private var nextInode: UInt64 = 1
    private var log: ChangeLog?
    /// Called before each change is written to the log (while the change
    /// is being made): a dry run commits its journal's held intents there,
    /// so that no logged effect is ever on disk before its intent.
    public var beforeLogging: (() throws -> Void)? {
        get { mutex.locked { hook } }
        set { mutex.locked { hook = newValue } }
    }
    private var hook: (() throws -> Void)?
    /// The process's umask, applied to created files as the kernel would.
    private static let umask: UInt32 = {
        let mask = Glibc.umask(0o022)
        Glibc.umask(mask)
        return UInt32(mask)
    }()
    private static let devices = MemoryLock()
    nonisolated(unsafe) private static var lastDevice: UInt64 = 0x4d45_4d00

    /// An empty file system (its root `/` a directory owned by this
    /// process), or the one recorded in `log` (created when missing).
    /// `committed`: replay only the log's first `committed` bytes and cut
    /// the file there (what a dry run's journal recorded at its last
    /// commit, see `flushLog`); nil replays every whole record.
    public init(name: String, log path: String? = nil, committed: Int? = nil) throws {
        self.name = name
        device = Self.devices.locked { Self.lastDevice += 1; return Self.lastDevice }
        root = Node(kind: .directory, mode: 0o755, uid: geteuid(), gid: getegid(), time: FileTime.now, inode: 0)
        if let path {
            let (records, valid) = try ChangeLog.read(path, upTo: committed)
            for record in records { try apply(record) }
            log = try ChangeLog(path: path, truncatingTo: valid)
        }
    }

    deinit {
        if var log {
            // Whole records only; a dry run cuts what its journal did not commit.
            try? log.flush()
            Glibc.close(log.fd)
        }
    }

    /// Whether log records are gathered in memory and written by
    /// `flushLog` (or once a megabyte is gathered) rather than one `write`
    /// each. Only for an owner that calls `flushLog` and records its
    /// answer atomically with what it commits, then replays no further
    /// (`init(name:log:committed:)`): a dry run's journal does (see
    /// `SQLiteJournal.attachWorld`).
    public var bufferedLog: Bool {
        get { mutex.locked { log?.buffered ?? false } }
        set {
            mutex.locked {
                guard log != nil else { return }
                log!.buffered = newValue
            }
        }
    }

    /// Writes the buffered log records; returns the log's length in bytes
    /// (nil without a log). Every change made before the call is then in
    /// the file, within that length.
    public func flushLog() throws -> Int? {
        try mutex.locked {
            guard log != nil else { return nil }
            try log!.flush()
            return log!.length
        }
    }

    // MARK: StoreFileSystem

    public func canonicalPath(_ path: String) throws -> String? {
        mutex.locked { resolve(path, followLast: true).map { $0.path } }
    }

    public func linkStatus(_ path: String) throws -> FileStatus? {
        mutex.locked { resolve(path, followLast: false).map { status(of: $0.node) } }
    }

    public func linkTarget(_ path: String) -> String? {
        mutex.locked {
            guard let found = resolve(path, followLast: false), found.node.kind == .symbolicLink else { return nil }
            return found.node.target
        }
    }

    public func openDirectory(absolute path: String, display: String) throws -> any StoreDirectory {
        try mutex.locked {
            guard let found = resolve(path, followLast: true) else {
                throw StoreError.io(path: path, operation: "open directory", errno: ENOENT)
            }
            guard found.node.kind == .directory else {
                throw StoreError.io(path: path, operation: "open directory", errno: ENOTDIR)
            }
            return MemoryDirectory(fs: self, node: found.node, displayPath: display)
        }
    }

    public var canChangeOwners: Bool { geteuid() == 0 }

    public func owner(user: String, group: String) throws -> Owner {
        Owner(uid: try Ownership.userID(user), gid: try Ownership.groupID(group))
    }

    // MARK: For setting up trees (fixtures, tests)

    /// Makes the directory at the absolute `path` and its missing parents.
    public func makeDirectories(_ path: String, mode: UInt32 = 0o755) throws {
        try mutex.locked {
            var node = root
            for component in path.split(separator: "/").map(String.init) {
                if let child = node.children[component] {
                    guard child.kind == .directory else { throw StoreError.notADirectory(path) }
                    node = child
                } else {
                    node = try makeNode(in: node, component, kind: .directory, mode: mode & 0o777, uid: geteuid(),
                                        gid: getegid(), time: .now)
                }
            }
        }
    }

    /// Places an entry that a store refuses (a symbolic link to `target`,
    /// or a FIFO, socket or device) at the absolute `path`, whose parent
    /// exists: what a hostile tree holds, for tests of the refusals.
    public func makeSpecial(_ path: String, kind: EntryKind, target: String = "") throws {
        precondition(kind != .directory && kind != .regularFile, "a special entry")
        try mutex.locked {
            var parts = path.split(separator: "/").map(String.init)
            let name = parts.removeLast()
            guard let parent = resolve("/" + parts.joined(separator: "/"), followLast: true)?.node,
                  parent.kind == .directory else { throw StoreError.io(path: path, operation: "create", errno: ENOENT) }
            guard parent.children[name] == nil else { throw StoreError.io(path: path, operation: "create", errno: EEXIST) }
            let node = try makeNode(in: parent, name, kind: kind, mode: 0o777, uid: geteuid(), gid: getegid(), time: .now)
            node.target = target
            if !target.isEmpty, let at = self.path(of: node) { try record(.target(at, target)) }
        }
    }

    // MARK: Nodes

    final class Node {
        var kind: EntryKind
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var mtime: FileTime
        var atime: FileTime
        let inode: UInt64
        var bytes: [UInt8] = []
        var target = ""
        var children: [String: Node] = [:]
        /// Where it is (nil for the root, or once removed). Not counted: a
        /// parent holds its children, a directory is removed only when
        /// empty, and a removed entry's parent is set to nil, so a node's
        /// parent is always alive (and a weak reference would cost each
        /// node a side table).
        unowned(unsafe) var parent: Node?
        var name = ""

        init(kind: EntryKind, mode: UInt32, uid: UInt32, gid: UInt32, time: FileTime, inode: UInt64) {
            self.kind = kind
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.mtime = time
            self.atime = time
            self.inode = inode
        }
    }

    func status(of node: Node) -> FileStatus {
        let size: UInt64
        switch node.kind {
        case .regularFile: size = UInt64(node.bytes.count)
        case .directory: size = 4096
        case .symbolicLink: size = UInt64(node.target.utf8.count)
        default: size = 0
        }
        return FileStatus(kind: node.kind, mode: node.mode, size: size, mtime: node.mtime, atime: node.atime,
                          linkCount: node.kind == .directory ? 2 : 1, uid: node.uid, gid: node.gid,
                          device: device, inode: node.inode)
    }

    /// The absolute path of a node still in the tree.
    func path(of node: Node) -> String? {
        var parts: [String] = []
        var current = node
        while let parent = current.parent {
            parts.append(current.name)
            current = parent
        }
        guard current === root else { return nil }
        return "/" + parts.reversed().joined(separator: "/")
    }

    /// Follows `path` from the root (links in it followed; the last one
    /// too with `followLast`), as the kernel resolves a path.
    func resolve(_ path: String, followLast: Bool, fast: Bool = true) -> (node: Node, path: String)? {
        guard path.hasPrefix("/") else { return nil }
        // The usual case: a canonical path, no link on the way.
        func child(of node: Node, _ name: String) -> Node? {
            guard name != ".", name != "..", node.kind == .directory, let child = node.children[name],
                  child.kind != .symbolicLink else { return nil }
            return child
        }
        /// Where the walk in place ends: at a node, at a name that is
        /// certainly not there (what the general walk below finds too: it
        /// has come the same way, through directories and no link), or
        /// where only the general walk can tell (a link, `.`, `..`).
        enum Walk { case found(Node), missing, general }
        var node = root
        var plain = true
        // The components read in place (no array of them made).
        let walked: Walk? = path.utf8.withContiguousStorageIfAvailable { bytes in
            var node = root
            var start = 0
            while start < bytes.count {
                if bytes[start] == UInt8(ascii: "/") {
                    start += 1
                    continue
                }
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
                let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                guard let next = child(of: node, name) else {
                    if fast, name != ".", name != "..", node.kind != .directory || node.children[name] == nil {
                        return .missing
                    }
                    return .general
                }
                node = next
                start = end
            }
            return .found(node)
        }
        if let walked {
            switch walked {
            case .found(let found): node = found
            case .missing: return nil
            case .general: plain = false
            }
        } else {
            for component in path.utf8.split(separator: UInt8(ascii: "/")) {
                guard let next = child(of: node, String(decoding: component, as: UTF8.self)) else {
                    plain = false
                    break
                }
                node = next
            }
        }
        if plain {
            // Canonical already unless it has an empty component ("//", a trailing "/").
            var previous: UInt8 = 0
            var clean = true
            for byte in path.utf8 {
                if byte == UInt8(ascii: "/") && previous == byte { clean = false }
                previous = byte
            }
            if path.utf8.count > 1 && previous == UInt8(ascii: "/") { clean = false }
            return (node, clean ? path : "/" + path.split(separator: "/").joined(separator: "/"))
        }
        var pending = path.split(separator: "/").map(String.init)
        pending.reverse()
        var stack: [Node] = [root]
        var names: [String] = []
        var hops = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                if stack.count > 1 { stack.removeLast(); names.removeLast() }
                continue
            }
            guard stack.last!.kind == .directory, let child = stack.last!.children[component] else { return nil }
            if child.kind == .symbolicLink, followLast || !pending.isEmpty {
                hops += 1
                guard hops <= 40 else { return nil }
                let target = child.target.split(separator: "/").map(String.init)
                if child.target.hasPrefix("/") {
                    stack = [root]
                    names = []
                }
                pending.append(contentsOf: target.reversed())
                continue
            }
            stack.append(child)
            names.append(component)
        }
        return (stack.last!, "/" + names.joined(separator: "/"))
    }

    // MARK: Changes (called under the lock)

    @discardableResult
    func makeNode(in parent: Node, _ name: String, kind: EntryKind, mode: UInt32, uid: UInt32, gid: UInt32,
                  time: FileTime) throws -> Node {
        let node = Node(kind: kind, mode: mode, uid: uid, gid: gid, time: time, inode: nextInode)
        nextInode += 1
        node.parent = parent
        node.name = name
        parent.children[name] = node
        if let at = path(of: node) { try record(.make(at, kind, mode, uid, gid, time)) }
        return node
    }

    func createFile(in parent: Node, _ name: String, mode: UInt32) throws -> Node {
        try makeNode(in: parent, name, kind: .regularFile, mode: mode & ~Self.umask & 0o7777, uid: geteuid(),
                     gid: getegid(), time: .now)
    }

    func append(_ bytes: UnsafeRawBufferPointer, to node: Node) throws {
        node.bytes.append(contentsOf: bytes)
        let now = FileTime.now
        node.mtime = now
        if let at = path(of: node) { try record(.append(at, Array(bytes), now)) }
    }

    func setMode(_ mode: UInt32, of node: Node) throws {
        node.mode = mode & 0o7777
        if let at = path(of: node) { try record(.mode(at, node.mode)) }
    }

    func setTimes(access: FileTime, modification: FileTime, of node: Node) throws {
        node.atime = access
        node.mtime = modification
        if let at = path(of: node) { try record(.times(at, access, modification)) }
    }

    func setOwner(uid: UInt32, gid: UInt32, of node: Node) throws {
        node.uid = uid
        node.gid = gid
        if let at = path(of: node) { try record(.owner(at, uid, gid)) }
    }

    func move(_ node: Node, to parent: Node, as name: String) throws {
        let from = path(of: node)
        node.parent?.children[node.name] = nil
        node.parent = parent
        node.name = name
        parent.children[name] = node
        if let from, let to = path(of: node) { try record(.move(from, to)) }
    }

    func remove(_ node: Node) throws {
        let at = path(of: node)
        node.parent?.children[node.name] = nil
        node.parent = nil
        if let at { try record(.remove(at)) }
    }

    private func record(_ change: Change) throws {
        guard log != nil else { return }
        try hook?()
        try log!.append(change)
    }

    /// Replays one recorded change (no log is open yet).
    private func apply(_ change: Change) throws {
        func node(_ path: String) throws -> Node {
            guard let found = resolve(path, followLast: false)?.node else { throw ChangeLog.corrupt("no entry \(path)") }
            return found
        }
        func parentAndName(_ path: String) throws -> (Node, String) {
            var parts = path.split(separator: "/").map(String.init)
            guard let name = parts.popLast() else { throw ChangeLog.corrupt("no name in \(path)") }
            let parent = try node("/" + parts.joined(separator: "/"))
            guard parent.kind == .directory, parent.children[name] == nil else { throw ChangeLog.corrupt("cannot place \(path)") }
            return (parent, name)
        }
        switch change {
        case .make(let path, let kind, let mode, let uid, let gid, let time):
            let (parent, name) = try parentAndName(path)
            try makeNode(in: parent, name, kind: kind, mode: mode, uid: uid, gid: gid, time: time)
        case .append(let path, let bytes, let time):
            let file = try node(path)
            file.bytes.append(contentsOf: bytes)
            file.mtime = time
        case .mode(let path, let mode): try node(path).mode = mode
        case .times(let path, let access, let modification):
            let file = try node(path)
            file.atime = access
            file.mtime = modification
        case .owner(let path, let uid, let gid):
            let file = try node(path)
            file.uid = uid
            file.gid = gid
        case .move(let from, let to):
            let moving = try node(from)
            let (parent, name) = try parentAndName(to)
            try move(moving, to: parent, as: name)
        case .remove(let path): try remove(try node(path))
        case .target(let path, let target): try node(path).target = target
        }
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T { try mutex.locked(body) }
}

/// A directory of a `MemoryFileSystem`.
final class MemoryDirectory: StoreDirectory {
    let fs: MemoryFileSystem
    let node: MemoryFileSystem.Node
    let displayPath: String

    init(fs: MemoryFileSystem, node: MemoryFileSystem.Node, displayPath: String) {
        self.fs = fs
        self.node = node
        self.displayPath = displayPath
    }

    func status(_ name: String) throws -> FileStatus? {
        fs.locked { node.children[name].map { fs.status(of: $0) } }
    }

    func status() throws -> FileStatus {
        fs.locked { fs.status(of: node) }
    }

    func openDirectoryIfPresent(_ name: String) throws -> (any StoreDirectory)? {
        try fs.locked {
            guard let child = node.children[name] else { return nil }
            return try directory(child, name)
        }
    }

    /// The handle of `child`, or what opening it as a directory refuses.
    private func directory(_ child: MemoryFileSystem.Node, _ name: String) throws -> MemoryDirectory {
        switch child.kind {
        case .directory: return MemoryDirectory(fs: fs, node: child, displayPath: display(name))
        case .regularFile: throw StoreError.notADirectory(display(name))
        default: throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(child.kind))])
        }
    }

    func openListed(_ name: String, listed: FileStatus) throws -> (handle: any StoreDirectory, status: FileStatus) {
        try fs.locked {
            guard let child = node.children[name] else {
                throw StoreError.io(path: display(name), operation: "open directory", errno: ENOENT)
            }
            return (try directory(child, name), fs.status(of: child))
        }
    }

    func makeDirectory(_ name: String, mode: UInt32) throws -> (handle: any StoreDirectory, created: Bool) {
        try fs.locked {
            if let child = node.children[name] { return (try directory(child, name), false) }
            let child = try fs.makeNode(in: node, name, kind: .directory, mode: mode & 0o777, uid: geteuid(),
                                        gid: getegid(), time: .now)
            return (MemoryDirectory(fs: fs, node: child, displayPath: display(name)), true)
        }
    }

    func entries() throws -> [EntryName] {
        fs.locked { node.children.keys.sorted().map { EntryName(bytes: Array($0.utf8)) } }
    }

    func listing() throws -> [(name: EntryName, status: FileStatus?)] {
        fs.locked {
            node.children.sorted { $0.key < $1.key }.map { (EntryName(bytes: Array($0.key.utf8)), Optional(fs.status(of: $0.value))) }
        }
    }

    func openForReading(_ name: String) throws -> any StoreFileReader {
        try fs.locked {
            guard let child = node.children[name] else {
                throw StoreError.io(path: display(name), operation: "open", errno: ENOENT)
            }
            // As `openat(O_NOFOLLOW)` then `fstat`: a link is ELOOP, any
            // other kind opens and is refused as what it is.
            guard child.kind == .regularFile else {
                throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(child.kind))])
            }
            return MemoryFile(fs: fs, node: child, path: display(name))
        }
    }

    func createExclusive(_ name: String, mode: UInt32) throws -> any StoreFileWriter {
        try fs.locked {
            guard node.children[name] == nil else {
                throw StoreError.io(path: display(name), operation: "create", errno: EEXIST)
            }
            return MemoryFile(fs: fs, node: try fs.createFile(in: node, name, mode: mode), path: display(name))
        }
    }

    func moveNoReplace(_ name: String, to target: any StoreDirectory, as newName: String) throws -> Bool {
        guard let other = target as? MemoryDirectory, other.fs === fs else {
            throw StoreError.io(path: target.display(newName), operation: "rename across file systems", errno: EXDEV)
        }
        return try fs.locked {
            guard let child = node.children[name] else {
                throw StoreError.io(path: other.display(newName), operation: "rename", errno: ENOENT)
            }
            if other.node.children[newName] != nil { return false }
            try fs.move(child, to: other.node, as: newName)
            return true
        }
    }

    func unlink(_ name: String) throws {
        try fs.locked {
            guard let child = node.children[name] else { throw StoreError.io(path: display(name), operation: "unlink", errno: ENOENT) }
            guard child.kind != .directory else { throw StoreError.io(path: display(name), operation: "unlink", errno: EISDIR) }
            try fs.remove(child)
        }
    }

    func removeDirectoryIfEmpty(_ name: String) throws -> Bool {
        try fs.locked {
            guard let child = node.children[name] else { return false }
            guard child.kind == .directory else { throw StoreError.io(path: display(name), operation: "rmdir", errno: ENOTDIR) }
            guard child.children.isEmpty else { return false }
            try fs.remove(child)
            return true
        }
    }

    func changeOwner(_ name: String?, uid: UInt32, gid: UInt32) throws {
        try fs.locked {
            guard let target = name.map({ node.children[$0] }) ?? node else {
                throw StoreError.io(path: name.map(display) ?? displayPath, operation: "chown", errno: ENOENT)
            }
            // Only root gives files away, as on a disk.
            guard geteuid() == 0 || (uid == target.uid && gid == target.gid) else {
                throw StoreError.io(path: name.map(display) ?? displayPath, operation: "chown", errno: EPERM)
            }
            try fs.setOwner(uid: uid, gid: gid, of: target)
        }
    }
}

/// A regular file of a `MemoryFileSystem`, open for reading or writing.
final class MemoryFile: StoreFileReader, StoreFileWriter {
    let fs: MemoryFileSystem
    let node: MemoryFileSystem.Node
    let path: String

    init(fs: MemoryFileSystem, node: MemoryFileSystem.Node, path: String) {
        self.fs = fs
        self.node = node
        self.path = path
    }

    func status() throws -> FileStatus { fs.locked { fs.status(of: node) } }

    func readChunks(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let bytes = fs.locked { node.bytes }
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + SHA256.chunkSize, bytes.count)
            try bytes[offset..<end].withUnsafeBytes(body)
            offset = end
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try fs.locked { try fs.append(bytes, to: node) } }
    func setMode(_ mode: UInt32) throws { try fs.locked { try fs.setMode(mode, of: node) } }
    func setTimes(access: FileTime, modification: FileTime) throws {
        try fs.locked { try fs.setTimes(access: access, modification: modification, of: node) }
    }
    func sync() throws {}
    func close() throws {}
}

/// A `pthread_mutex_t` (the store layer has no Foundation).
final class MemoryLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

extension FileTime {
    /// The wall clock, as a file system stamps a new entry.
    static var now: FileTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return FileTime(spec)
    }
}
