import RelevoStore

/// One member of a tar archive.
struct TarEntry: Equatable {
    enum Kind: Equatable {
        case regular
        /// Any other type (link, symlink, directory, device, FIFO...), by
        /// its type flag: never turned into a file.
        case other(UInt8)
    }

    var path: String
    var kind: Kind
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var mtime: FileTime
    var atime: FileTime?
    var data: [UInt8]
}

/// Reads the tar stream GNU tar writes with `--format=posix` (ustar
/// headers, pax extended headers for long names, large sizes and times to
/// the nanosecond). Only what Relevo asks tar to write is understood;
/// anything else is an error, never a guess: a bad checksum, a truncated
/// member, a number that is not octal, a global header.
enum TarReader {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func entries(_ bytes: [UInt8]) throws -> [TarEntry] {
        var entries: [TarEntry] = []
        var offset = 0
        var extended: [String: String] = [:]
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<(offset + 512)]
            if header.allSatisfy({ $0 == 0 }) { return entries }  // end of archive
            try checkChecksum(header, at: offset)
            let typeflag = header[header.startIndex + 156]
            let size = try extended["size"].map { try decimal($0, "size") } ?? octal(header, 124, 12, "size")
            let dataStart = offset + 512
            guard size <= UInt64(bytes.count - dataStart) else {
                throw Malformed(description: "a member at byte \(offset) is cut short")
            }
            let data = Array(bytes[dataStart..<(dataStart + Int(size))])
            offset = dataStart + (Int(size) + 511) / 512 * 512
            switch typeflag {
            case UInt8(ascii: "x"):
                extended = try records(data)
                continue
            case UInt8(ascii: "g"):
                throw Malformed(description: "a global pax header (not written by the command Relevo runs)")
            default:
                break
            }
            let name = text(header, 0, 100)
            let prefix = text(header, 345, 155)
            let path = extended["path"] ?? (prefix.isEmpty ? name : prefix + "/" + name)
            let mtime = try extended["mtime"].map { try time($0) } ?? FileTime(seconds: Int64(octal(header, 136, 12, "mtime")))
            entries.append(TarEntry(
                path: path,
                kind: typeflag == UInt8(ascii: "0") || typeflag == 0 ? .regular : .other(typeflag),
                mode: UInt32(truncatingIfNeeded: try octal(header, 100, 8, "mode")),
                uid: UInt32(truncatingIfNeeded: try octal(header, 108, 8, "uid")),
                gid: UInt32(truncatingIfNeeded: try octal(header, 116, 8, "gid")),
                mtime: mtime, atime: try extended["atime"].map { try time($0) }, data: data))
            extended = [:]
        }
        throw Malformed(description: "the archive ends without its end marker")
    }

    /// The header checksum: the sum of its bytes with the checksum field as spaces.
    static func checkChecksum(_ header: ArraySlice<UInt8>, at offset: Int) throws {
        let stored = try octal(header, 148, 8, "checksum")
        var sum: UInt64 = 0
        for (i, byte) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : UInt64(byte) }
        guard sum == stored else { throw Malformed(description: "bad header checksum at byte \(offset)") }
    }

    /// A NUL- or space-terminated octal field.
    static func octal(_ header: ArraySlice<UInt8>, _ start: Int, _ length: Int, _ what: String) throws -> UInt64 {
        let field = header.dropFirst(start).prefix(length)
        var value: UInt64 = 0
        var digits = 0
        for byte in field {
            if byte == 0 || byte == 32 { if digits > 0 { break } else { continue } }
            guard (48...55).contains(byte) else { throw Malformed(description: "the \(what) field is not octal") }
            value = value * 8 + UInt64(byte - 48)
            digits += 1
        }
        return value
    }

    static func text(_ header: ArraySlice<UInt8>, _ start: Int, _ length: Int) -> String {
        String(decoding: header.dropFirst(start).prefix(length).prefix { $0 != 0 }, as: UTF8.self)
    }

    /// pax records: "LENGTH KEY=VALUE\n", LENGTH counting the whole record.
    static func records(_ data: [UInt8]) throws -> [String: String] {
        var result: [String: String] = [:]
        var i = 0
        while i < data.count {
            guard let space = data[i...].firstIndex(of: 32),
                  let length = Int(String(decoding: data[i..<space], as: UTF8.self)), length > 0,
                  i + length <= data.count, data[i + length - 1] == 10,
                  let equals = data[(space + 1)..<(i + length)].firstIndex(of: UInt8(ascii: "=")) else {
                throw Malformed(description: "a malformed pax record")
            }
            let key = String(decoding: data[(space + 1)..<equals], as: UTF8.self)
            let value = data[(equals + 1)..<(i + length - 1)]
            guard let text = String(validating: value, as: UTF8.self) else {
                throw Malformed(description: "a pax '\(key)' that is not UTF-8")
            }
            result[key] = text
            i += length
        }
        return result
    }

    static func decimal(_ text: String, _ what: String) throws -> UInt64 {
        guard let value = UInt64(text) else { throw Malformed(description: "the pax \(what) '\(text)' is not a number") }
        return value
    }

    /// "SECONDS[.FRACTION]" to a `FileTime`.
    static func time(_ text: String) throws -> FileTime {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0]) else { throw Malformed(description: "the pax time '\(text)' is not a number") }
        var nanoseconds: Int32 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int32(digits) else {
                throw Malformed(description: "the pax time '\(text)' is not a number")
            }
            nanoseconds = n * Int32(pow10(9 - digits.count))
        }
        return FileTime(seconds: seconds, nanoseconds: nanoseconds)
    }

    private static func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { r, _ in r * 10 } }
}

/// Writes the tar stream the hosts' GNU tar extracts: regular files (and,
/// for a whole tree staged at once, directories), named by the caller
/// (Relevo names them `0`, `1`, ... in a fresh staging folder, or
/// `0/cur/NAME` for a tree), with their permission bits and, in a pax
/// header, their modification and access times to the nanosecond (and the
/// path, when it does not fit the header's 100-byte name field).
enum TarWriter {
    struct File {
        var name: String
        var mode: UInt32
        var mtime: FileTime
        var atime: FileTime
        var bytes: [UInt8]
        /// A directory (no bytes) instead of a regular file.
        var isDirectory = false
    }

    static func archive(_ files: [File]) -> [UInt8] {
        var out: [UInt8] = []
        // Each file: a pax header and its records, a header, the data; then two blocks.
        out.reserveCapacity(files.reduce(1024) { $0 + 3 * 512 + ($1.bytes.count + 511) / 512 * 512 })
        for file in files {
            var records = record("mtime", time(file.mtime)) + record("atime", time(file.atime))
            // ustar's name field holds 100 bytes, NUL-terminated when shorter.
            let fits = file.name.utf8.count < 100 && file.name.utf8.allSatisfy { $0 < 0x80 }
            if !fits { records += record("path", file.name) }
            let shortName = fits ? file.name : "relevo-long-name"
            append(header(name: "PaxHeaders/entry", mode: 0o644, size: records.count,
                          mtime: file.mtime.seconds, type: UInt8(ascii: "x")), records, to: &out)
            append(header(name: shortName, mode: file.mode & 0o7777, size: file.isDirectory ? 0 : file.bytes.count,
                          mtime: file.mtime.seconds, type: UInt8(ascii: file.isDirectory ? "5" : "0")),
                   file.isDirectory ? [] : file.bytes, to: &out)
        }
        out.append(contentsOf: repeatElement(0, count: 1024))
        return out
    }

    private static func append(_ header: [UInt8], _ data: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: header)
        out.append(contentsOf: data)
        out.append(contentsOf: repeatElement(0, count: (512 - data.count % 512) % 512))
    }

    /// A ustar header (names here are short: no prefix field needed).
    private static func header(name: String, mode: UInt32, size: Int, mtime: Int64, type: UInt8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            var i = offset
            for byte in text.utf8 {
                h[i] = byte
                i += 1
            }
        }
        // `width - 1` octal digits, zero-padded (this runs twice a file).
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            var digits = 1
            while value >> (3 * UInt64(digits)) != 0 && digits < 22 { digits += 1 }
            var rest = value
            for i in stride(from: offset + max(width - 1, digits) - 1, through: offset, by: -1) {
                h[i] = UInt8(ascii: "0") + UInt8(rest & 7)
                rest >>= 3
            }
        }
        put(name, at: 0)
        octal(UInt64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(UInt64(size), at: 124, width: 12)
        octal(UInt64(max(0, mtime)), at: 136, width: 12)
        h[156] = type
        put("ustar", at: 257)
        put("00", at: 263)
        for i in 148..<156 { h[i] = 32 }
        let sum = h.reduce(0) { $0 + UInt64($1) }
        octal(sum, at: 148, width: 7)   // six digits, NUL, space
        h[154] = 0
        h[155] = 32
        return h
    }

    /// "LENGTH key=value\n", LENGTH counting itself.
    private static func record(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length { length += 1 }
        return Array((String(length) + body).utf8)
    }

    private static func time(_ t: FileTime) -> String {
        let ns = String(t.nanoseconds)
        return "\(t.seconds)." + String(repeating: "0", count: 9 - ns.count) + ns
    }
}
