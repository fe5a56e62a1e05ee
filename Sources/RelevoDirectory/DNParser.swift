/// The RFC 4514 string parser, over Unicode scalars so offsets are stable.
enum DNParser {
    static func parse(_ string: String) throws(DNError) -> [RelativeDistinguishedName] {
        if let simple = parseSimple(string) { return simple }
        return try parseScalars(string)
    }

    /// `parse` scalar by scalar, whatever the DN.
    static func parseScalars(_ string: String) throws(DNError) -> [RelativeDistinguishedName] {
        var p = Cursor(Array(string.unicodeScalars))
        p.skipSpaces()
        if p.atEnd { return [] }
        var rdns: [RelativeDistinguishedName] = []
        while true {
            rdns.append(try parseRDN(&p))
            p.skipSpaces()
            if p.atEnd { break }
            guard p.peek == "," else {
                throw DNError(offset: p.index, message: "expected ',' or '+' after a value, found '\(p.peek!)'")
            }
            p.index += 1
            p.skipSpaces()
            if p.atEnd { throw DNError(offset: p.index, message: "expected an RDN after ','") }
        }
        return rdns
    }

    /// The RDNs of a DN written plainly (nearly every DN: printable ASCII
    /// without spaces, escapes, quotes, `+`, `;`, `<`, `>` or `#`, each RDN
    /// `type=value` with a valid type), as `parse` reads them, split on the
    /// bytes; nil for any other DN, which `parse` reads scalar by scalar
    /// (and reports the error of, if it has one).
    static func parseSimple(_ string: String) -> [RelativeDistinguishedName]? {
        var string = string
        string.makeContiguousUTF8()
        return string.utf8.withContiguousStorageIfAvailable { bytes -> [RelativeDistinguishedName]? in
            if bytes.isEmpty { return nil }
            for byte in bytes {
                guard byte > 0x20 && byte < 0x7F else { return nil }
                switch byte {
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "+"), UInt8(ascii: ";"),
                     UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "#"):
                    return nil
                default:
                    continue
                }
            }
            var rdns: [RelativeDistinguishedName] = []
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                // type=value: the type up to the first '=', the value after it.
                guard let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")), equals > start else { return nil }
                let type = UnsafeBufferPointer(rebasing: bytes[start..<equals])
                guard type.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || AttributeDescription.isKeyChar($0) }),
                      AttributeDescription.firstInvalidOffset(type) == nil else { return nil }
                let typeText = String(decoding: type, as: UTF8.self)
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<end]), as: UTF8.self)
                rdns.append(RelativeDistinguishedName(unchecked: [AttributeTypeAndValue(unchecked: typeText, value: value)]))
                if end == bytes.count { return rdns }
                start = end + 1
            }
            return nil
        } ?? nil
    }

    static func parseRDN(_ p: inout Cursor) throws(DNError) -> RelativeDistinguishedName {
        var pairs: [AttributeTypeAndValue] = []
        while true {
            pairs.append(try parsePair(&p))
            p.skipSpaces()
            guard p.peek == "+" else { break }
            p.index += 1
            p.skipSpaces()
            if p.atEnd { throw DNError(offset: p.index, message: "expected type=value after '+'") }
        }
        return RelativeDistinguishedName(unchecked: pairs)
    }

    static func parsePair(_ p: inout Cursor) throws(DNError) -> AttributeTypeAndValue {
        let typeStart = p.index
        var type = String.UnicodeScalarView()
        while let c = p.peek, c.isASCII, c == "-" || c == "." || AttributeDescription.isKeyChar(UInt8(c.value)) {
            type.append(c)
            p.index += 1
        }
        let typeText = String(type)
        if typeText.isEmpty {
            throw DNError(offset: typeStart, message: p.atEnd ? "expected an attribute type" : "expected an attribute type, found '\(p.peek!)'")
        }
        if let bad = AttributeDescription.firstInvalidOffset(Array(typeText.utf8)) {
            throw DNError(offset: typeStart + bad, message: "invalid attribute type '\(typeText)'")
        }
        p.skipSpaces()
        guard p.peek == "=" else {
            throw DNError(offset: p.index, message: "expected '=' after attribute type '\(typeText)'")
        }
        p.index += 1
        p.skipSpaces()
        let valueStart = p.index
        if p.peek == "#" {
            throw DNError(offset: valueStart, message: "hex-encoded (BER) values ('#...') are not supported; write the value as a string, escaping a leading '#' as '\\#'")
        }
        var bytes: [UInt8] = []
        var keep = 0 // bytes to keep: drops trailing unescaped spaces
        while let c = p.peek, c != ",", c != "+" {
            switch c {
            case "\\":
                guard let next = p.peek(1) else {
                    throw DNError(offset: p.index, message: "'\\' at the end of the DN escapes nothing")
                }
                if let high = hexValue(next) {
                    guard let lowScalar = p.peek(2), let low = hexValue(lowScalar) else {
                        throw DNError(offset: p.index, message: "invalid escape: '\\' must be followed by a special character or two hexadecimal digits")
                    }
                    bytes.append(high << 4 | low)
                    p.index += 3
                } else if "\"+,;<>\\ #=".unicodeScalars.contains(next) {
                    bytes.append(UInt8(next.value))
                    p.index += 2
                } else {
                    throw DNError(offset: p.index, message: "invalid escape '\\\(next)': only \" + , ; < > \\ space # = or two hexadecimal digits may follow '\\'")
                }
                keep = bytes.count
            case "\"", ";", "<", ">", "\u{0}":
                let shown = c == "\u{0}" ? "NUL" : "'\(c)'"
                throw DNError(offset: p.index, message: "\(shown) must be escaped in a DN value")
            default:
                if c.isASCII {
                    bytes.append(UInt8(c.value))
                } else {
                    bytes.append(contentsOf: String(c).utf8)
                }
                if c != " " { keep = bytes.count }
                p.index += 1
            }
        }
        bytes.removeLast(bytes.count - keep)
        guard let value = UTF8Validation.string(bytes) else {
            throw DNError(offset: valueStart, message: "escaped bytes in the value are not valid UTF-8")
        }
        return AttributeTypeAndValue(unchecked: typeText, value: value)
    }

    static func hexValue(_ c: Unicode.Scalar) -> UInt8? {
        switch c.value {
        case 0x30...0x39: UInt8(c.value - 0x30)
        case 0x41...0x46: UInt8(c.value - 0x41 + 10)
        case 0x61...0x66: UInt8(c.value - 0x61 + 10)
        default: nil
        }
    }

    struct Cursor {
        let scalars: [Unicode.Scalar]
        var index = 0
        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }
        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { peek(0) }
        func peek(_ ahead: Int) -> Unicode.Scalar? {
            index + ahead < scalars.count ? scalars[index + ahead] : nil
        }
        mutating func skipSpaces() { while peek == " " { index += 1 } }
    }
}
