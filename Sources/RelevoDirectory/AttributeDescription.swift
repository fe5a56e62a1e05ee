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
        let ascii = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in asciiSameName(x, y) }
        }
        if let ascii, let ascii, let same = ascii { return same }
        return a.count == b.count && a.lowercased() == b.lowercased()
    }

    /// `sameName` of two names' bytes, or nil when a byte that is not
    /// ASCII is met before the answer is known.
    private static func asciiSameName(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool? {
        let shorter = min(x.count, y.count)
        var i = 0
        while i < shorter {
            let (p, q) = (x[i], y[i])
            if p >= 0x80 || q >= 0x80 { return nil }
            if p != q && !(isAlpha(p) && p | 0x20 == q | 0x20) { return false }
            i += 1
        }
        if x.count == y.count { return true }
        // One goes on: a different name if it goes on in ASCII.
        let next = x.count > shorter ? x[shorter] : y[shorter]
        return next < 0x80 ? false : nil
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
