/// Why a mail probe failed: the kind (what a gate decides on), the
/// protocol and server, and what the server or libcurl said. It never holds
/// a password: libcurl's messages name neither credentials nor the URL's
/// user part (there is none), and server replies are the server's.
public struct MailError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The server refused the login (wrong user or password, or the
        /// mechanism): LOGIN/AUTHENTICATE NO, POP3 -ERR on PASS, SMTP 535.
        case authenticationRefused = "authentication refused"
        /// Nothing listens there, the host is down or unreachable, or the
        /// connection closed before the exchange ended.
        case cannotConnect = "host down"
        /// No answer within the endpoint's timeout.
        case timeout
        /// TLS could not be set up (untrusted certificate, no STARTTLS).
        case tls
        /// The server refused a command: a recipient unknown, a mailbox
        /// that cannot be opened.
        case rejected
        /// The message looked for is not in the mailbox.
        case missingMessage = "missing message"
        /// An answer the probe could not understand, or any other failure.
        case protocolError = "protocol error"
    }

    public var kind: Kind
    /// `smtp`, `imap`, `pop3`.
    public var proto: String
    /// `host:port`.
    public var server: String
    public var message: String

    public init(_ kind: Kind, proto: String, server: String, message: String) {
        self.kind = kind
        self.proto = proto
        self.server = server
        self.message = message
    }

    public var description: String { "\(proto) \(server): \(kind.rawValue): \(message)" }
}
