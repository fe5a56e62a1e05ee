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
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
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
