/// Why a directory operation failed, named after the LDAP result code a
/// server would return (RFC 4511 appendix A).
public enum DirectoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 2: a malformed request, such as `add` with no values.
    case protocolError(String)
    /// 16: the attribute or value to delete is not in the entry.
    case noSuchAttribute(DistinguishedName, attribute: String)
    /// 20: the value to add is already in the entry (or listed twice).
    case attributeOrValueExists(DistinguishedName, attribute: String)
    /// 32: the entry (or the parent of a new entry, or a search base) does not exist.
    case noSuchObject(DistinguishedName)
    /// 53: an operation the directory will not do, such as adding the root DN.
    case unwillingToPerform(String)
    /// 64: the entry lacks the values its RDN names.
    case namingViolation(DistinguishedName, String)
    /// 66: the entry has children.
    case notAllowedOnNonLeaf(DistinguishedName)
    /// 67: the modification would remove a value the RDN names.
    case notAllowedOnRDN(DistinguishedName, attribute: String)
    /// 68: an entry with that DN already exists.
    case entryAlreadyExists(DistinguishedName)

    /// The numeric LDAP result code.
    public var resultCode: Int {
        switch self {
        case .protocolError: 2
        case .noSuchAttribute: 16
        case .attributeOrValueExists: 20
        case .noSuchObject: 32
        case .unwillingToPerform: 53
        case .namingViolation: 64
        case .notAllowedOnNonLeaf: 66
        case .notAllowedOnRDN: 67
        case .entryAlreadyExists: 68
        }
    }

    /// The LDAP name of the result code (`noSuchObject`).
    public var name: String {
        switch self {
        case .protocolError: "protocolError"
        case .noSuchAttribute: "noSuchAttribute"
        case .attributeOrValueExists: "attributeOrValueExists"
        case .noSuchObject: "noSuchObject"
        case .unwillingToPerform: "unwillingToPerform"
        case .namingViolation: "namingViolation"
        case .notAllowedOnNonLeaf: "notAllowedOnNonLeaf"
        case .notAllowedOnRDN: "notAllowedOnRDN"
        case .entryAlreadyExists: "entryAlreadyExists"
        }
    }

    public var description: String {
        switch self {
        case .protocolError(let message): "\(name) (\(resultCode)): \(message)"
        case let .noSuchAttribute(dn, attribute): "\(name) (\(resultCode)): '\(attribute)' of '\(dn)'"
        case let .attributeOrValueExists(dn, attribute): "\(name) (\(resultCode)): '\(attribute)' of '\(dn)'"
        case .noSuchObject(let dn): "\(name) (\(resultCode)): '\(dn)'"
        case .unwillingToPerform(let message): "\(name) (\(resultCode)): \(message)"
        case let .namingViolation(dn, message): "\(name) (\(resultCode)): '\(dn)': \(message)"
        case .notAllowedOnNonLeaf(let dn): "\(name) (\(resultCode)): '\(dn)' has children"
        case let .notAllowedOnRDN(dn, attribute): "\(name) (\(resultCode)): '\(attribute)' is named by the RDN of '\(dn)'"
        case .entryAlreadyExists(let dn): "\(name) (\(resultCode)): '\(dn)'"
        }
    }
}

/// Loading LDIF into a directory failed: the text is malformed, or a
/// record could not be applied (with the line of its `dn:`).
public enum DirectoryLoadError: Error, Hashable, Sendable, CustomStringConvertible {
    case syntax(LDIFError)
    case operation(DirectoryError, line: Int)

    public var description: String {
        switch self {
        case .syntax(let error): error.description
        case let .operation(error, line): "\(line):1: \(error)"
        }
    }
}
