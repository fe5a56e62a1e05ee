/// One attribute value, stored as the exact bytes it has in the directory.
///
/// LDAP values are octet strings: most are UTF-8 text, some (`jpegPhoto`,
/// `userCertificate`, a password hash) are binary. Keeping the bytes means a
/// binary value survives LDIF reading, writing and every directory operation
/// unchanged. `string` is the text when the bytes are valid UTF-8.
public struct AttributeValue: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The value's octets, exactly as stored.
    public var bytes: [UInt8]

    /// A value holding these exact bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A value holding the UTF-8 encoding of `string`.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The value as text, or nil when its bytes are not valid UTF-8.
    public var string: String? {
        UTF8Validation.string(bytes)
    }

    /// True when the bytes are valid UTF-8.
    public var isUTF8: Bool { UTF8Validation.isValid(bytes) }

    /// True when this value equals `other` under the directory's equality
    /// rule (see `MatchingRules`): case-insensitive, insignificant spaces
    /// ignored, binary values byte for byte.
    public func isEquivalent(to other: AttributeValue) -> Bool {
        MatchingRules.equal(self, other)
    }

    /// The text, or `<N bytes of binary data>` for a value that is not UTF-8.
    public var description: String {
        string ?? "<\(bytes.count) bytes of binary data>"
    }
}

/// UTF-8 validation without Foundation.
enum UTF8Validation {
    static func isValid<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func string<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        isValid(bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }
}
