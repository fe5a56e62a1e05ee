// SFTP over an existing SSHSession: path-based, typed, large transfers.
internal import CRelevoShim
internal import CSSH2

/// What `lstat`, `stat`, `fstat` and a directory listing report about a file.
///
/// A field the server did not send is 0 (OpenSSH always sends them all).
/// SFTP version 3 carries times as whole seconds since 1970.
public struct FileAttributes: Sendable, Equatable {
    /// The file's type, from the permission bits.
    public enum Kind: Sendable, Equatable {
        /// A regular file.
        case regular
        /// A directory.
        case directory
        /// A symbolic link (only from `lstat` and listings, which never follow links).
        case symlink
        /// A FIFO (named pipe).
        case fifo
        /// A character device.
        case characterDevice
        /// A block device.
        case blockDevice
        /// A socket.
        case socket
        /// A type the server did not say, or one not known here.
        case other
    }

    /// The file's type.
    public var kind: Kind
    /// Size in bytes.
    public var size: UInt64
    /// Permission bits, including setuid, setgid and sticky (`mode & 0o7777`).
    public var mode: UInt32
    /// Owner user id.
    public var uid: UInt32
    /// Owner group id.
    public var gid: UInt32
    /// Last access time, seconds since 1970.
    public var atime: Int64
    /// Last modification time, seconds since 1970.
    public var mtime: Int64

    /// Attributes with the given values.
    public init(kind: Kind, size: UInt64, mode: UInt32, uid: UInt32, gid: UInt32, atime: Int64, mtime: Int64) {
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.atime = atime
        self.mtime = mtime
    }

    init(_ raw: LIBSSH2_SFTP_ATTRIBUTES) {
        let flags = raw.flags
        let permissions = flags & UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0 ? raw.permissions : 0
        if flags & UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS) == 0 {
            kind = .other
        } else {
            switch permissions & UInt(LIBSSH2_SFTP_S_IFMT) {
            case UInt(LIBSSH2_SFTP_S_IFREG): kind = .regular
            case UInt(LIBSSH2_SFTP_S_IFDIR): kind = .directory
            case UInt(LIBSSH2_SFTP_S_IFLNK): kind = .symlink
            case UInt(LIBSSH2_SFTP_S_IFIFO): kind = .fifo
            case UInt(LIBSSH2_SFTP_S_IFCHR): kind = .characterDevice
            case UInt(LIBSSH2_SFTP_S_IFBLK): kind = .blockDevice
            case UInt(LIBSSH2_SFTP_S_IFSOCK): kind = .socket
            default: kind = .other
            }
        }
        mode = UInt32(truncatingIfNeeded: permissions & 0o7777)
        size = flags & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0 ? raw.filesize : 0
        let hasOwner = flags & UInt(LIBSSH2_SFTP_ATTR_UIDGID) != 0
        uid = hasOwner ? UInt32(truncatingIfNeeded: raw.uid) : 0
        gid = hasOwner ? UInt32(truncatingIfNeeded: raw.gid) : 0
        let hasTimes = flags & UInt(LIBSSH2_SFTP_ATTR_ACMODTIME) != 0
        atime = hasTimes ? Int64(truncatingIfNeeded: raw.atime) : 0
        mtime = hasTimes ? Int64(truncatingIfNeeded: raw.mtime) : 0
    }
}

/// SFTP on the connection of an `SSHSession` (no new TCP connection or
/// authentication): files and directories by path, with typed results and
/// `SSHError.sftp(operation:path:code:)` for the server's refusals.
///
/// All calls are serialized with the session's other work. Large reads and
/// writes are pipelined by libssh2 (several requests in flight); use chunks
/// of 256 KiB or more.
///
/// Written for OpenSSH's sftp-server (SFTP version 3): `renameNoReplace`
/// relies on its rename never replacing an existing file, and listings on
/// its directory entries carrying `lstat` attributes.
public final class SFTPClient: @unchecked Sendable {
    // @unchecked Sendable: `sftp` is only used inside `session.withSession`,
    // under the session's lock; nothing else is mutable.

    /// The session this client runs over (kept alive by the client).
    public let session: SSHSession
    private let sftp: OpaquePointer

    /// Starts the SFTP subsystem on `session`.
    public init(session: SSHSession) throws {
        self.session = session
        self.sftp = try session.withSession { handle in
            guard let sftp = libssh2_sftp_init(handle) else {
                let rc = libssh2_session_last_errno(handle)
                if rc == LIBSSH2_ERROR_CHANNEL_FAILURE || rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED
                    || rc == LIBSSH2_ERROR_SFTP_PROTOCOL {
                    throw SSHError.channelFailed(host: session.endpoint.host, port: session.endpoint.port,
                                                 reason: "no SFTP subsystem: \(SSHSession.lastError(handle))")
                }
                throw session.failureLocked(Int(rc), "start SFTP")
            }
            return sftp
        }
    }

    deinit {
        let sftp = self.sftp
        session.ifOpen { _ in _ = libssh2_sftp_shutdown(sftp) }
    }

    // MARK: - Attributes

    /// The attributes of `path` itself (a symlink is reported as `.symlink`,
    /// never followed), or nil when nothing exists there.
    public func lstat(_ path: String) throws -> FileAttributes? {
        try withSFTP(changing: false) { try statLocked(path, LIBSSH2_SFTP_LSTAT, "lstat") }
    }

    /// The attributes of what `path` refers to (symlinks followed), or nil
    /// when nothing exists there (including a dangling link).
    public func stat(_ path: String) throws -> FileAttributes? {
        try withSFTP(changing: false) { try statLocked(path, LIBSSH2_SFTP_STAT, "stat") }
    }

    /// Sets the access and modification times of `path` (following links).
    public func setTimes(_ path: String, atime: Int64, mtime: Int64) throws {
        var attributes = try Self.timeAttributes(atime: atime, mtime: mtime)
        try setstat(path, &attributes, "set times")
    }

    /// Sets the permission bits of `path` exactly (no umask applies).
    public func setMode(_ path: String, _ mode: UInt32) throws {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
        attributes.permissions = UInt(mode & 0o7777)
        try setstat(path, &attributes, "set mode")
    }

    /// Sets the owner and group of `path` (needs privileges on the server).
    public func setOwner(_ path: String, uid: UInt32, gid: UInt32) throws {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_UIDGID)
        attributes.uid = UInt(uid)
        attributes.gid = UInt(gid)
        try setstat(path, &attributes, "set owner")
    }

    // MARK: - Directories

    /// The entries of `directory` without `.` and `..`, sorted by name (byte
    /// order), each with its `lstat` attributes (links not followed).
    /// A name that is not valid UTF-8 throws `SSHError.undecodableName`.
    public func list(_ directory: String) throws -> [(name: String, attributes: FileAttributes)] {
        try withSFTP(changing: false) {
            let handle = try path(directory) { p, length in
                libssh2_sftp_open_ex(sftp, p, length, 0, 0, LIBSSH2_SFTP_OPENDIR)
            }
            guard let handle else { throw openFailureLocked("list", directory) }
            // Not after a failure that closed the session: freeing it freed
            // the handle too (closing it then crashed, seen when a host's
            // sshd was killed during a listing).
            defer { _ = session.ifOpenLocked { _ in libssh2_sftp_close_handle(handle) } }
            var entries: [(name: String, bytes: [UInt8], attributes: FileAttributes)] = []
            var buffer = [CChar](repeating: 0, count: 4096)
            while true {
                var raw = LIBSSH2_SFTP_ATTRIBUTES()
                let n = buffer.withUnsafeMutableBufferPointer {
                    libssh2_sftp_readdir_ex(handle, $0.baseAddress, $0.count, nil, 0, &raw)
                }
                if n == 0 { break }
                if n < 0 { throw failureLocked(Int(n), "list", directory) }
                let bytes = buffer.withUnsafeBufferPointer {
                    [UInt8](UnsafeRawBufferPointer(start: $0.baseAddress, count: Int(n)))
                }
                if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
                let name = String(decoding: bytes, as: UTF8.self)
                guard Array(name.utf8) == bytes else {
                    throw SSHError.undecodableName(directory: directory, bytes: bytes)
                }
                entries.append((name, bytes, FileAttributes(raw)))
            }
            entries.sort { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            return entries.map { ($0.name, $0.attributes) }
        }
    }

    /// Creates the directory `path` with `mode` (the server's umask applies;
    /// use `setMode` for exact bits). Returns false, changing nothing, when a
    /// directory already exists there; anything else in the way throws.
    @discardableResult
    public func makeDirectory(_ path: String, mode: UInt32 = 0o700) throws -> Bool {
        try withSFTP {
            let rc = try self.path(path) { p, length in libssh2_sftp_mkdir_ex(sftp, p, length, Int(mode & 0o7777)) }
            if rc == 0 { return true }
            let error = failureLocked(Int(rc), "mkdir", path)
            if case .sftp = error, try statLocked(path, LIBSSH2_SFTP_LSTAT, "lstat")?.kind == .directory {
                return false
            }
            throw error
        }
    }

    /// Removes the empty directory `path`.
    public func removeDirectory(_ path: String) throws {
        try withSFTP {
            let rc = try self.path(path) { p, length in libssh2_sftp_rmdir_ex(sftp, p, length) }
            if rc != 0 { throw failureLocked(Int(rc), "rmdir", path) }
        }
    }

    // MARK: - Names

    /// Removes the file or symlink `path` (not a directory).
    public func unlink(_ path: String) throws {
        try withSFTP {
            let rc = try self.path(path) { p, length in libssh2_sftp_unlink_ex(sftp, p, length) }
            if rc != 0 { throw failureLocked(Int(rc), "unlink", path) }
        }
    }

    /// Renames `from` to `to` unless something exists at `to`: returns false
    /// and changes nothing in that case.
    ///
    /// Sent without the OVERWRITE flag (`libssh2_sftp_rename_ex`, flags 0),
    /// never through the overwriting `libssh2_sftp_rename` macro. OpenSSH
    /// implements it for a regular file as `link(from, to)` then
    /// `unlink(from)`, so an existing `to` is never replaced, atomically; for
    /// other file types it checks `to` first (a narrow race). When the
    /// server refuses, an `lstat` of `to` decides between false (it exists)
    /// and the server's error.
    public func renameNoReplace(from: String, to: String) throws -> Bool {
        try withSFTP {
            let rc = try path(from) { source, sourceLength in
                try path(to) { target, targetLength in
                    libssh2_sftp_rename_ex(sftp, source, sourceLength, target, targetLength,
                                           Self.noReplaceRenameFlags)
                }
            }
            if rc == 0 { return true }
            let error = failureLocked(Int(rc), "rename to \(to)", from)
            if case .sftp(_, _, let code) = error {
                if code == .fileAlreadyExists { return false }
                if try statLocked(to, LIBSSH2_SFTP_LSTAT, "lstat") != nil { return false }
            }
            throw error
        }
    }

    /// The flags `renameNoReplace` sends: no LIBSSH2_SFTP_RENAME_OVERWRITE
    /// (nor NATIVE, which lets a server overwrite). libssh2 transmits rename
    /// flags only to SFTP version 5+ servers, where 0 means "fail if the
    /// target exists"; OpenSSH (version 3) never receives them.
    static let noReplaceRenameFlags = 0

    /// The canonical absolute form of `path` on the server.
    public func realpath(_ path: String) throws -> String {
        try linkCall(path, LIBSSH2_SFTP_REALPATH, "realpath")
    }

    /// The target of the symbolic link `path`.
    public func readlink(_ path: String) throws -> String {
        try linkCall(path, LIBSSH2_SFTP_READLINK, "readlink")
    }

    // MARK: - Files

    /// Opens the existing file `path` for reading.
    public func openForReading(_ path: String) throws -> SFTPFileReader {
        let handle = try withSFTP(changing: false) {
            let handle = try self.path(path) { p, length in
                libssh2_sftp_open_ex(sftp, p, length, UInt(LIBSSH2_FXF_READ), 0, LIBSSH2_SFTP_OPENFILE)
            }
            guard let handle else { throw openFailureLocked("open", path) }
            return handle
        }
        return SFTPFileReader(file: SFTPOpenFile(client: self, handle: handle, path: path))
    }

    /// Creates the file `path` for writing, failing if anything at all exists
    /// there (CREAT|EXCL|WRITE: not even a dangling symlink is followed).
    /// `mode` is subject to the server's umask; `SFTPFileWriter.setMode`
    /// sets it exactly. An existing path is reported as
    /// `.sftp(operation: "create", path:, code: .fileAlreadyExists)`.
    public func createExclusive(_ path: String, mode: UInt32 = 0o600) throws -> SFTPFileWriter {
        let handle = try withSFTP {
            let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL)
            let handle = try self.path(path) { p, length in
                libssh2_sftp_open_ex(sftp, p, length, flags, Int(mode & 0o7777), LIBSSH2_SFTP_OPENFILE)
            }
            guard let handle else {
                let error = openFailureLocked("create", path)
                if case .sftp = error, try statLocked(path, LIBSSH2_SFTP_LSTAT, "lstat") != nil {
                    throw SSHError.sftp(operation: "create", path: path, code: .fileAlreadyExists)
                }
                throw error
            }
            return handle
        }
        return SFTPFileWriter(file: SFTPOpenFile(client: self, handle: handle, path: path))
    }

    // MARK: - Internals

    /// Runs `body` under the session's lock (the SFTP pointer is valid there).
    func withSFTP<R>(changing: Bool = true, _ body: () throws -> R) throws -> R {
        try session.withSession(changing: changing) { _ in try body() }
    }

    /// Calls `body` with `text` as a C string and its length; refuses NUL bytes.
    private func path<R>(_ text: String, _ body: (UnsafePointer<CChar>, UInt32) throws -> R) throws -> R {
        try Self.checkNoNUL(text)
        return try text.withCString { try body($0, UInt32(text.utf8.count)) }
    }

    static func checkNoNUL(_ text: String) throws {
        if text.utf8.contains(0) { throw SSHError.invalidArgument("a path contains a NUL byte") }
    }

    private func statLocked(_ path: String, _ type: Int32, _ operation: String) throws -> FileAttributes? {
        var raw = LIBSSH2_SFTP_ATTRIBUTES()
        let rc = try self.path(path) { p, length in libssh2_sftp_stat_ex(sftp, p, length, type, &raw) }
        if rc == 0 { return FileAttributes(raw) }
        let error = failureLocked(Int(rc), operation, path)
        if case .sftp(_, _, let code) = error, code == .noSuchFile || code == .noSuchPath { return nil }
        throw error
    }

    private func setstat(_ path: String, _ attributes: inout LIBSSH2_SFTP_ATTRIBUTES, _ operation: String) throws {
        try withSFTP {
            let rc = try self.path(path) { p, length in
                libssh2_sftp_stat_ex(sftp, p, length, LIBSSH2_SFTP_SETSTAT, &attributes)
            }
            if rc != 0 { throw failureLocked(Int(rc), operation, path) }
        }
    }

    private func linkCall(_ path: String, _ type: Int32, _ operation: String) throws -> String {
        try withSFTP(changing: false) {
            var buffer = [CChar](repeating: 0, count: 4097)
            let n = try self.path(path) { p, length in
                buffer.withUnsafeMutableBufferPointer {
                    libssh2_sftp_symlink_ex(sftp, p, length, $0.baseAddress, UInt32($0.count - 1), type)
                }
            }
            if n < 0 { throw failureLocked(Int(n), operation, path) }
            return buffer.withUnsafeBufferPointer {
                String(decoding: UnsafeRawBufferPointer(start: $0.baseAddress, count: Int(n)), as: UTF8.self)
            }
        }
    }

    static func timeAttributes(atime: Int64, mtime: Int64) throws -> LIBSSH2_SFTP_ATTRIBUTES {
        let range: ClosedRange<Int64> = 0...Int64(UInt32.max)
        guard range.contains(atime), range.contains(mtime) else {
            throw SSHError.invalidArgument("SFTP version 3 carries times from 1970 to 2106 only "
                                           + "(got atime \(atime), mtime \(mtime))")
        }
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_ACMODTIME)
        attributes.atime = UInt(atime)
        attributes.mtime = UInt(mtime)
        return attributes
    }

    /// The error for a failed call returning `rc`: the server's SFTP status
    /// when there is one, else the session's error. Under the lock.
    func failureLocked(_ rc: Int, _ operation: String, _ path: String) -> SSHError {
        if rc == Int(LIBSSH2_ERROR_SFTP_PROTOCOL) {
            return .sftp(operation: operation, path: path, code: SFTPStatus(code: libssh2_sftp_last_error(sftp)))
        }
        return session.failureLocked(rc, "sftp \(operation) \(path)")
    }

    /// The error after an open returned NULL. Under the lock.
    private func openFailureLocked(_ operation: String, _ path: String) -> SSHError {
        session.ifOpenLocked { handle in failureLocked(Int(libssh2_session_last_errno(handle)), operation, path) }
            ?? .connectionLost(host: session.endpoint.host, port: session.endpoint.port, reason: "session closed")
    }
}

/// One open SFTP file handle; closed in `deinit` if still open.
final class SFTPOpenFile {
    let client: SFTPClient
    let path: String
    private(set) var handle: OpaquePointer?

    init(client: SFTPClient, handle: OpaquePointer, path: String) {
        self.client = client
        self.handle = handle
        self.path = path
    }

    deinit {
        if let handle { client.session.ifOpen { _ in _ = libssh2_sftp_close_handle(handle) } }
    }

    /// Runs `body` with the open handle, under the session lock.
    func with<R>(_ operation: String, changing: Bool = true, _ body: (OpaquePointer) throws -> R) throws -> R {
        try client.withSFTP(changing: changing) {
            guard let handle else {
                throw SSHError.invalidArgument("sftp \(operation) \(path): the file is already closed")
            }
            return try body(handle)
        }
    }

    func fstat() throws -> FileAttributes {
        try with("fstat", changing: false) { handle in
            var raw = LIBSSH2_SFTP_ATTRIBUTES()
            let rc = libssh2_sftp_fstat_ex(handle, &raw, 0)
            if rc != 0 { throw client.failureLocked(Int(rc), "fstat", path) }
            return FileAttributes(raw)
        }
    }

    func fsetstat(_ attributes: LIBSSH2_SFTP_ATTRIBUTES, _ operation: String) throws {
        try with(operation) { handle in
            var attributes = attributes
            let rc = libssh2_sftp_fstat_ex(handle, &attributes, 1)
            if rc != 0 { throw client.failureLocked(Int(rc), operation, path) }
        }
    }

    func close() throws {
        try client.withSFTP {
            guard let handle else { return }
            self.handle = nil
            let rc = libssh2_sftp_close_handle(handle)
            if rc != 0 { throw client.failureLocked(Int(rc), "close", path) }
        }
    }
}

/// A remote file open for reading (`SFTPClient.openForReading`).
/// Closed by `close()` or when released.
public final class SFTPFileReader: @unchecked Sendable {
    // @unchecked Sendable: all state is used under the session's lock.
    private let file: SFTPOpenFile
    private var buffer: [CChar] = []

    init(file: SFTPOpenFile) { self.file = file }

    /// The remote path.
    public var path: String { file.path }

    /// Up to `max` bytes (at least 1 unless at end of file, where it returns
    /// an empty array). libssh2 keeps read requests in flight ahead of the
    /// position, so successive large reads stream at full speed.
    public func read(max: Int = 256 * 1024) throws -> [UInt8] {
        precondition(max > 0, "read(max:) needs a positive size")
        return try file.with("read", changing: false) { handle in
            if buffer.count < max { buffer = [CChar](repeating: 0, count: max) }
            let n = buffer.withUnsafeMutableBufferPointer { libssh2_sftp_read(handle, $0.baseAddress, max) }
            if n < 0 { throw file.client.failureLocked(n, "read", file.path) }
            return buffer.withUnsafeBufferPointer {
                [UInt8](UnsafeRawBufferPointer(start: $0.baseAddress, count: n))
            }
        }
    }

    /// Reads from the current position to the end of the file.
    public func readAll() throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try read(max: 1 << 20)
            if chunk.isEmpty { return all }
            all.append(contentsOf: chunk)
        }
    }

    /// The attributes of the open file.
    public func fstat() throws -> FileAttributes { try file.fstat() }

    /// Closes the handle (again: no effect).
    public func close() throws { try file.close() }
}

/// A remote file created by `SFTPClient.createExclusive`, open for writing.
/// Closed by `close()` (which reports errors) or when released.
public final class SFTPFileWriter: @unchecked Sendable {
    // @unchecked Sendable: all state is used under the session's lock.
    private let file: SFTPOpenFile

    init(file: SFTPOpenFile) { self.file = file }

    /// The remote path.
    public var path: String { file.path }

    /// Appends all of `bytes` at the current position; returns when the
    /// server has acknowledged them all. libssh2 sends up to 2 MiB ahead in
    /// 32 KiB requests, so pass large buffers for throughput.
    public func write(_ bytes: [UInt8]) throws {
        try file.with("write") { handle in
            try bytes.withUnsafeBufferPointer { all in
                guard let base = all.baseAddress else { return }
                var offset = 0
                while offset < all.count {
                    let count = min(all.count - offset, 2 << 20)
                    let n = base.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: count) {
                        libssh2_sftp_write(handle, $0, count)
                    }
                    if n < 0 { throw file.client.failureLocked(n, "write", file.path) }
                    offset += n
                }
            }
        }
    }

    /// Sets access and modification times (do it after the last write:
    /// writing changes mtime).
    public func setTimes(atime: Int64, mtime: Int64) throws {
        try file.fsetstat(SFTPClient.timeAttributes(atime: atime, mtime: mtime), "set times")
    }

    /// Sets the permission bits exactly (no umask applies).
    public func setMode(_ mode: UInt32) throws {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
        attributes.permissions = UInt(mode & 0o7777)
        try file.fsetstat(attributes, "set mode")
    }

    /// Sets the permission bits and the access and modification times in
    /// one request (after the last write).
    public func setModeAndTimes(_ mode: UInt32, atime: Int64, mtime: Int64) throws {
        var attributes = try SFTPClient.timeAttributes(atime: atime, mtime: mtime)
        attributes.flags |= UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
        attributes.permissions = UInt(mode & 0o7777)
        try file.fsetstat(attributes, "set mode and times")
    }

    /// Sets owner and group (needs privileges on the server).
    public func setOwner(uid: UInt32, gid: UInt32) throws {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_UIDGID)
        attributes.uid = UInt(uid)
        attributes.gid = UInt(gid)
        try file.fsetstat(attributes, "set owner")
    }

    /// The attributes of the open file.
    public func fstat() throws -> FileAttributes { try file.fstat() }

    /// Asks the server to flush the file to disk (`fsync@openssh.com`).
    /// A server without that extension fails with
    /// `.sftp(operation: "fsync", path:, code: .operationUnsupported)`.
    public func fsync() throws {
        try file.with("fsync") { handle in
            let rc = libssh2_sftp_fsync(handle)
            if rc != 0 { throw file.client.failureLocked(Int(rc), "fsync", file.path) }
        }
    }

    /// Closes the handle, reporting the server's answer (again: no effect).
    public func close() throws { try file.close() }
}
