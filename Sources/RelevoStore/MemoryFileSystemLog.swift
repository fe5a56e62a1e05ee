import Glibc

extension MemoryFileSystem {
    /// One change to the tree, as its log records it (paths absolute).
    enum Change: Equatable {
        case make(String, EntryKind, UInt32, UInt32, UInt32, FileTime)
        case append(String, [UInt8], FileTime)
        case mode(String, UInt32)
        case times(String, FileTime, FileTime)
        case owner(String, UInt32, UInt32)
        case move(String, String)
        case remove(String)
        case target(String, String)
    }

    /// The append-only file of a `MemoryFileSystem`'s changes. A record is
    /// its length (4 bytes, little-endian), then a tag and the fields; it is
    /// written with one `write`, so a process killed while writing leaves at
    /// most the last record short, which `read` leaves out.
    ///
    /// Buffered (`buffered`): records are gathered in memory and written
    /// when `flush` is called or the buffer passes `bufferLimit` bytes,
    /// whole records at a time; `length` counts what is written and what is
    /// buffered, so it always ends on a record. The owner of a buffered log
    /// (a dry run: see `MemoryFileSystem.flushLog`) records `length` after
    /// each `flush` and replays no more than that (`read(_:upTo:)`).
    struct ChangeLog {
        let fd: Int32
        let path: String
        /// Bytes of whole records: written, then buffered.
        private(set) var length: Int
        var buffered = false
        private var buffer: [UInt8] = []
        static let bufferLimit = 1 << 20

        struct Corrupt: Error, CustomStringConvertible {
            var description: String
        }

        static func corrupt(_ what: String) -> Corrupt { Corrupt(description: "memory file system log: \(what)") }

        /// Opens `path` for appending, cut to its first `valid` bytes.
        init(path: String, truncatingTo valid: Int) throws {
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw StoreError.io(path: path, operation: "open", errno: errno) }
            guard ftruncate(fd, off_t(valid)) == 0, lseek(fd, off_t(valid), SEEK_SET) >= 0 else {
                let code = errno
                Glibc.close(fd)
                throw StoreError.io(path: path, operation: "truncate", errno: code)
            }
            self.fd = fd
            self.path = path
            length = valid
        }

        /// The complete records of `path` (none when it does not exist),
        /// and how many bytes they fill; with `limit`, only the records in
        /// its first `limit` bytes (a committed length: a record that
        /// crosses it is corrupt, since a committed length ends a record).
        static func read(_ path: String, upTo limit: Int? = nil) throws -> (records: [Change], valid: Int) {
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT {
                    if let limit, limit > 0 { throw corrupt("\(path) is missing, \(limit) bytes were committed") }
                    return ([], 0)
                }
                throw StoreError.io(path: path, operation: "open", errno: errno)
            }
            var bytes: [UInt8] = []
            defer { Glibc.close(fd) }
            try readChunks(fd: fd, path: path) { bytes.append(contentsOf: $0) }
            if let limit {
                guard limit <= bytes.count else { throw corrupt("\(path) holds \(bytes.count) bytes, \(limit) were committed") }
                bytes.removeSubrange(limit...)
            }
            var records: [Change] = []
            var offset = 0
            while offset + 4 <= bytes.count {
                let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
                    | Int(bytes[offset + 3]) << 24
                guard offset + 4 + length <= bytes.count else { break }
                var reader = Reader(bytes: bytes[(offset + 4)..<(offset + 4 + length)])
                records.append(try reader.change())
                offset += 4 + length
            }
            if let limit, offset != limit { throw corrupt("a record crosses the committed length \(limit) of \(path)") }
            return (records, offset)
        }

        /// The record of `change`: its length, then its body.
        static func record(_ change: Change) -> [UInt8] {
            var writer = Writer()
            writer.bytes = [0, 0, 0, 0]
            writer.put(change)
            let count = writer.bytes.count - 4
            writer.bytes[0] = UInt8(count & 0xff)
            writer.bytes[1] = UInt8(count >> 8 & 0xff)
            writer.bytes[2] = UInt8(count >> 16 & 0xff)
            writer.bytes[3] = UInt8(count >> 24 & 0xff)
            return writer.bytes
        }

        mutating func append(_ change: Change) throws {
            let record = Self.record(change)
            if buffered {
                buffer.append(contentsOf: record)
                length += record.count
                if buffer.count >= Self.bufferLimit { try flush() }
            } else {
                try record.withUnsafeBytes { try writeAll(fd: fd, path: path, $0) }
                length += record.count
            }
        }

        /// Writes what is buffered (whole records); the file then holds
        /// `length` bytes.
        mutating func flush() throws {
            guard !buffer.isEmpty else { return }
            try buffer.withUnsafeBytes { try writeAll(fd: fd, path: path, $0) }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func u8(_ v: UInt8) { bytes.append(v) }
        mutating func u32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(v >> UInt32(shift) & 0xff)) } }
        mutating func u64(_ v: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(v >> UInt64(shift) & 0xff)) } }
        mutating func data(_ v: [UInt8]) { u32(UInt32(v.count)); bytes.append(contentsOf: v) }
        mutating func text(_ v: String) { data(Array(v.utf8)) }
        mutating func time(_ v: FileTime) { u64(UInt64(bitPattern: v.seconds)); u32(UInt32(bitPattern: v.nanoseconds)) }

        mutating func put(_ change: Change) {
            switch change {
            case .make(let path, let kind, let mode, let uid, let gid, let time):
                u8(1); text(path); text(kind.rawValue); u32(mode); u32(uid); u32(gid); self.time(time)
            case .append(let path, let data, let time): u8(2); text(path); self.data(data); self.time(time)
            case .mode(let path, let mode): u8(3); text(path); u32(mode)
            case .times(let path, let access, let modification): u8(4); text(path); time(access); time(modification)
            case .owner(let path, let uid, let gid): u8(5); text(path); u32(uid); u32(gid)
            case .move(let from, let to): u8(6); text(from); text(to)
            case .remove(let path): u8(7); text(path)
            case .target(let path, let target): u8(8); text(path); text(target)
            }
        }
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>

        mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard bytes.count >= count else { throw ChangeLog.corrupt("a record ends early") }
            defer { bytes = bytes.dropFirst(count) }
            return bytes.prefix(count)
        }
        mutating func u8() throws -> UInt8 { try take(1).first! }
        mutating func u32() throws -> UInt32 {
            try take(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        mutating func u64() throws -> UInt64 {
            try take(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        mutating func data() throws -> [UInt8] { Array(try take(Int(try u32()))) }
        mutating func text() throws -> String {
            guard let text = String(validating: try data(), as: UTF8.self) else { throw ChangeLog.corrupt("a name is not UTF-8") }
            return text
        }
        mutating func time() throws -> FileTime {
            FileTime(seconds: Int64(bitPattern: try u64()), nanoseconds: Int32(bitPattern: try u32()))
        }

        mutating func change() throws -> Change {
            switch try u8() {
            case 1:
                let path = try text()
                guard let kind = EntryKind(rawValue: try text()) else { throw ChangeLog.corrupt("unknown kind") }
                return .make(path, kind, try u32(), try u32(), try u32(), try time())
            case 2: return .append(try text(), try data(), try time())
            case 3: return .mode(try text(), try u32())
            case 4: return .times(try text(), try time(), try time())
            case 5: return .owner(try text(), try u32(), try u32())
            case 6: return .move(try text(), try text())
            case 7: return .remove(try text())
            case 8: return .target(try text(), try text())
            case let tag: throw ChangeLog.corrupt("unknown record \(tag)")
            }
        }
    }
}
