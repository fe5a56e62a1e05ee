/// An LDAP search filter (RFC 4515) as a syntax tree.
///
/// Parse one with `LDAPFilter(_:)`; `description` writes it back in the
/// string form, escaping values, so `try LDAPFilter(f.description) == f`.
/// Attribute names are kept as written; values are `AttributeValue`s (bytes),
/// so escaped binary values (`\00\ff`) survive.
///
/// Supported: `&`, `|`, `!`, equality, presence, substrings, `>=`, `<=`
/// and `~=`, plus the RFC 4526 absolute filters `(&)` (true) and `(|)`
/// (false). Not supported (a parse error): extensible match (`:=`, `:dn:`).
/// `~=` is parsed as `.approx` and evaluated as equality.
public indirect enum LDAPFilter: Hashable, Sendable, CustomStringConvertible {
    /// `(&f1f2...)`: all match; `(&)` is always true.
    case and([LDAPFilter])
    /// `(|f1f2...)`: one matches; `(|)` is always false.
    case or([LDAPFilter])
    /// `(!f)`
    case not(LDAPFilter)
    /// `(attr=value)`
    case equality(String, AttributeValue)
    /// `(attr=*)`
    case present(String)
    /// `(attr=initial*any1*any2*final)`; each piece is optional but at
    /// least one is given, and `any` pieces are never empty.
    case substrings(String, initial: AttributeValue?, any: [AttributeValue], final: AttributeValue?)
    /// `(attr>=value)`
    case greaterOrEqual(String, AttributeValue)
    /// `(attr<=value)`
    case lessOrEqual(String, AttributeValue)
    /// `(attr~=value)`: evaluated as equality.
    case approx(String, AttributeValue)

    /// Parses a filter string. The whole string must be one parenthesised
    /// filter, with no surrounding spaces; nesting is limited to
    /// `LDAPFilter.maxDepth` levels.
    public init(_ string: String) throws(LDAPFilterError) {
        self = try LDAPFilterParser.parse(string)
    }

    /// The deepest nesting of parentheses accepted by the parser.
    public static let maxDepth = 64

    /// The filter in RFC 4515 string form, values escaped with `escape(value:)`.
    public var description: String {
        switch self {
        case .and(let filters): "(&" + filters.map(\.description).joined() + ")"
        case .or(let filters): "(|" + filters.map(\.description).joined() + ")"
        case .not(let filter): "(!" + filter.description + ")"
        case let .equality(attribute, value): "(\(attribute)=\(Self.escape(value)))"
        case .present(let attribute): "(\(attribute)=*)"
        case let .substrings(attribute, initial, any, final):
            "(\(attribute)=" + (initial.map(Self.escape) ?? "") + "*"
                + any.map { Self.escape($0) + "*" }.joined() + (final.map(Self.escape) ?? "") + ")"
        case let .greaterOrEqual(attribute, value): "(\(attribute)>=\(Self.escape(value)))"
        case let .lessOrEqual(attribute, value): "(\(attribute)<=\(Self.escape(value)))"
        case let .approx(attribute, value): "(\(attribute)~=\(Self.escape(value)))"
        }
    }

    /// Escapes text for use as a value in a filter string (RFC 4515 section 3):
    /// `*` `(` `)` `\` and NUL become `\2a` `\28` `\29` `\5c` `\00`; every
    /// other character is kept. Use it whenever a value from data or a user
    /// goes into a filter: `"(uid=" + LDAPFilter.escape(value: uid) + ")"`.
    public static func escape(value: String) -> String {
        escape(AttributeValue(value))
    }

    /// Escapes a value given as bytes: as `escape(value:)`, and bytes that are
    /// not part of valid UTF-8 are written as `\xx` hex pairs too.
    public static func escape(_ value: AttributeValue) -> String {
        let keepHighBytes = value.isUTF8
        var out: [UInt8] = []
        out.reserveCapacity(value.bytes.count)
        let hex = Array("0123456789abcdef".utf8)
        for b in value.bytes {
            switch b {
            case 0x2A, 0x28, 0x29, 0x5C, 0x00:
                out += [UInt8(ascii: "\\"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            case 0x80... where !keepHighBytes:
                out += [UInt8(ascii: "\\"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default:
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A malformed filter: `offset` is the 0-based position, in Unicode scalars
/// (characters, for ASCII), where the problem was found.
public struct LDAPFilterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "invalid filter at offset \(offset): \(message)" }
}
