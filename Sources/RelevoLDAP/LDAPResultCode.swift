// LDAP result codes (RFC 4511 appendix A) and libldap's client-side codes.

/// An LDAP result code: a server's (RFC 4511 appendix A, `0` and up) or one
/// libldap reports for a problem on the client side (negative, such as
/// `serverDown (-1)` or `timeout (-5)`).
///
/// `description` is the name and the number, as `noSuchObject (32)`.
public struct LDAPResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The number, as the protocol (or libldap, when negative) gives it.
    public let rawValue: Int32

    /// The code numbered `rawValue`, known or not.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The code numbered `rawValue`.
    public init(_ rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The RFC 4511 name (`noSuchObject`), libldap's for client-side codes
    /// (`serverDown`), or `unknown` for a number neither defines.
    public var name: String {
        Self.names[rawValue] ?? "unknown"
    }

    /// True for codes that libldap produces itself (negative numbers): the
    /// server never said them.
    public var isClientSide: Bool { rawValue < 0 }

    /// `name (number)`, such as `noSuchObject (32)`.
    public var description: String { "\(name) (\(rawValue))" }

    /// 0: the operation succeeded.
    public static let success = LDAPResultCode(0)
    /// 1
    public static let operationsError = LDAPResultCode(1)
    /// 2
    public static let protocolError = LDAPResultCode(2)
    /// 3
    public static let timeLimitExceeded = LDAPResultCode(3)
    /// 4: more entries than the server's size limit (and no paging).
    public static let sizeLimitExceeded = LDAPResultCode(4)
    /// 10
    public static let referral = LDAPResultCode(10)
    /// 11
    public static let adminLimitExceeded = LDAPResultCode(11)
    /// 12: a critical control (such as paging) the server does not support.
    public static let unavailableCriticalExtension = LDAPResultCode(12)
    /// 13
    public static let confidentialityRequired = LDAPResultCode(13)
    /// 16
    public static let noSuchAttribute = LDAPResultCode(16)
    /// 17
    public static let undefinedAttributeType = LDAPResultCode(17)
    /// 19
    public static let constraintViolation = LDAPResultCode(19)
    /// 20
    public static let attributeOrValueExists = LDAPResultCode(20)
    /// 21
    public static let invalidAttributeSyntax = LDAPResultCode(21)
    /// 32: the entry (or the parent of a new one, or a search base) does not exist.
    public static let noSuchObject = LDAPResultCode(32)
    /// 34
    public static let invalidDNSyntax = LDAPResultCode(34)
    /// 48
    public static let inappropriateAuthentication = LDAPResultCode(48)
    /// 49: wrong bind DN or password.
    public static let invalidCredentials = LDAPResultCode(49)
    /// 50
    public static let insufficientAccessRights = LDAPResultCode(50)
    /// 51
    public static let busy = LDAPResultCode(51)
    /// 52
    public static let unavailable = LDAPResultCode(52)
    /// 53
    public static let unwillingToPerform = LDAPResultCode(53)
    /// 64
    public static let namingViolation = LDAPResultCode(64)
    /// 65
    public static let objectClassViolation = LDAPResultCode(65)
    /// 66
    public static let notAllowedOnNonLeaf = LDAPResultCode(66)
    /// 67
    public static let notAllowedOnRDN = LDAPResultCode(67)
    /// 68: an entry with that DN already exists.
    public static let entryAlreadyExists = LDAPResultCode(68)
    /// 80
    public static let other = LDAPResultCode(80)
    /// -1: libldap could not reach the server, or lost the connection.
    public static let serverDown = LDAPResultCode(-1)
    /// -2
    public static let localError = LDAPResultCode(-2)
    /// -4
    public static let decodingError = LDAPResultCode(-4)
    /// -5: no answer within the timeout.
    public static let timeout = LDAPResultCode(-5)
    /// -7
    public static let filterError = LDAPResultCode(-7)
    /// -9: a bad argument, refused before anything was sent.
    public static let paramError = LDAPResultCode(-9)
    /// -10
    public static let noMemory = LDAPResultCode(-10)
    /// -11: the connection could not be set up (for StartTLS: the TLS handshake failed).
    public static let connectError = LDAPResultCode(-11)
    /// -12
    public static let notSupported = LDAPResultCode(-12)

    private static let names: [Int32: String] = [
        0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded",
        4: "sizeLimitExceeded", 5: "compareFalse", 6: "compareTrue", 7: "authMethodNotSupported",
        8: "strongerAuthRequired", 10: "referral", 11: "adminLimitExceeded",
        12: "unavailableCriticalExtension", 13: "confidentialityRequired", 14: "saslBindInProgress",
        16: "noSuchAttribute", 17: "undefinedAttributeType", 18: "inappropriateMatching",
        19: "constraintViolation", 20: "attributeOrValueExists", 21: "invalidAttributeSyntax",
        32: "noSuchObject", 33: "aliasProblem", 34: "invalidDNSyntax", 35: "isLeaf",
        36: "aliasDereferencingProblem", 48: "inappropriateAuthentication", 49: "invalidCredentials",
        50: "insufficientAccessRights", 51: "busy", 52: "unavailable", 53: "unwillingToPerform",
        54: "loopDetect", 64: "namingViolation", 65: "objectClassViolation", 66: "notAllowedOnNonLeaf",
        67: "notAllowedOnRDN", 68: "entryAlreadyExists", 69: "objectClassModsProhibited",
        71: "affectsMultipleDSAs", 80: "other", 118: "canceled", 119: "noSuchOperation",
        120: "tooLate", 121: "cannotCancel", 122: "assertionFailed", 123: "authorizationDenied",
        4096: "syncRefreshRequired",
        -1: "serverDown", -2: "localError", -3: "encodingError", -4: "decodingError",
        -5: "timeout", -6: "authUnknown", -7: "filterError", -8: "userCancelled",
        -9: "paramError", -10: "noMemory", -11: "connectError", -12: "notSupported",
        -13: "controlNotFound", -14: "noResultsReturned", -15: "moreResultsToReturn",
        -16: "clientLoop", -17: "referralLimitExceeded", -18: "connecting",
    ]
}
