/// One record of an LDIF file (RFC 2849).
public enum LDIFRecord: Hashable, Sendable {
    /// A content record: an entry as `slapcat` writes it.
    case content(Entry)
    /// A change record: `changetype: add|delete|modify|modrdn`.
    case change(LDIFChangeRecord)

    /// The DN the record is about.
    public var dn: DistinguishedName {
        switch self {
        case .content(let entry): entry.dn
        case .change(let change): change.dn
        }
    }
}

/// A change record: the target DN, optional controls, and the change.
public struct LDIFChangeRecord: Hashable, Sendable {
    public var dn: DistinguishedName
    public var controls: [LDIFControl]
    public var change: LDIFChange

    public init(dn: DistinguishedName, controls: [LDIFControl] = [], change: LDIFChange) {
        self.dn = dn
        self.controls = controls
        self.change = change
    }
}

/// The change a change record makes.
public enum LDIFChange: Hashable, Sendable {
    /// `changetype: add` with the new entry's attributes.
    case add([Attribute])
    /// `changetype: delete`.
    case delete
    /// `changetype: modify` with its `add:`/`delete:`/`replace:` sections.
    case modify([Modification])
    /// `changetype: modrdn` (or `moddn`): rename to `newRDN`, optionally
    /// moving under `newSuperior`.
    case modifyDN(newRDN: RelativeDistinguishedName, deleteOldRDN: Bool, newSuperior: DistinguishedName?)
}

/// One modification of a modify operation (RFC 4511 section 4.6).
public struct Modification: Hashable, Sendable {
    public enum Operation: String, Hashable, Sendable {
        /// Add values; the attribute is created when absent.
        case add
        /// Delete the listed values, or the whole attribute when none are listed.
        case delete
        /// Replace all values; no values removes the attribute.
        case replace
    }

    public var operation: Operation
    /// The attribute description, as written.
    public var attribute: String
    public var values: [AttributeValue]

    public init(_ operation: Operation, _ attribute: String, _ values: [AttributeValue] = []) {
        self.operation = operation
        self.attribute = attribute
        self.values = values
    }

    public static func add(_ attribute: String, _ values: [AttributeValue]) -> Modification {
        Modification(.add, attribute, values)
    }

    public static func delete(_ attribute: String, _ values: [AttributeValue] = []) -> Modification {
        Modification(.delete, attribute, values)
    }

    public static func replace(_ attribute: String, _ values: [AttributeValue]) -> Modification {
        Modification(.replace, attribute, values)
    }
}

/// A `control:` line of a change record: OID, criticality, optional value.
/// The directory ignores controls; they are kept so a file round-trips.
public struct LDIFControl: Hashable, Sendable {
    public var oid: String
    public var critical: Bool
    public var value: AttributeValue?

    public init(oid: String, critical: Bool = false, value: AttributeValue? = nil) {
        self.oid = oid
        self.critical = critical
        self.value = value
    }
}
