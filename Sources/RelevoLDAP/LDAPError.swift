import RelevoDirectory

/// The operation an `LDAPError` is about.
public enum LDAPOperation: String, Hashable, Sendable, CustomStringConvertible {
    /// Setting up the handle and the connection (TCP, and TLS for `ldaps://`).
    case connect
    /// The StartTLS extended operation (RFC 4513 section 3).
    case startTLS
    /// The simple bind.
    case bind
    /// A search (paged or not).
    case search
    /// A base-scope search for one entry.
    case read
    /// A modify.
    case modify
    /// The read after a modify, checking its effect.
    case readBack
    /// An add.
    case add
    /// A delete.
    case delete
    /// The "Who am I?" extended operation (RFC 4532).
    case whoAmI

    /// The raw value (`modify`).
    public var description: String { rawValue }
}

/// Why an LDAP operation failed: the kind (what a caller decides on), the
/// result code, what the server said, and what was being done to which DN
/// on which server.
///
/// It never holds a password: the bind password is only ever handed to
/// libldap, and errors are built from result codes, DNs, the URL and the
/// server's diagnostic message.
public struct LDAPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The classes of failure a caller handles differently.
    public enum Kind: String, Hashable, Sendable {
        /// The server could not be reached, went away, or did not answer
        /// within the endpoint's timeout (`serverDown`, `timeout`,
        /// `connectError`). For a write, the outcome is then unknown: read
        /// the entry back before retrying.
        case cannotConnect
        /// TLS could not be set up: the certificate is not trusted (or does
        /// not name the host), the handshake failed, or the server refused
        /// StartTLS. Never followed by a fallback to plain LDAP.
        case tls
        /// The bind DN or password is wrong (`invalidCredentials (49)`).
        case invalidCredentials
        /// The entry does not exist (`noSuchObject (32)`); for an add, its parent.
        case noSuchObject
        /// An entry with that DN already exists (`entryAlreadyExists (68)`).
        case alreadyExists
        /// A modify succeeded but reading the entry back did not show the
        /// intended values.
        case readBackMismatch
        /// Any other result code, or a request refused before sending it.
        case other
    }

    /// The class of failure.
    public var kind: Kind
    /// The LDAP result code (or libldap's client-side code).
    public var code: LDAPResultCode
    /// What was being done.
    public var operation: LDAPOperation
    /// The DN operated on, when there is one.
    public var dn: String?
    /// The server's URL.
    public var url: String
    /// The server's diagnostic message (or libldap's), when not empty.
    public var diagnosticMessage: String?
    /// The matched DN the server returned (for `noSuchObject`, the deepest
    /// existing ancestor), when not empty.
    public var matchedDN: String?
    /// Relevo's own explanation, when it has one (a TLS hint, a read-back
    /// difference, a refused argument).
    public var detail: String?

    /// An error with every field given; `kind` defaults from `code`.
    public init(kind: Kind? = nil, code: LDAPResultCode, operation: LDAPOperation, dn: String? = nil,
                url: String, diagnosticMessage: String? = nil, matchedDN: String? = nil, detail: String? = nil) {
        self.kind = kind ?? Self.kind(for: code)
        self.code = code
        self.operation = operation
        self.dn = dn
        self.url = url
        self.diagnosticMessage = diagnosticMessage.flatMap { $0.isEmpty ? nil : $0 }
        self.matchedDN = matchedDN.flatMap { $0.isEmpty ? nil : $0 }
        self.detail = detail.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The kind a result code falls in when nothing else is known
    /// (TLS failures are told apart by where they happen, not by code).
    public static func kind(for code: LDAPResultCode) -> Kind {
        switch code {
        case .serverDown, .timeout, .connectError: .cannotConnect
        case .invalidCredentials: .invalidCredentials
        case .noSuchObject: .noSuchObject
        case .entryAlreadyExists: .alreadyExists
        default: .other
        }
    }

    /// One line: `LDAP modify of 'uid=x,dc=y' at ldap://h:389 failed:
    /// noSuchObject (32): <server message>; matched DN 'dc=y'`, with the
    /// kind's explanation for connection and TLS failures.
    public var description: String {
        var text = "LDAP \(operation)"
        if let dn { text += " of '\(dn)'" }
        text += " at \(url) failed: \(code)"
        if let diagnosticMessage { text += ": \(diagnosticMessage)" }
        if let matchedDN { text += "; matched DN '\(matchedDN)'" }
        if let detail { text += " (\(detail))" }
        return text
    }
}

/// `importLDIF` stopped at a record that could not be added: the entries
/// added before it (in order, so a caller can undo them in reverse), the
/// record's position, and why.
public struct LDAPImportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The DNs added before the failure, in the order added.
    public var added: [DistinguishedName]
    /// The 0-based index, in the records given, of the record that failed.
    public var failedIndex: Int
    /// The DN of the record that failed.
    public var failedDN: DistinguishedName
    /// Why it failed.
    public var underlying: LDAPError

    /// An import failure with every field given.
    public init(added: [DistinguishedName], failedIndex: Int, failedDN: DistinguishedName, underlying: LDAPError) {
        self.added = added
        self.failedIndex = failedIndex
        self.failedDN = failedDN
        self.underlying = underlying
    }

    /// `import stopped at record N ('dn') after adding K entries: <error>`.
    public var description: String {
        "LDIF import stopped at record \(failedIndex + 1) ('\(failedDN)') after adding \(added.count) "
            + (added.count == 1 ? "entry" : "entries") + ": \(underlying)"
    }
}
