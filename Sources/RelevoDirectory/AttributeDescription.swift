/// An attribute description (RFC 4512 section 2.5): a type plus options,
/// such as `cn`, `CN;lang-en` or `2.5.4.3;binary`.
///
/// Types and options are case-insensitive. A description with options is a
/// subtype of the one without: a filter on `cn` sees `cn;lang-en` values,
/// a filter on `cn;lang-en` does not see plain `cn` values.
public struct AttributeDescription: Hashable, Sendable, CustomStringConvertible {
    /// The attribute type, lower-cased (`cn`, `objectclass`, `2.5.4.3`).
    public let type: String
    /// The options, lower-cased (`lang-en`, `binary`).
    public let options: Set<String>
    /// The description as written.
    public let text: String

    /// Parses `text`, or nil when it is not a valid attribute description:
    /// `descr` (a letter, then letters, digits and hyphens) or a numeric OID
    /// (`1.2.3`), then `;option` parts made of letters, digits and hyphens.
    public init?(_ text: String) {
        guard Self.isValid(Array(text.utf8)) else { return nil }
        let parts = text.lowercased().split(separator: ";", omittingEmptySubsequences: false)
        self.type = String(parts[0])
        self.options = Set(parts.dropFirst().map(String.init))
        self.text = text
    }

    public var description: String { text }

    /// True when an attribute named `self` in an entry is seen by a request
    /// for `requested`: same type, and every requested option present.
    public func isSubtype(of requested: AttributeDescription) -> Bool {
        type == requested.type && requested.options.isSubset(of: options)
    }

    /// True when both name the same attribute exactly (type and options),
    /// ignoring case.
    public static func sameName(_ a: String, _ b: String) -> Bool {
        // ASCII names (every valid one) compared byte by byte, ignoring
        // the case of letters: what the Unicode comparison below gives them.
        // Most names compared differ in length or first letter: told at once.
        let (au, bu) = (a.utf8, b.utf8)
        if let p = au.first, let q = bu.first, p < 0x80, q < 0x80, p | 0x20 != q | 0x20 { return false }
        if au.count != bu.count && au.allSatisfy({ $0 < 0x80 }) && bu.allSatisfy({ $0 < 0x80 }) { return false }
        var x = au.makeIterator(), y = bu.makeIterator()
        while true {
            switch (x.next(), y.next()) {
            case (nil, nil):
                return true
            case let (p?, q?) where p < 0x80 && q < 0x80:
                if p != q && (p | 0x20 != q | 0x20 || !isAlpha(p) || !isAlpha(q)) { return false }
            case let (p, q) where (p ?? 0) < 0x80 && (q ?? 0) < 0x80:
                return false  // one ended, the other is longer and ASCII so far
            default:
                return a.count == b.count && a.lowercased() == b.lowercased()
            }
        }
    }

    static func isAlpha(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isKeyChar(_ b: UInt8) -> Bool { isAlpha(b) || isDigit(b) || b == UInt8(ascii: "-") }

    /// Validates the grammar of an attribute description given as bytes.
    /// Returns the offset of the first offending byte, or nil when valid.
    static func firstInvalidOffset<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8, C.Index == Int {
        if let offset = bytes.withContiguousStorageIfAvailable({ firstInvalidOffset(buffer: $0) }) { return offset }
        return Array(bytes).withUnsafeBufferPointer { firstInvalidOffset(buffer: $0) }
    }

    /// Whether `name` is a valid attribute description (what `init?` checks).
    static func isValid(_ name: String) -> Bool {
        var name = name
        name.makeContiguousUTF8()
        return name.utf8.withContiguousStorageIfAvailable { firstInvalidOffset(buffer: $0) == nil }
            ?? isValid(Array(name.utf8))
    }

    private static func firstInvalidOffset(buffer b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = b.first else { return 0 }
        var i = 0
        if isAlpha(first) {
            while i < b.count, isKeyChar(b[i]) { i += 1 }
        } else if isDigit(first) {
            // numericoid = number 1*( DOT number )
            var dots = 0
            while i < b.count, isDigit(b[i]) { i += 1 }
            while i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                guard i < b.count, isDigit(b[i]) else { return i }
                while i < b.count, isDigit(b[i]) { i += 1 }
                dots += 1
            }
            if dots == 0 { return i }
        } else {
            return 0
        }
        while i < b.count {
            guard b[i] == UInt8(ascii: ";") else { return i }
            i += 1
            guard i < b.count, isKeyChar(b[i]) else { return i }
            while i < b.count, isKeyChar(b[i]) { i += 1 }
        }
        return nil
    }

    static func isValid(_ bytes: [UInt8]) -> Bool { firstInvalidOffset(bytes) == nil }
}
