/// The matching rules of the in-memory directory, used by DN comparison,
/// filters, `compare` and duplicate-value detection.
///
/// The directory has no schema, so every attribute gets the same rules,
/// close to LDAP's `caseIgnoreMatch` family (RFC 4517, RFC 4518):
///
/// - **Equality** (`caseIgnoreMatch`-like): values that are valid UTF-8 are
///   compared after Unicode lower-casing and *insignificant space handling*:
///   leading and trailing U+0020 spaces are removed and every run of inner
///   spaces counts as one. Strings compare by canonical equivalence (Swift's
///   `String` equality), so NFC and NFD spellings of a value are equal.
///   A value that is not valid UTF-8 (binary) is equal only to the same bytes.
/// - **Substrings** (`caseIgnoreSubstringsMatch`-like): the same folding;
///   the initial piece ignores its leading spaces, the final piece its
///   trailing spaces, and every piece's inner space runs count as one.
/// - **Ordering** (`>=`, `<=`): when both values are decimal integers
///   (optional `-`, digits only, as `uidNumber` or `mailQuotaSize`) they
///   compare numerically, of any length; otherwise the folded texts compare
///   by Unicode scalar order; binary values compare byte by byte.
/// - **Approximate** (`~=`) is the equality rule.
///
/// Deliberate limits: no attribute type aliases (`cn` is not `commonName`),
/// no case-exact or DN-syntax attributes (a `member` value compares as text),
/// no telephone-number or other syntax-specific rules.
public enum MatchingRules {
    /// The comparison key of a value: folded text, or the raw bytes of a
    /// binary value.
    enum Key: Hashable {
        case text(String)
        case binary([UInt8])
    }

    static func key(_ value: AttributeValue) -> Key {
        if let folded = foldASCII(value.bytes) { return .text(String(decoding: folded, as: UTF8.self)) }
        if let s = value.string { return .text(fold(s)) }
        return .binary(value.bytes)
    }

    /// Lower-cases `s` and applies insignificant space handling: no leading or
    /// trailing spaces, inner runs of spaces become one space.
    public static func fold(_ s: String) -> String {
        var s = s
        s.makeContiguousUTF8()
        // ASCII text (nearly every value) folded byte by byte: the same
        // result as the Unicode path below, without its String building.
        if let ascii = s.utf8.withContiguousStorageIfAvailable({ foldASCII($0) }), let folded = ascii {
            return folded.elementsEqual(s.utf8) ? s : String(decoding: folded, as: UTF8.self)
        }
        return collapseSpaces(s.lowercased(), trimLeading: true, trimTrailing: true)
    }

    /// `fold` of ASCII bytes (A-Z lower-cased, spaces handled as `fold`
    /// does), or nil when a byte is not ASCII.
    static func foldASCII<C: Collection>(_ bytes: C) -> [UInt8]? where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var pendingSpace = false
        for byte in bytes {
            guard byte < 0x80 else { return nil }
            if byte == 0x20 {
                pendingSpace = true
                continue
            }
            if pendingSpace && !out.isEmpty { out.append(0x20) }
            pendingSpace = false
            out.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
        }
        return out
    }

    static func isASCII(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { $0 < 0x80 }
    }

    /// `foldASCII(a) == foldASCII(b)` for ASCII bytes, without making either.
    static func foldedASCIIEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var x = FoldedASCII(a), y = FoldedASCII(b)
        while true {
            let p = x.next(), q = y.next()
            if p != q { return false }
            if p == nil { return true }
        }
    }

    /// The bytes of `foldASCII` one at a time.
    struct FoldedASCII: IteratorProtocol {
        let bytes: [UInt8]
        var index = 0
        var pendingSpace = false
        var seenText = false

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func next() -> UInt8? {
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x20 {
                    pendingSpace = true
                    index += 1
                    continue
                }
                if pendingSpace && seenText {
                    pendingSpace = false
                    return 0x20
                }
                pendingSpace = false
                seenText = true
                index += 1
                return byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
            }
            return nil
        }
    }

    static func collapseSpaces(_ s: String, trimLeading: Bool, trimTrailing: Bool) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        var seenText = false
        for c in s.unicodeScalars {
            if c == " " {
                pendingSpace = true
                continue
            }
            if pendingSpace && (seenText || !trimLeading) { out.append(" ") }
            pendingSpace = false
            seenText = true
            out.append(c)
        }
        if pendingSpace && !trimTrailing && (seenText || !trimLeading) { out.append(" ") }
        return String(out)
    }

    /// Equality under the directory's rule (see the type's documentation).
    public static func equal(_ a: AttributeValue, _ b: AttributeValue) -> Bool {
        // The same bytes are the same value under every rule below.
        if a.bytes == b.bytes { return true }
        if isASCII(a.bytes) && isASCII(b.bytes) { return foldedASCIIEqual(a.bytes, b.bytes) }
        switch (key(a), key(b)) {
        case let (.text(x), .text(y)): return x == y
        default: return a.bytes == b.bytes
        }
    }

    /// Ordering: negative when `a` sorts before `b`, zero when equal, positive after.
    public static func compare(_ a: AttributeValue, _ b: AttributeValue) -> Int {
        switch (key(a), key(b)) {
        case let (.text(x), .text(y)):
            if let n = compareIntegers(x, y) { return n }
            if x == y { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : 1
        default:
            if a.bytes == b.bytes { return 0 }
            return a.bytes.lexicographicallyPrecedes(b.bytes) ? -1 : 1
        }
    }

    /// Numeric comparison of two decimal integers of any length, or nil when
    /// either is not one.
    static func compareIntegers(_ x: String, _ y: String) -> Int? {
        func parse(_ s: String) -> (negative: Bool, digits: [UInt8])? {
            var bytes = Array(s.utf8)
            var negative = false
            if bytes.first == UInt8(ascii: "-") { negative = true; bytes.removeFirst() }
            guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let significant = Array(bytes.drop(while: { $0 == 0x30 }))
            return (negative && !significant.isEmpty, significant)
        }
        guard let a = parse(x), let b = parse(y) else { return nil }
        if a.negative != b.negative { return a.negative ? -1 : 1 }
        var magnitude: Int
        if a.digits.count != b.digits.count {
            magnitude = a.digits.count < b.digits.count ? -1 : 1
        } else if a.digits == b.digits {
            magnitude = 0
        } else {
            magnitude = a.digits.lexicographicallyPrecedes(b.digits) ? -1 : 1
        }
        return a.negative ? -magnitude : magnitude
    }

    /// Substring match of `value` against `initial*any*...*final`.
    public static func substringsMatch(_ value: AttributeValue, initial: AttributeValue?,
                                       any: [AttributeValue], final: AttributeValue?) -> Bool {
        let pieces = [initial].compactMap { $0 } + any + [final].compactMap { $0 }
        if let text = value.string, pieces.allSatisfy(\.isUTF8) {
            func prepare(_ v: AttributeValue, leading: Bool, trailing: Bool) -> [Character] {
                Array(collapseSpaces((v.string ?? "").lowercased(), trimLeading: leading, trimTrailing: trailing))
            }
            return match(Array(fold(text)),
                         initial: initial.map { prepare($0, leading: true, trailing: false) },
                         any: any.map { prepare($0, leading: false, trailing: false) },
                         final: final.map { prepare($0, leading: false, trailing: true) })
        }
        return match(value.bytes, initial: initial?.bytes, any: any.map(\.bytes), final: final?.bytes)
    }

    static func match<T: Equatable>(_ subject: [T], initial: [T]?, any: [[T]], final: [T]?) -> Bool {
        var start = 0
        var end = subject.count
        if let initial, !initial.isEmpty {
            guard subject.starts(with: initial) else { return false }
            start = initial.count
        }
        if let final, !final.isEmpty {
            guard end - start >= final.count, Array(subject[(end - final.count)...]) == final else { return false }
            end -= final.count
        }
        for piece in any where !piece.isEmpty {
            guard let found = firstIndex(of: piece, in: subject, from: start, to: end) else { return false }
            start = found + piece.count
        }
        return true
    }

    static func firstIndex<T: Equatable>(of needle: [T], in haystack: [T], from: Int, to: Int) -> Int? {
        guard to - from >= needle.count else { return nil }
        var i = from
        while i + needle.count <= to {
            if haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
