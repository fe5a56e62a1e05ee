/// One `type=value` pair of a relative distinguished name.
///
/// Equality and hashing use the directory's comparison (see
/// `DistinguishedName`): the type ignoring case, the value under
/// `MatchingRules` equality.
public struct AttributeTypeAndValue: Hashable, Sendable, CustomStringConvertible {
    /// The attribute type as written (`uid`, `DC`, `0.9.2342.19200300.100.1.1`).
    public let type: String
    /// The unescaped value (`a,b` for the string `uid=a\,b`).
    public let value: String
    /// The comparison key: lower-cased type, `=`, escaped folded value.
    let key: String

    /// A pair, validating `type` (a descriptor or a numeric OID, no options).
    public init(type: String, value: String) throws(DNError) {
        let bytes = Array(type.utf8)
        if let bad = AttributeDescription.firstInvalidOffset(bytes) {
            throw DNError(offset: bad, message: "invalid attribute type '\(type)'")
        }
        if bytes.contains(UInt8(ascii: ";")) {
            throw DNError(offset: 0, message: "attribute options are not allowed in a DN ('\(type)')")
        }
        self.init(unchecked: type, value: value)
    }

    init(unchecked type: String, value: String) {
        self.type = type
        self.value = value
        self.key = type.lowercased() + "=" + DistinguishedName.escape(value: MatchingRules.fold(value))
    }

    /// `type=escaped-value`, as RFC 4514 writes it.
    public var description: String { type + "=" + DistinguishedName.escape(value: value) }

    public static func == (a: Self, b: Self) -> Bool { a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}

/// A relative distinguished name: one or more `type=value` pairs joined by
/// `+` (a multi-valued RDN such as `cn=Ana+sn=Ruiz`).
///
/// Equality ignores the order of the pairs.
public struct RelativeDistinguishedName: Hashable, Sendable, CustomStringConvertible {
    /// The pairs in the order written; never empty.
    public let attributes: [AttributeTypeAndValue]
    let key: String

    /// An RDN of these pairs; refuses an empty list.
    public init(_ attributes: [AttributeTypeAndValue]) throws(DNError) {
        guard !attributes.isEmpty else { throw DNError(offset: 0, message: "an RDN needs at least one type=value pair") }
        self.init(unchecked: attributes)
    }

    /// A single-valued RDN `type=value`.
    public init(type: String, value: String) throws(DNError) {
        try self.init([AttributeTypeAndValue(type: type, value: value)])
    }

    /// Parses one RDN in RFC 4514 string form (`uid=ceres`, `cn=a+sn=b`).
    public init(_ string: String) throws(DNError) {
        let dn = try DistinguishedName(string)
        guard dn.rdns.count == 1 else {
            throw DNError(offset: 0, message: dn.rdns.isEmpty ? "empty RDN" : "expected one RDN, found \(dn.rdns.count)")
        }
        self = dn.rdns[0]
    }

    init(unchecked attributes: [AttributeTypeAndValue]) {
        self.attributes = attributes
        self.key = attributes.count == 1 ? attributes[0].key : attributes.map(\.key).sorted().joined(separator: "+")
    }

    public var description: String { attributes.map(\.description).joined(separator: "+") }

    public static func == (a: Self, b: Self) -> Bool { a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}

/// A distinguished name (RFC 4514), most specific RDN first:
/// `uid=ceres,dc=exalumno,dc=unam,dc=mx`.
///
/// **Comparison.** `==` and hashing are the directory's DN equality, not
/// string equality: attribute types ignore case, values compare under
/// `MatchingRules` equality (case-insensitive, insignificant spaces ignored),
/// the pairs of a multi-valued RDN in any order, and escaping is irrelevant
/// (`uid=a\2Cb` equals `UID=A\,B`). So `dc=eXalumno,dc=unam,dc=mx` and
/// `dc=exalumno,dc=unam,dc=mx` are the same entry. `normalizedString` is the
/// key used. `description` keeps the types and values as given, re-escaped
/// canonically.
///
/// **Parsing** follows RFC 4514 with two leniencies common in real data:
/// unescaped spaces around `=`, `,` and `+` are ignored (RFC 2253 style
/// `uid=a, dc=b`), and hex pairs may use lower-case digits. Refused with a
/// `DNError`: hex-encoded BER values (`cn=#04024869`), unescaped `"` `;`
/// `<` `>` or NUL in a value, bad escapes, and escaped bytes that are not
/// UTF-8.
public struct DistinguishedName: Hashable, Sendable, CustomStringConvertible {
    /// The RDNs, most specific first. Empty for the root DN.
    public let rdns: [RelativeDistinguishedName]
    /// The comparison key (see the type's documentation).
    public let normalizedString: String

    /// The empty DN: the root above every naming context.
    public static let root = DistinguishedName(rdns: [])

    /// A DN from its RDNs, most specific first.
    public init(rdns: [RelativeDistinguishedName]) {
        self.rdns = rdns
        self.normalizedString = rdns.map(\.key).joined(separator: ",")
    }

    /// Parses the RFC 4514 string form. The empty string is the root DN.
    public init(_ string: String) throws(DNError) {
        self.init(rdns: try DNParser.parse(string))
    }

    /// True for the empty (root) DN.
    public var isRoot: Bool { rdns.isEmpty }

    /// The most specific RDN, or nil for the root DN.
    public var rdn: RelativeDistinguishedName? { rdns.first }

    /// The DN one level up, or nil for the root DN.
    /// The parent of `dc=mx` is the root DN.
    public var parent: DistinguishedName? {
        rdns.isEmpty ? nil : DistinguishedName(rdns: Array(rdns.dropFirst()))
    }

    /// The DN of the child `rdn` of this one.
    public func child(_ rdn: RelativeDistinguishedName) -> DistinguishedName {
        DistinguishedName(rdns: [rdn] + rdns)
    }

    /// True when this DN is strictly below `ancestor` (never for itself).
    /// Every non-root DN is a descendant of the root DN.
    public func isDescendant(of ancestor: DistinguishedName) -> Bool {
        rdns.count > ancestor.rdns.count && hasSuffix(ancestor)
    }

    /// True when this DN is `other` or below it.
    public func isEqualOrDescendant(of other: DistinguishedName) -> Bool {
        rdns.count >= other.rdns.count && hasSuffix(other)
    }

    private func hasSuffix(_ other: DistinguishedName) -> Bool {
        let offset = rdns.count - other.rdns.count
        for i in 0..<other.rdns.count where rdns[offset + i] != other.rdns[i] { return false }
        return true
    }

    /// This DN with its `ancestor` suffix replaced by `replacement`, or nil
    /// when it is not equal to or below `ancestor`.
    public func replacingAncestor(_ ancestor: DistinguishedName, with replacement: DistinguishedName) -> DistinguishedName? {
        guard isEqualOrDescendant(of: ancestor) else { return nil }
        return DistinguishedName(rdns: Array(rdns.prefix(rdns.count - ancestor.rdns.count)) + replacement.rdns)
    }

    /// The RFC 4514 string, RDNs joined by `,` with no spaces.
    public var description: String { rdns.map(\.description).joined(separator: ",") }

    public static func == (a: Self, b: Self) -> Bool { a.normalizedString == b.normalizedString }
    public func hash(into hasher: inout Hasher) { hasher.combine(normalizedString) }
}

/// A malformed DN: `offset` is the 0-based position, in Unicode scalars
/// (characters, for ASCII), where the problem is.
public struct DNError: Error, Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "invalid DN at offset \(offset): \(message)" }
}
