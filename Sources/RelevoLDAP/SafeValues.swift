// Conveniences for building filters and DNs from values that come from
// outside (a plan, a user list, an old directory): each goes through
// RelevoDirectory's escaping, so the value can only ever mean itself.
import RelevoDirectory

extension LDAPFilter {
    /// `(objectClass=*)`: every entry.
    public static let everything: LDAPFilter = .present("objectClass")

    /// `(attribute=value)` for a text value from data: whatever `value`
    /// holds (`*`, `(`, `)`, `\`, NUL, a newline) is matched literally,
    /// because it is escaped (RFC 4515) when the filter is written.
    public static func equality(_ attribute: String, _ value: String) -> LDAPFilter {
        .equality(attribute, AttributeValue(value))
    }

    /// `(&(objectClass=objectClass)(attribute=value))`, the usual lookup of
    /// one user: `.lookup("inetOrgPerson", "uid", uid)`.
    public static func lookup(_ objectClass: String, _ attribute: String, _ value: String) -> LDAPFilter {
        .and([.equality("objectClass", AttributeValue(objectClass)), .equality(attribute, AttributeValue(value))])
    }

    /// The filter's RFC 4515 string, with every value escaped: the same
    /// text a search sends.
    public var filterString: String { description }
}

extension DistinguishedName {
    /// The DN of the child `type=value` of this one, for a value from data:
    /// `try base.child("uid", uid)`. The value is kept as it is (escaped
    /// only when the DN is written, RFC 4514), so `uid=a,b` can never
    /// become two RDNs.
    ///
    /// - Throws: `DNError` when `type` is not an attribute type.
    public func child(_ type: String, _ value: String) throws(DNError) -> DistinguishedName {
        child(try RelativeDistinguishedName(type: type, value: value))
    }
}
