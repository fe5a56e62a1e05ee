import Glibc

/// A file system a store lives on: the local one (`LocalFileSystem`,
/// descriptors and `openat`) or a remote host's (the live driver's SFTP
/// file system). Census, copy, removal and ownership are written once
/// against these protocols, so a dry run on local fixture trees and a live
/// run between two SSH hosts share every rule: no link followed, nothing
/// partial visible, no file replaced.
public protocol StoreFileSystem: AnyObject, Sendable {
    /// For messages: `local`, or the host (`neon 127.0.0.2:2222`).
    var name: String { get }
    /// The canonical absolute path of `path` (links resolved, as
    /// `realpath`), or nil when it does not exist.
    func canonicalPath(_ path: String) throws -> String?
    /// `lstat` of an absolute path, or nil when it does not exist.
    func linkStatus(_ path: String) throws -> FileStatus?
    /// The text of the symbolic link at `path`, if it is one.
    func linkTarget(_ path: String) -> String?
    /// Opens a trusted absolute directory (a canonical store root);
    /// `display` names it in messages.
    func openDirectory(absolute path: String, display: String) throws -> any StoreDirectory
    /// Whether ownership changes are applied (root on that system).
    var canChangeOwners: Bool { get }
    /// The numeric owner for `user:group` on that system.
    func owner(user: String, group: String) throws -> Owner
}

/// An open directory of a `StoreFileSystem`, reached from a store root
/// without following links. Every operation takes a single entry name.
public protocol StoreDirectory: AnyObject {
    /// Path relative to the store root, for messages (`""` is the root).
    var displayPath: String { get }
    /// `lstat` of the entry `name`, or nil when it does not exist.
    func status(_ name: String) throws -> FileStatus?
    /// `lstat` of this directory.
    func status() throws -> FileStatus
    /// The subdirectory `name`, or nil when it does not exist; a link or
    /// special file is refused (`StoreError.refused`), a regular file is
    /// `StoreError.notADirectory`.
    func openDirectoryIfPresent(_ name: String) throws -> (any StoreDirectory)?
    /// Whether `readFiles` can fetch many files in one request here.
    var readsManyFiles: Bool { get }
    /// The regular files at `paths` (relative to this directory), each with
    /// its status as read, fetched together in one request, or nil when this
    /// file system cannot (the default). A path missing from the answer
    /// (vanished, or not a regular file) is left to the caller, who then
    /// opens it alone and meets the problem there.
    func readFiles(_ paths: [String]) throws -> [String: FetchedFile]?
    /// Whether `writeFiles` can write many files in one request here.
    var writesManyFiles: Bool { get }
    /// Writes each of `files` as a new regular file (its bytes, permission
    /// bits and times) under its name in the subdirectory `staging`, which
    /// the caller has just made and which is empty, in one request. False
    /// when this file system cannot (the default); an error leaves whatever
    /// was written in `staging` for the caller to remove.
    func writeFiles(_ files: [(name: String, file: FetchedFile)], into staging: String) throws -> Bool
    /// Whether `writeTree` can write whole trees in one request here.
    var writesTrees: Bool { get }
    /// Writes `items` (directories, each after its parent, and regular
    /// files with their bytes, permission bits and times; paths relative to
    /// `staging`, made of plain names) below the subdirectory `staging`,
    /// which the caller has just made and which is empty, in one request.
    /// False when this file system cannot (the default); an error leaves
    /// whatever was written in `staging` for the caller to remove.
    func writeTree(_ items: [TreeItem], into staging: String) throws -> Bool
    /// The `lstat` of each of `paths` (relative to this directory, each a
    /// single entry name of it), asked in one request for many: absent
    /// entries are missing from the answer. nil when this file system
    /// cannot (the default): then the caller asks `status` of each.
    /// `thenListed`: the caller lists those trees next (`listTrees` of the
    /// same names), which the file system may answer from this request.
    func statuses(of names: [String], thenListed: Bool) throws -> [String: FileStatus]?
    /// Whether `changeOwners` can change many entries in one request here.
    var changesManyOwners: Bool { get }
    /// Gives the entries at `paths` (relative to this directory; `""` is
    /// this directory), never following a link, to `uid:gid` in one
    /// request. With `missingIsFine`, an entry that no longer exists is
    /// skipped. False when this file system cannot (the default).
    func changeOwners(_ paths: [String], uid: UInt32, gid: UInt32, missingIsFine: Bool) throws -> Bool
    /// The SHA-256 (lowercase hex) of the regular files at `paths` (relative
    /// to this directory, as a walk from it names them), computed on the
    /// host that holds them, so that a census does not pull every byte
    /// over the network; nil when this file system cannot (then the caller
    /// reads each file). A path missing from the answer (vanished, or not
    /// a regular file any more) is left to the caller too. `bytes` is their
    /// size in all as listed, for the file system to choose how to hash
    /// (a program that starts slower but hashes faster pays off only on
    /// enough bytes). The default is nil.
    func digests(of paths: [String], bytes: UInt64) throws -> [String: String]?
    /// Whole trees below this directory listed in one request, for many
    /// at once (`MaildirCensus.scanMany`): for each of `paths` (relative to
    /// this directory, each a directory the caller has just opened), every
    /// entry below it with its status as `listing()` would give it. nil when
    /// this file system cannot (the default); a path missing from the
    /// answer is walked by the caller, the ordinary way.
    func listTrees(_ paths: [String]) throws -> [String: ListedTree]?
    /// The subdirectory `name` that a `listing()` just showed as the
    /// directory `listed`, with its status as opened: the walker compares the
    /// two to catch a directory swapped since the listing. Locally that is an
    /// `openat` without following links and an `fstat`; over SFTP, where a
    /// directory is a path and each use checks again, the listing's
    /// attributes stand (the default opens and asks, as `openDirectory`).
    func openListed(_ name: String, listed: FileStatus) throws -> (handle: any StoreDirectory, status: FileStatus)
    /// The subdirectory `name`, made with `mode` when missing.
    func makeDirectory(_ name: String, mode: UInt32) throws -> (handle: any StoreDirectory, created: Bool)
    /// The entries (without `.` and `..`), sorted by name.
    func entries() throws -> [EntryName]
    /// The entries as `entries()` gives them, each with its `lstat` as of
    /// the listing (nil when it vanished since). A file system whose
    /// directory listing carries the attributes (SFTP's readdir) answers in
    /// one round trip instead of one per entry; the default asks `status`.
    func listing() throws -> [(name: EntryName, status: FileStatus?)]
    /// Opens the regular file `name` for reading; refuses a link or special file.
    func openForReading(_ name: String) throws -> any StoreFileReader
    /// Creates `name`, failing when anything exists under that name.
    func createExclusive(_ name: String, mode: UInt32) throws -> any StoreFileWriter
    /// Moves `name` to `newName` in `target` (a directory of the same file
    /// system) unless `newName` exists there: then returns false and
    /// changes nothing. Never replaces a file.
    func moveNoReplace(_ name: String, to target: any StoreDirectory, as newName: String) throws -> Bool
    /// Removes the file `name` (never a directory).
    func unlink(_ name: String) throws
    /// Removes the directory `name` if empty; false when not empty or absent.
    func removeDirectoryIfEmpty(_ name: String) throws -> Bool
    /// Changes the owner of `name` (or of this directory when nil) without
    /// following a link.
    func changeOwner(_ name: String?, uid: UInt32, gid: UInt32) throws
}

/// A file open for reading.
public protocol StoreFileReader: AnyObject {
    /// Display path, for messages.
    var path: String { get }
    func status() throws -> FileStatus
    /// Reads to the end, in chunks.
    func readChunks(_ body: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// A file created for writing (a copy's temporary file).
public protocol StoreFileWriter: AnyObject {
    var path: String { get }
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Permission bits (`& 0o777`).
    func setMode(_ mode: UInt32) throws
    func setTimes(access: FileTime, modification: FileTime) throws
    /// `setMode` then `setTimes`, in one request where the file system can.
    func setModeAndTimes(_ mode: UInt32, access: FileTime, modification: FileTime) throws
    /// Makes the contents durable (`fsync`).
    func sync() throws
    /// Closes, reporting a late write error.
    func close() throws
}

extension StoreFileWriter {
    public func setModeAndTimes(_ mode: UInt32, access: FileTime, modification: FileTime) throws {
        try setMode(mode)
        try setTimes(access: access, modification: modification)
    }
}

/// An entry of a tree written by `StoreDirectory.writeTree`.
public enum TreeItem: Sendable {
    case directory(path: String, mode: UInt32)
    case file(path: String, FetchedFile)

    public var path: String {
        switch self {
        case .directory(let path, _), .file(let path, _): return path
        }
    }
}

/// A regular file read whole by `StoreDirectory.readFiles`.
public struct FetchedFile: Sendable {
    public var status: FileStatus
    public var bytes: [UInt8]
    public init(status: FileStatus, bytes: [UInt8]) {
        self.status = status
        self.bytes = bytes
    }
}

extension StoreDirectory {
    public var readsManyFiles: Bool { false }
    public var writesManyFiles: Bool { false }
    public var changesManyOwners: Bool { false }
    public var writesTrees: Bool { false }
    public func writeTree(_ items: [TreeItem], into staging: String) throws -> Bool { false }
    public func statuses(of names: [String], thenListed: Bool) throws -> [String: FileStatus]? { nil }
    public func changeOwners(_ paths: [String], uid: UInt32, gid: UInt32, missingIsFine: Bool) throws -> Bool { false }
    public func writeFiles(_ files: [(name: String, file: FetchedFile)], into staging: String) throws -> Bool { false }
    public func readFiles(_ paths: [String]) throws -> [String: FetchedFile]? { nil }
    public func digests(of paths: [String], bytes: UInt64) throws -> [String: String]? { nil }
    public func listTrees(_ paths: [String]) throws -> [String: ListedTree]? { nil }

    public func openListed(_ name: String, listed: FileStatus) throws -> (handle: any StoreDirectory, status: FileStatus) {
        let child = try openDirectory(name)
        return (child, try child.status())
    }

    public func listing() throws -> [(name: EntryName, status: FileStatus?)] {
        try entries().map { entry in (entry, try entry.text.flatMap { try status($0) }) }
    }

    /// The display path of `name` inside this directory.
    public func display(_ name: String) -> String {
        displayPath.isEmpty ? name : displayPath + "/" + name
    }

    /// The subdirectory `name`; absent is `StoreError.io` with ENOENT.
    public func openDirectory(_ name: String) throws -> any StoreDirectory {
        guard let handle = try openDirectoryIfPresent(name) else {
            throw StoreError.io(path: display(name), operation: "open directory", errno: ENOENT)
        }
        return handle
    }

    /// Opens the directory at `components` below this one, one component
    /// at a time, never following a link. With `create`, missing
    /// directories are made with `mode`; their display paths are returned
    /// in order.
    func descend(_ components: [String], create: Bool, mode: UInt32 = 0o700) throws -> (handle: any StoreDirectory, created: [String])? {
        var current: any StoreDirectory = self
        var created: [String] = []
        for component in components {
            if create {
                let made = try current.makeDirectory(component, mode: mode)
                if made.created { created.append(made.handle.displayPath) }
                current = made.handle
            } else {
                guard let next = try current.openDirectoryIfPresent(component) else { return nil }
                current = next
            }
        }
        return (current, created)
    }
}

/// The working name of an open directory in this module.
typealias DirectoryHandle = any StoreDirectory

/// This machine's file system.
public final class LocalFileSystem: StoreFileSystem {
    public static let shared = LocalFileSystem()
    private init() {}

    public var name: String { "local" }

    public func canonicalPath(_ path: String) throws -> String? { realPath(path) }

    public func linkStatus(_ path: String) throws -> FileStatus? {
        var st = stat()
        if lstat(path, &st) != 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw StoreError.io(path: path, operation: "lstat", errno: code)
        }
        return FileStatus(st)
    }

    public func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink(path, &buffer, 4096)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func openDirectory(absolute path: String, display: String) throws -> any StoreDirectory {
        try LocalDirectory.open(absolute: path, display: display)
    }

    public var canChangeOwners: Bool { geteuid() == 0 }

    public func owner(user: String, group: String) throws -> Owner {
        Owner(uid: try Ownership.userID(user), gid: try Ownership.groupID(group))
    }
}
