import Glibc

/// An open directory reached from the store root without following any
/// symbolic link. Every file operation of the store layer goes through one,
/// by a single name relative to its descriptor (`openat`, `renameat`,
/// `unlinkat`, ...), so a link planted after a check cannot redirect it.
///
/// The local file system's `StoreDirectory`: a handle owns a descriptor,
/// closed when the handle goes away.
final class LocalDirectory: StoreDirectory {
    let fd: Int32
    /// Path relative to the store root, for messages ("" is the root itself).
    let displayPath: String

    private init(fd: Int32, displayPath: String) {
        self.fd = fd
        self.displayPath = displayPath
    }

    deinit { close(fd) }

    /// The display path of `name` inside this directory.
    func display(_ name: String) -> String {
        displayPath.isEmpty ? name : displayPath + "/" + name
    }

    /// Opens a trusted absolute directory (a canonical store root).
    static func open(absolute path: String, display: String) throws -> LocalDirectory {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreError.io(path: path, operation: "open directory", errno: errno)
        }
        return LocalDirectory(fd: fd, displayPath: display)
    }

    /// `lstat` of `name`, or nil when it does not exist.
    func status(_ name: String) throws -> FileStatus? {
        var st = stat()
        if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw StoreError.io(path: display(name), operation: "lstat", errno: code)
        }
        return FileStatus(st)
    }

    /// `lstat` of this directory itself.
    func status() throws -> FileStatus {
        try FileStatus.of(fd: fd, path: displayPath)
    }

    /// Opens the subdirectory `name`, refusing a symbolic link.
    func openDirectory(_ name: String) throws -> DirectoryHandle {
        guard let handle = try openDirectoryIfPresent(name) else {
            throw StoreError.io(path: display(name), operation: "open directory", errno: ENOENT)
        }
        return handle
    }

    /// Opens the subdirectory `name`, or returns nil when it does not exist.
    func openDirectoryIfPresent(_ name: String) throws -> DirectoryHandle? {
        let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if child >= 0 {
            return LocalDirectory(fd: child, displayPath: display(name))
        }
        let code = errno
        switch code {
        case ENOENT:
            return nil
        case ELOOP, ENOTDIR:
            let kind = try status(name)?.kind ?? .unknown
            if kind == .directory || kind == .regularFile {
                throw StoreError.notADirectory(display(name))
            }
            throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(kind))])
        default:
            throw StoreError.io(path: display(name), operation: "open directory", errno: code)
        }
    }

    /// Opens the subdirectory `name`, creating it with `mode` when missing.
    func makeDirectory(_ name: String, mode: UInt32) throws -> (handle: DirectoryHandle, created: Bool) {
        var created = false
        if mkdirat(fd, name, 0o700) == 0 {
            created = true
        } else if errno != EEXIST {
            throw StoreError.io(path: display(name), operation: "mkdir", errno: errno)
        }
        guard let handle = try openDirectory(name) as? LocalDirectory else { fatalError("a local directory opens local directories") }
        if created, fchmod(handle.fd, mode_t(mode & 0o777)) != 0 {
            throw StoreError.io(path: handle.displayPath, operation: "chmod", errno: errno)
        }
        return (handle, created)
    }

    /// The entries of this directory (without `.` and `..`), sorted by name.
    func entries() throws -> [EntryName] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { close(copy) }
            throw StoreError.io(path: displayPath, operation: "read directory", errno: code)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [EntryName] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 {
                    throw StoreError.io(path: displayPath, operation: "read directory", errno: errno)
                }
                break
            }
            let name: [UInt8] = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: 256) { pointer in
                    Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
                }
            }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            names.append(EntryName(bytes: name))
        }
        return names.sorted { $0.display < $1.display }
    }

    /// Opens the regular file `name` for reading. Refuses a link or special
    /// file (the open never follows a link and never blocks on a FIFO).
    func openForReading(_ name: String) throws -> any StoreFileReader {
        let flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY
        var file = openat(fd, name, flags | noAccessTimeFlag)
        if file < 0 && errno == EPERM {
            file = openat(fd, name, flags)  // O_NOATIME needs to own the file
        }
        if file < 0 {
            let code = errno
            if code == ELOOP {
                throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(.symbolicLink))])
            }
            throw StoreError.io(path: display(name), operation: "open", errno: code)
        }
        let handle = OpenFile(fd: file, path: display(name))
        let status = try handle.status()
        guard status.kind == .regularFile else {
            throw StoreError.refused([Refusal(path: display(name), reason: .specialFile(status.kind))])
        }
        return handle
    }

    /// Creates `name` exclusively (never an existing file, never through a link).
    func createExclusive(_ name: String, mode: UInt32) throws -> any StoreFileWriter {
        let file = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode))
        guard file >= 0 else {
            throw StoreError.io(path: display(name), operation: "create", errno: errno)
        }
        return OpenFile(fd: file, path: display(name))
    }

    /// Moves `name` to `newName` in `target` unless `newName` exists there.
    /// Returns false (and leaves both untouched) when it exists. Uses
    /// `renameat2(RENAME_NOREPLACE)`, or `link` + `unlink` where the kernel
    /// or file system lacks it: an existing file is never replaced.
    func moveNoReplace(_ name: String, to other: DirectoryHandle, as newName: String) throws -> Bool {
        guard let target = other as? LocalDirectory else {
            throw StoreError.io(path: other.display(newName), operation: "rename across file systems", errno: EXDEV)
        }
        if let rename2 = renameat2Function {
            if rename2(fd, name, target.fd, newName, 1 /* RENAME_NOREPLACE */) == 0 { return true }
            let code = errno
            if code == EEXIST { return false }
            if code != EINVAL && code != ENOSYS && code != EOPNOTSUPP {
                throw StoreError.io(path: target.display(newName), operation: "rename", errno: code)
            }
        }
        if linkat(fd, name, target.fd, newName, 0) != 0 {
            let code = errno
            if code == EEXIST { return false }
            throw StoreError.io(path: target.display(newName), operation: "link", errno: code)
        }
        try unlink(name)
        return true
    }

    /// Removes the file `name` (never a directory).
    func unlink(_ name: String) throws {
        if unlinkat(fd, name, 0) != 0 {
            throw StoreError.io(path: display(name), operation: "unlink", errno: errno)
        }
    }

    /// Removes the directory `name` if it is empty. Returns false when it is
    /// not empty or does not exist.
    func removeDirectoryIfEmpty(_ name: String) throws -> Bool {
        if unlinkat(fd, name, AT_REMOVEDIR) == 0 { return true }
        let code = errno
        if code == ENOTEMPTY || code == EEXIST || code == ENOENT { return false }
        throw StoreError.io(path: display(name), operation: "rmdir", errno: code)
    }

    /// `lchown` of `name`, or of this directory when `name` is nil.
    func changeOwner(_ name: String?, uid: UInt32, gid: UInt32) throws {
        let result = name.map { fchownat(fd, $0, uid, gid, AT_SYMLINK_NOFOLLOW) } ?? fchown(fd, uid, gid)
        if result != 0 {
            throw StoreError.io(path: name.map(display) ?? displayPath, operation: "chown", errno: errno)
        }
    }
}

/// A directory entry name, as read: its text when it is valid UTF-8.
public struct EntryName: Sendable {
    /// The name, or nil when it is not valid UTF-8 (such entries are refused).
    public let text: String?
    /// The name for messages (invalid bytes replaced).
    public let display: String

    public init(bytes: [UInt8]) {
        text = String(validating: bytes, as: UTF8.self)
        display = String(decoding: bytes, as: UTF8.self)
    }
}

/// An open local file descriptor, closed when the value goes away.
final class OpenFile: StoreFileReader, StoreFileWriter {
    private(set) var fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    func status() throws -> FileStatus {
        try FileStatus.of(fd: fd, path: path)
    }

    /// Closes now and reports a failure (a written file's last error can
    /// surface only at close).
    func readChunks(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try RelevoStore.readChunks(fd: fd, path: path, body)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try writeAll(fd: fd, path: path, bytes)
    }

    func setMode(_ mode: UInt32) throws {
        if fchmod(fd, mode_t(mode & 0o777)) != 0 {
            throw StoreError.io(path: path, operation: "chmod", errno: errno)
        }
    }

    func setTimes(access: FileTime, modification: FileTime) throws {
        var times = [access.spec, modification.spec]
        if futimens(fd, &times) != 0 {
            throw StoreError.io(path: path, operation: "set times of", errno: errno)
        }
    }

    func sync() throws {
        if fsync(fd) != 0 {
            throw StoreError.io(path: path, operation: "fsync", errno: errno)
        }
    }

    func close() throws {
        let old = fd
        fd = -1
        if Glibc.close(old) != 0 {
            throw StoreError.io(path: path, operation: "close", errno: errno)
        }
    }
}

/// Linux `O_NOATIME` (not exported by Swift's Glibc module): reading a
/// message for a census or a copy leaves its access time alone.
private let noAccessTimeFlag: Int32 = 0o1000000

private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32

/// glibc's `renameat2`, looked up at run time (Swift's Glibc module does not
/// declare it).
private let renameat2Function: RenameAt2? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
    return unsafeBitCast(symbol, to: RenameAt2.self)
}()
