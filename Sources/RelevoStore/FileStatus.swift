import Glibc
import RelevoBasics

/// A file timestamp with nanosecond precision (`struct timespec`).
public struct FileTime: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    init(_ spec: timespec) {
        self.init(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    /// The `struct timespec` spelling, for `futimens`.
    var spec: timespec {
        timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
    }

    public static func < (a: FileTime, b: FileTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }
}

/// What `lstat`/`fstat` says about one entry. A file system that cannot
/// tell device, inode or link count (SFTP) gives 0, 0 and 1: then a file
/// replaced between listing and reading is caught by size and mtime only,
/// and hard links are not detected (said in docs/architecture.md).
public struct FileStatus: Hashable, Sendable {
    public var kind: EntryKind
    /// Permission bits (`st_mode & 07777`).
    public var mode: UInt32
    public var size: UInt64
    public var mtime: FileTime
    public var atime: FileTime
    public var linkCount: UInt64
    public var uid: UInt32
    public var gid: UInt32
    public var device: UInt64
    public var inode: UInt64

    public init(kind: EntryKind, mode: UInt32, size: UInt64, mtime: FileTime, atime: FileTime,
                linkCount: UInt64 = 1, uid: UInt32, gid: UInt32, device: UInt64 = 0, inode: UInt64 = 0) {
        self.kind = kind
        self.mode = mode
        self.size = size
        self.mtime = mtime
        self.atime = atime
        self.linkCount = linkCount
        self.uid = uid
        self.gid = gid
        self.device = device
        self.inode = inode
    }

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regularFile
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        default: kind = .unknown
        }
        mode = UInt32(st.st_mode) & 0o7777
        size = UInt64(max(0, st.st_size))
        mtime = FileTime(st.st_mtim)
        atime = FileTime(st.st_atim)
        linkCount = UInt64(st.st_nlink)
        uid = UInt32(st.st_uid)
        gid = UInt32(st.st_gid)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    /// Same file (device and inode)?
    func isSameFile(as other: FileStatus) -> Bool {
        device == other.device && inode == other.inode
    }

    /// `fstat` of an open descriptor; `path` is only for the error message.
    static func of(fd: Int32, path: String) throws -> FileStatus {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw StoreError.io(path: path, operation: "fstat", errno: errno)
        }
        return FileStatus(st)
    }
}

/// Reads `fd` to its end in `SHA256.chunkSize` chunks, retrying on EINTR.
func readChunks(fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: SHA256.chunkSize, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let count = read(fd, buffer.baseAddress, buffer.count)
        if count < 0 {
            if errno == EINTR { continue }
            throw StoreError.io(path: path, operation: "read", errno: errno)
        }
        if count == 0 { return }
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
}

/// Writes all of `bytes` to `fd`, retrying on short writes and EINTR.
func writeAll(fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer) throws {
    if let error = FileDescriptor.writeAll(fd, bytes) { throw StoreError.io(path: path, operation: "write", errno: error) }
}
