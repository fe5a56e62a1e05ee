/// JSON string literals (RFC 8259), shared by every JSON Relevo writes (the
/// graph export, the CLI's reports): quote, backslash and control
/// characters escaped; everything else, including non-ASCII, as is.
public enum JSONString {
    public static func quoted(_ s: String) -> String {
        // Only ASCII needs escaping (a byte of a longer UTF-8 sequence is
        // never below 0x80): a string without any is quoted as it is.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) {
            return "\"" + s + "\""
        }
        // Byte by byte: every escape is of an ASCII byte, the rest is copied.
        var out: [UInt8] = [0x22]
        out.reserveCapacity(s.utf8.count + 8)
        let hex = Array("0123456789abcdef".utf8)
        for byte in s.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0..<0x20, 0x7F:
                out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    /// `s` quoted as Foundation's `JSONEncoder` quotes it (`/` written
    /// `\/`), or nil when `s` holds a character whose escape is left to
    /// `JSONEncoder` itself (a control character, DEL, `"` or `\`): for
    /// journal rows that must stay what `JSONEncoder` wrote, without its cost.
    public static func encoderQuoted(_ s: String) -> String? {
        var slashes = 0
        for byte in s.utf8 {
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F { return nil }
            if byte == 0x2F { slashes += 1 }
        }
        if slashes == 0 { return "\"" + s + "\"" }
        var out: [UInt8] = [0x22]
        out.reserveCapacity(s.utf8.count + slashes + 2)
        for byte in s.utf8 {
            if byte == 0x2F { out.append(0x5C) }
            out.append(byte)
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    /// `JSONEncoder`'s text of an array of strings, or nil when one of them
    /// is not `encoderQuoted`.
    public static func encoderArray(_ values: [String]) -> String? {
        var out = "["
        for (i, value) in values.enumerated() {
            guard let quoted = encoderQuoted(value) else { return nil }
            if i > 0 { out += "," }
            out += quoted
        }
        return out + "]"
    }

    /// A JSON object of strings with its keys in ascending order, on one
    /// line: what `JSONEncoder` with `.sortedKeys` writes for a
    /// `[String: String]`, without its cost (journal rows write one per step).
    public static func object(_ values: [String: String]) -> String {
        if values.isEmpty { return "{}" }
        var out = "{"
        for key in values.keys.sorted() {
            if out.utf8.count > 1 { out += "," }
            out += quoted(key)
            out += ":"
            out += quoted(values[key]!)
        }
        return out + "}"
    }
}
