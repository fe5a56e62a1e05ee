import Glibc

/// The result of placing one copied file.
struct PlacedFile {
    var sha256: String
    var size: UInt64
    var mtime: FileTime
}

/// Copies the regular file `name` of `source` into a fresh temporary file
/// in `staging`, then moves it to `targetName` in `target` unless that name
/// exists there (then returns nil and leaves the destination untouched).
///
/// The copy keeps the permission bits (without setuid/setgid/sticky), the
/// access and modification times to the nanosecond, and is `fsync`ed when
/// asked. Nothing partial is ever visible under `targetName`: on any error
/// the temporary file is removed before the error propagates.
func copyRegularFile(from source: DirectoryHandle, name: String, expected: CensusEntry,
                     staging: DirectoryHandle, target: DirectoryHandle, targetName: String,
                     options: CopyOptions) throws -> PlacedFile? {
    try options.faultInjection?(.beforeOpen, source.display(name))
    let input = try source.openForReading(name)
    let status = try input.status()
    // The file opened must be the one the census listed. Over SFTP there is
    // no device or inode (both 0) and opening follows a link planted after
    // the `lstat`: then size and modification time are what tells.
    guard status.device == expected.device, status.inode == expected.inode,
          status.kind == .regularFile, isCensused(size: status.size, mtime: status.mtime, expected) else {
        throw StoreError.sourceChanged(input.path)
    }
    if status.linkCount > 1 && expected.linkCount == 1 && !options.allowHardLinks {
        throw StoreError.refused([Refusal(path: input.path, reason: .hardLinked(links: status.linkCount))])
    }
    return try placeFile(status: status, staging: staging, target: target, targetName: targetName, options: options) { output, hasher in
        var written: UInt64 = 0
        try input.readChunks { chunk in
            hasher.update(bytes: chunk)
            try output.write(chunk)
            if written == 0 { try options.faultInjection?(.afterFirstChunk, input.path) }
            written += UInt64(chunk.count)
        }
        let after = try input.status()
        guard after.size == status.size, after.mtime == status.mtime, written == status.size else {
            throw StoreError.sourceChanged(input.path)
        }
        return written
    }
}

/// `copyRegularFile` for a file already read whole (`StoreDirectory.readFiles`):
/// it must still be the file the census listed (same size and modification
/// time, to the precision both sides keep), else `sourceChanged`.
func copyFetchedFile(_ file: FetchedFile, path: String, expected: CensusEntry,
                     staging: DirectoryHandle, target: DirectoryHandle, targetName: String,
                     options: CopyOptions) throws -> PlacedFile? {
    try options.faultInjection?(.beforeOpen, path)
    try checkFetched(file, path: path, expected: expected)
    let status = file.status
    return try placeFile(status: status, staging: staging, target: target, targetName: targetName, options: options) { output, hasher in
        try file.bytes.withUnsafeBytes { bytes in
            hasher.update(bytes: bytes)
            try output.write(bytes)
        }
        if !file.bytes.isEmpty { try options.faultInjection?(.afterFirstChunk, path) }
        return UInt64(file.bytes.count)
    }
}

/// A fetched file must still be the file the census listed: a regular file
/// of the same size and modification time (to the precision both sides
/// keep), else `sourceChanged`.
func checkFetched(_ file: FetchedFile, path: String, expected: CensusEntry) throws {
    let status = file.status
    guard status.kind == .regularFile, UInt64(file.bytes.count) == expected.size,
          isCensused(size: status.size, mtime: status.mtime, expected) else {
        throw StoreError.sourceChanged(path)
    }
}

/// Same size and modification time as the census entry, to the precision
/// both sides keep (SFTP carries whole seconds).
private func isCensused(size: UInt64, mtime: FileTime, _ expected: CensusEntry) -> Bool {
    let sameTime = expected.mtime.nanoseconds == 0 || mtime.nanoseconds == 0
        ? mtime.seconds == expected.mtime.seconds : mtime == expected.mtime
    return size == expected.size && sameTime
}

/// Makes a fresh staging folder `.relevo-PID-RANDOM.d` in `directory`
/// (a Maildir's `tmp/`), never one that exists already.
func makeStagingDirectory(in directory: DirectoryHandle) throws -> (any StoreDirectory, String) {
    for _ in 0..<8 {
        let name = ".relevo-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).d"
        let made = try directory.makeDirectory(name, mode: 0o700)
        if made.created { return (made.handle, name) }
    }
    throw StoreError.io(path: directory.displayPath, operation: "make a staging folder", errno: EEXIST)
}

/// Writes a temporary file in `staging` with `write` (which returns the bytes
/// written and feeds `hasher`), gives it the mode and times of `status`,
/// syncs it when asked, and moves it to `targetName` in `target` unless that
/// name exists (nil then). The temporary file never outlives an error.
private func placeFile(status: FileStatus, staging: DirectoryHandle, target: DirectoryHandle, targetName: String,
                       options: CopyOptions,
                       write: (any StoreFileWriter, inout SHA256) throws -> UInt64) throws -> PlacedFile? {
    let (output, stagingName) = try createTemporary(in: staging)
    var placed = false
    defer {
        if !placed {
            try? output.close()
            try? staging.unlink(stagingName)
        }
    }
    var hasher = SHA256()
    let written = try write(output, &hasher)
    try output.setModeAndTimes(status.mode & 0o777, access: status.atime, modification: status.mtime)
    if options.syncFiles { try output.sync() }
    try output.close()
    guard try staging.moveNoReplace(stagingName, to: target, as: targetName) else {
        return nil
    }
    placed = true
    return PlacedFile(sha256: hasher.hexDigest(), size: written, mtime: status.mtime)
}

extension FileStatus {
    /// What a census says of a directory it listed (kind only).
    static let listedDirectory = FileStatus(kind: .directory, mode: 0, size: 0, mtime: FileTime(seconds: 0),
                                            atime: FileTime(seconds: 0), uid: 0, gid: 0)
}

/// Creates an exclusive temporary file `.relevo-PID-RANDOM` in `directory`.
private func createTemporary(in directory: DirectoryHandle) throws -> (any StoreFileWriter, String) {
    var attempts = 0
    while true {
        let name = ".relevo-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        do {
            return (try directory.createExclusive(name, mode: 0o600), name)
        } catch StoreError.io(_, _, let code) where code == EEXIST && attempts < 8 {
            attempts += 1
        }
    }
}

/// Opens directories below a base directory by relative path, once each,
/// never following links; with `create`, makes missing ones and remembers
/// which it made.
final class DirectoryCache {
    private var handles: [String: DirectoryHandle]
    /// Directories made, as display paths (relative to the store root).
    private(set) var created: [String] = []

    /// Directories a census just listed below the base: opened as listed
    /// (`StoreDirectory.openListed`) rather than made again.
    private let existing: Set<String>

    init(base: DirectoryHandle, existing: [DirectoryEntry] = []) {
        handles = ["": base]
        self.existing = Set(existing.map(\.path))
    }

    /// Handles the cache keeps open (the base included).
    var openCount: Int { handles.count }

    /// The directory at `path` (relative to the base; "" is the base). When
    /// it does not exist and `create` is false, throws `StoreError.io` with
    /// ENOENT (see `StoreError.isNotFound`).
    func directory(_ path: String, create: Bool, mode: UInt32 = 0o700) throws -> DirectoryHandle {
        if let handle = handles[path] { return handle }
        // Keep open only the base and the ancestors of `path`: the copiers
        // go through a tree in path order, so this is what they reuse, and
        // a store of many thousand folders must not hold a descriptor for
        // each (EMFILE). A handle a caller still holds stays open.
        if handles.count > 1 {
            handles = handles.filter { $0.key.isEmpty || path.hasPrefix($0.key + "/") }
        }
        var parts = path.split(separator: "/").map(String.init)
        guard let name = parts.popLast() else { return handles[""]! }
        let parent = try directory(parts.joined(separator: "/"), create: create, mode: 0o700)
        let handle: DirectoryHandle
        if existing.contains(path) {
            handle = try parent.openListed(name, listed: .listedDirectory).handle
        } else if create {
            let made = try parent.makeDirectory(name, mode: mode)
            if made.created { created.append(made.handle.displayPath) }
            handle = made.handle
        } else {
            handle = try parent.openDirectory(name)
        }
        handles[path] = handle
        return handle
    }

    /// Splits `path` into its directory (opened as by `directory`) and last
    /// component.
    func parent(of path: String, create: Bool) throws -> (DirectoryHandle, String) {
        var parts = path.split(separator: "/").map(String.init)
        let name = parts.popLast() ?? ""
        return (try directory(parts.joined(separator: "/"), create: create), name)
    }
}

/// Whether two files hold the same contents under `comparison`; returns the
/// destination's SHA-256 when it was read.
func sameContents(_ source: CensusEntry, in sourceDirectory: DirectoryHandle,
                  _ destination: CensusEntry, in destinationDirectory: DirectoryHandle,
                  comparison: ContentComparison) throws -> (equal: Bool, destinationSHA: String?) {
    guard source.size == destination.size else { return (false, destination.sha256) }
    if comparison == .sizeAndModificationTime && source.mtime == destination.mtime {
        return (true, destination.sha256)
    }
    let a = try source.sha256 ?? hashRegularFile(in: sourceDirectory, name: source.name, expected: nil).sha256
    let b = try destination.sha256 ?? hashRegularFile(in: destinationDirectory, name: destination.name, expected: nil).sha256
    return (a == b, b)
}
