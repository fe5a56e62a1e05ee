import RelevoBasics

/// Where and how to connect to an LDAP server: URL, TLS, timeout and the
/// identity to bind as.
///
/// A value; its `description` names the URL, TLS settings and bind DN, and
/// the password only by its reference (`file:/etc/relevo/ldap.pw`), as
/// `Secret` always does.
public struct LDAPEndpoint: Sendable, CustomStringConvertible {
    /// How a server certificate is checked, as OpenLDAP's `TLS_REQCERT`.
    public enum CertificateCheck: String, Hashable, Sendable {
        /// The certificate must be valid, trusted and name the host; otherwise
        /// the connection fails. The default.
        case demand
        /// The certificate is requested; a bad one is accepted anyway.
        case allow
        /// The certificate is not checked at all.
        case never
    }

    /// `ldap://host:port` or `ldaps://host:port` (one URL).
    public var url: String
    /// Run StartTLS right after connecting (only with `ldap://`). When the
    /// server refuses it or the handshake fails, connecting fails: there is
    /// never a fallback to plain LDAP.
    public var startTLS: Bool
    /// The PEM file of the CA certificates to trust; nil for libldap's
    /// default (`TLS_CACERT` of `/etc/ldap/ldap.conf`).
    public var caFile: String?
    /// How the server's certificate is checked.
    public var certificateCheck: CertificateCheck
    /// Seconds to wait for the TCP (and TLS) connection, and for each answer
    /// from the server, before failing with `LDAPError.Kind.cannotConnect`.
    public var timeout: Double
    /// The DN to bind as (simple bind); nil for anonymous.
    public var bindDN: String?
    /// The bind password; required (and non-empty) when `bindDN` is set.
    public var password: Secret?

    /// An endpoint; by default no StartTLS, the system's CAs, certificates
    /// demanded, a 10 second timeout and an anonymous connection.
    public init(url: String, startTLS: Bool = false, caFile: String? = nil,
                certificateCheck: CertificateCheck = .demand, timeout: Double = 10,
                bindDN: String? = nil, password: Secret? = nil) {
        self.url = url
        self.startTLS = startTLS
        self.caFile = caFile
        self.certificateCheck = certificateCheck
        self.timeout = timeout
        self.bindDN = bindDN
        self.password = password
    }

    /// True when the URL uses `ldaps://` (TLS from the first byte).
    public var isLDAPS: Bool { url.lowercased().hasPrefix("ldaps://") }

    /// True when the connection will be encrypted (ldaps or StartTLS).
    public var usesTLS: Bool { isLDAPS || startTLS }

    /// `ldap://h:389 (StartTLS, CA /x.pem, certificates demand) as cn=admin,dc=mx
    /// with password file:/p`, never showing the password itself.
    public var description: String {
        var tls: [String] = []
        if startTLS { tls.append("StartTLS") }
        if usesTLS {
            if let caFile { tls.append("CA \(caFile)") }
            tls.append("certificates \(certificateCheck.rawValue)")
        }
        var text = url
        if !tls.isEmpty { text += " (" + tls.joined(separator: ", ") + ")" }
        if let bindDN {
            text += " as \(bindDN)"
            if let password { text += " with password \(password.reference)" }
        } else {
            text += " anonymously"
        }
        return text
    }
}
