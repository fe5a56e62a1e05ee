import RelevoBasics

/// Where and as whom to connect: one SSH server and the credentials for it.
///
/// A value; the passphrase is a `Secret`, so printing an endpoint never shows it.
public struct SSHEndpoint: Sendable, CustomStringConvertible {
    /// Host name or IP address (an IPv6 address without brackets).
    public var host: String
    /// TCP port (22 for the standard one).
    public var port: Int
    /// The remote user to authenticate as.
    public var user: String
    /// Path of the private key file (OpenSSH or PEM format; the public key is
    /// derived from it). `nil`: authenticate with the keys of the ssh-agent
    /// at `agentSocket`, or at `SSH_AUTH_SOCK` when that is nil too.
    public var identityFile: String?
    /// Passphrase of `identityFile`, if it is encrypted.
    public var passphrase: Secret?
    /// The ssh-agent socket to use when `identityFile` is nil; `nil` means
    /// the `SSH_AUTH_SOCK` environment variable.
    public var agentSocket: String?
    /// The OpenSSH known_hosts file the host key must be in. A missing file
    /// counts as empty (so every host is unknown).
    public var knownHostsFile: String
    /// Seconds to wait for the TCP connection, and for any answer from the
    /// server afterwards (handshake, authentication, each SFTP request, any
    /// sign of life while a command runs). A server that stays silent longer
    /// fails with `SSHError.timeout`. While a command runs, life is shown by
    /// keepalive replies, which libssh2 spaces 2 s or more apart, so there the
    /// limit is at least 3 s. Where libssh2 itself waits (the handshake,
    /// opening a channel) it counts whole seconds of `time(2)`, so its
    /// timeout may end up to a second early (seen: 1.0 s for 2 s).
    public var timeout: Double
    /// A name for messages (for example the plan's host name); defaults to
    /// `user@host:port`.
    public var name: String

    /// An endpoint; `name` defaults to `user@host:port`.
    public init(host: String, port: Int = 22, user: String, identityFile: String? = nil,
                passphrase: Secret? = nil, agentSocket: String? = nil, knownHostsFile: String,
                timeout: Double = 30, name: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.identityFile = identityFile
        self.passphrase = passphrase
        self.agentSocket = agentSocket
        self.knownHostsFile = knownHostsFile
        self.timeout = timeout
        self.name = name ?? "\(user)@\(SSHError.address(host, port))"
    }

    /// The display name (`name`).
    public var description: String { name }

    /// Splits `host:port`, `[v6addr]:port`, or a bare host (port 22).
    /// Returns nil for an empty host or a port outside 1...65535.
    public static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        var host = Substring(text)
        var port = 22
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            guard let value = Int(host[host.index(after: colon)...]) else { return nil }
            port = value
            host = host[..<colon]
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    /// The identity of the connection for `SSHPool`: everything that makes
    /// two endpoints need different sessions.
    var poolKey: String {
        [host, String(port), user, identityFile ?? "", passphrase?.reference ?? "", agentSocket ?? "",
         knownHostsFile].joined(separator: "\u{0}")
    }

    /// Milliseconds for libssh2_session_set_timeout (at least 1).
    var timeoutMilliseconds: Int {
        max(1, Int((timeout * 1000).rounded()))
    }
}
