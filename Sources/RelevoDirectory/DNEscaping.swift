extension DistinguishedName {
    /// Escapes an attribute value for use in a DN string (RFC 4514 section 2.4),
    /// so that `"uid=" + escape(value: v) + ",dc=example"` names exactly `v`.
    ///
    /// - `\` before `"` `+` `,` `;` `<` `>` `\` and `=` (RFC 4514 requires
    ///   all but `=`; escaping `=` too keeps older parsers safe);
    /// - `\#` for a leading `#`, `\ ` for a leading or trailing space;
    /// - NUL as `\00`, and C0 controls, DEL and C1 controls as hex pairs of
    ///   their UTF-8 bytes (`\0A`, `\C2\85`);
    /// - every other character, including non-ASCII letters, unchanged.
    public static func escape(value: String) -> String {
        needsNoEscape(value) ? value : escapeScalars(value)
    }

    /// `escape(value:)` scalar by scalar, whatever the value.
    static func escapeScalars(_ value: String) -> String {
        let scalars = Array(value.unicodeScalars)
        var out = ""
        out.reserveCapacity(scalars.count)
        for (index, c) in scalars.enumerated() {
            let v = c.value
            if v < 0x20 || v == 0x7F || (v >= 0x80 && v <= 0x9F) {
                for byte in String(c).utf8 { out += "\\" + hexPair(byte) }
                continue
            }
            switch c {
            case "\"", "+", ",", ";", "<", ">", "\\", "=":
                out += "\\"
                out.unicodeScalars.append(c)
            case "#" where index == 0:
                out += "\\#"
            case " " where index == 0 || index == scalars.count - 1:
                out += "\\ "
            default:
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// True when `escape(value:)` would return `value` unchanged: printable
    /// ASCII without the characters escaped, neither starting with `#` nor
    /// starting or ending with a space (non-ASCII text is left to `escape`).
    static func needsNoEscape(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard let first = utf8.first, let last = utf8.last else { return true }
        if first == UInt8(ascii: "#") || first == 0x20 || last == 0x20 { return false }
        for byte in utf8 {
            guard byte >= 0x20 && byte < 0x7F else { return false }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
                 UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\\"), UInt8(ascii: "="):
                return false
            default:
                continue
            }
        }
        return true
    }

    static func hexPair(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        var s = String.UnicodeScalarView()
        s.append(digits[Int(byte >> 4)])
        s.append(digits[Int(byte & 0x0F)])
        return String(s)
    }
}
