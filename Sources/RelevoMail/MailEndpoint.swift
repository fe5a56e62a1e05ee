import RelevoBasics

/// A mail server a probe talks to: address, port, transport security and
/// the bounds on how long a probe may take.
public struct MailEndpoint: Sendable, CustomStringConvertible {
    /// How the connection is protected.
    public enum Security: String, Sendable {
        /// Plain text.
        case none
        /// Plain text upgraded with STARTTLS (STLS for POP3), required: a
        /// server that does not offer it is an error, never a fallback.
        case startTLS = "starttls"
        /// TLS from the first byte (smtps, imaps, pop3s).
        case implicit
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// CA certificates for the server's certificate (default: the system's).
    public var caFile: String?
    /// Seconds to connect, and seconds for the whole exchange. libcurl's
    /// connect phase includes the greeting and the login, and servers delay
    /// a refused login (Dovecot: 2 s, more after repeated failures), so the
    /// connect timeout is not a TCP-only bound.
    public var connectTimeout: Double
    public var timeout: Double

    public init(host: String, port: Int, security: Security = .none, caFile: String? = nil,
                connectTimeout: Double = 10, timeout: Double = 30) {
        self.host = host
        self.port = port
        self.security = security
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    /// `host:port`, as errors and evidence name the server.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL libcurl is given (no credentials in it, ever).
    func url(_ scheme: String, path: String = "/") -> String {
        let s = security == .implicit ? scheme + "s" : scheme
        return "\(s)://\(description)\(path)"
    }
}

/// A login: a user name (for a Dovecot master login `USER*MASTER`) and its
/// password as a `Secret`, which prints as its reference.
public struct MailCredentials: Sendable, CustomStringConvertible {
    public var user: String
    public var password: Secret

    public init(user: String, password: Secret) {
        self.user = user
        self.password = password
    }

    /// A master login on behalf of `user`: Dovecot's `USER*MASTER`.
    public static func master(_ master: String, password: Secret, for user: String, separator: String = "*") -> MailCredentials {
        MailCredentials(user: user + separator + master, password: password)
    }

    public var description: String { "\(user) (password \(password.reference))" }
}
