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
