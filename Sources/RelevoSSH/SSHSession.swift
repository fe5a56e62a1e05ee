// The SSH driver on libssh2: see docs/architecture.md.
//
// One SSHSession is one TCP connection and one libssh2 session. Everything
// that touches libssh2 for it (commands, SFTP, its file handles) goes through
// `withSession`, under the session's lock.
internal import CRelevoShim
internal import CSSH2
import Foundation
import RelevoBasics

/// libssh2's global initialization, done once per process before the first
/// session (a Swift global is initialized exactly once, thread-safely).
/// libssh2_exit is never called: sessions may live until the process ends.
private let libssh2Initialized: Int32 = libssh2_init(0)

/// An authenticated SSH connection to one endpoint.
///
/// `init(connecting:)` opens the TCP connection (within the endpoint's
/// timeout), does the SSH handshake, checks the server's host key against the
/// known_hosts file **before any authentication** (an unknown or changed key
/// fails with `SSHError.unknownHostKey` / `.hostKeyMismatch`, naming the
/// `SHA256:` fingerprint), and authenticates with the endpoint's private key
/// file or ssh-agent. The connection is closed and freed in `deinit` (or
/// earlier by `close()`).
///
/// Commands are argument vectors (`run(_:stdin:timeout:)`), never shell text.
/// `SFTPClient(session:)` opens SFTP over the same connection.
///
/// After a timeout or a broken connection the session closes itself: later
/// calls throw `SSHError.connectionLost`. `SSHPool` replaces such sessions.
public final class SSHSession: @unchecked Sendable {
    // @unchecked Sendable: libssh2 sessions are not thread-safe; every use of
    // `handle` and `socket`, and every change of `closedReason`, happens under
    // `lock` (see `withSession`), which makes the class safe to share.

    /// The endpoint this session is connected to.
    public let endpoint: SSHEndpoint
    /// The server's host key fingerprint, `SHA256:...` as OpenSSH prints it.
    public let hostKeyFingerprint: String
    /// The negotiated key exchange, host key and client-to-server cipher
    /// algorithms, e.g. `curve25519-sha256`, `ssh-ed25519`, `aes128-ctr`.
    public let algorithms: (keyExchange: String, hostKey: String, cipher: String)

    private let lock = NSLock()
    private var handle: OpaquePointer?
    private var changes = 0
    private var socket: Int32
    private var closedReason: String?
    /// The command agent of this connection (`runThroughAgent`); only
    /// while holding the lock.
    var agentState = AgentState.none
    /// The command that starts the agent (tests name a missing program).
    var agentCommand = ["perl", "-e", CommandAgent.program]
    enum AgentState {
        /// Not started (or stopped after a failure): the next use starts one.
        case none
        /// Running on this channel.
        case running(OpaquePointer)
        /// The host cannot run one: commands go one channel each.
        case unavailable
    }

    /// Connects, verifies the host key and authenticates; see the type's
    /// documentation for the errors.
    public init(connecting endpoint: SSHEndpoint) throws {
        precondition(libssh2Initialized == 0, "libssh2_init failed")
        self.endpoint = endpoint
        let host = endpoint.host, port = endpoint.port
        let fd = try TCP.connect(host: host, port: port, timeout: endpoint.timeout)
        guard let session = relevo_libssh2_session_init() else {
            TCP.closeSocket(fd)
            throw SSHError.library(operation: "session_init", code: LIBSSH2_ERROR_ALLOC, message: "out of memory")
        }
        var handshakeDone = false
        func abandon() {
            if handshakeDone { _ = relevo_libssh2_session_disconnect(session, "relevo: giving up") }
            libssh2_session_free(session)
            TCP.closeSocket(fd)
        }
        do {
            libssh2_session_set_blocking(session, 1)
            libssh2_session_set_timeout(session, endpoint.timeoutMilliseconds)
            let knownHosts = try KnownHosts(session: session, path: endpoint.knownHostsFile, host: host, port: port)
            let entryName = KnownHosts.entryName(host: host, port: port)
            try Self.setPreferences(session, knownKeyTypes: knownHosts.keyTypes(name: entryName))

            let rc = libssh2_session_handshake(session, fd)
            guard rc == 0 else {
                if rc == LIBSSH2_ERROR_TIMEOUT {
                    throw SSHError.timeout(host: host, port: port, operation: "SSH handshake")
                }
                throw SSHError.connectionFailed(host: host, port: port,
                                                reason: "SSH handshake failed: \(Self.lastError(session))")
            }
            handshakeDone = true

            // The host key, before anything is sent that depends on trusting it.
            var keyLength = 0
            var keyType: Int32 = 0
            guard let keyPointer = libssh2_session_hostkey(session, &keyLength, &keyType),
                  let hashPointer = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else {
                throw SSHError.connectionFailed(host: host, port: port, reason: "the server sent no host key")
            }
            let key = [UInt8](UnsafeRawBufferPointer(start: keyPointer, count: keyLength))
            let digest = [UInt8](UnsafeRawBufferPointer(start: hashPointer, count: 32))
            let fingerprint = SSHFingerprint.sha256(digest: digest)
            switch try knownHosts.check(name: entryName, key: key, keyType: keyType) {
            case .match: break
            case .mismatch: throw SSHError.hostKeyMismatch(host: host, port: port, fingerprint: fingerprint)
            case .notFound: throw SSHError.unknownHostKey(host: host, port: port, fingerprint: fingerprint)
            }
            self.hostKeyFingerprint = fingerprint
            self.algorithms = (Self.method(session, LIBSSH2_METHOD_KEX), Self.method(session, LIBSSH2_METHOD_HOSTKEY),
                               Self.method(session, LIBSSH2_METHOD_CRYPT_CS))

            try Self.authenticate(session, endpoint)
            // Keepalives (with a reply requested) are what lets a silent but
            // running command be told apart from a dead server; see run().
            // libssh2 counts the interval in whole seconds and makes 1 into 2.
            libssh2_keepalive_config(session, 1, UInt32(max(2, Int(endpoint.timeout / 4))))
        } catch {
            abandon()
            throw error
        }
        self.handle = session
        self.socket = fd
    }

    deinit {
        closeLocked(graceful: true, reason: "session closed")
    }

    /// Disconnects and frees the session now (otherwise `deinit` does).
    /// Later calls on it, and on SFTP clients made from it, throw
    /// `SSHError.connectionLost`.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        closeLocked(graceful: true, reason: "session closed")
    }

    /// False once the session was closed (explicitly, or after a timeout or
    /// lost connection), or when the server has closed the TCP connection
    /// since the last call (checked without sending anything).
    public var isUsable: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard handle != nil else { return false }
        if TCP.peerClosed(socket) {
            closeLocked(graceful: false, reason: "the server closed the connection")
            return false
        }
        return true
    }

    // MARK: - Internal access for commands and SFTP

    /// Runs `body` with the libssh2 session, under the lock. Throws
    /// `connectionLost` when the session is closed.
    ///
    /// `changing`: whether the request may change anything on the host (a
    /// command, an SFTP write); counted in `changeRequests`.
    func withSession<R>(changing: Bool = true, _ body: (OpaquePointer) throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else {
            throw SSHError.connectionLost(host: endpoint.host, port: endpoint.port,
                                          reason: closedReason ?? "session closed")
        }
        if changing { changes &+= 1 }
        return try body(handle)
    }

    /// How many requests that may change the host (every command, every
    /// SFTP request but those that only read) this session has made so far:
    /// what was read from the host before is as current as a new read
    /// while this has not changed, as far as this connection is concerned.
    public var changeRequests: Int {
        lock.lock()
        defer { lock.unlock() }
        return changes
    }

    /// Runs `body` only if the session is still open (for cleanup in deinit).
    func ifOpen(_ body: (OpaquePointer) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if let handle { body(handle) }
    }

    /// `body` with the libssh2 session if it is open; only while holding the lock.
    func ifOpenLocked<R>(_ body: (OpaquePointer) -> R) -> R? { handle.map(body) }

    /// The socket, for waiting on it; only while holding the lock.
    var socketLocked: Int32 { socket }

    /// Whether the session is still open; only while holding the lock.
    var isOpenLocked: Bool { handle != nil }

    /// The error for a failed libssh2 call `rc` (< 0) during `operation`.
    /// Timeouts and transport failures close the session (its state inside
    /// libssh2 is unknown afterwards). Call with the lock held.
    func failureLocked(_ rc: Int, _ operation: String) -> SSHError {
        guard let handle else {
            return .connectionLost(host: endpoint.host, port: endpoint.port, reason: closedReason ?? "session closed")
        }
        let message = Self.lastError(handle)
        switch Int32(clamping: rc) {
        case LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_SOCKET_TIMEOUT:
            closeLocked(graceful: false, reason: "closed after a timeout (\(operation))")
            return .timeout(host: endpoint.host, port: endpoint.port, operation: operation)
        case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND,
             LIBSSH2_ERROR_BAD_SOCKET, LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_PROTO, LIBSSH2_ERROR_DECRYPT,
             LIBSSH2_ERROR_INVALID_MAC, LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE,
             LIBSSH2_ERROR_ENCRYPT, LIBSSH2_ERROR_ZLIB, LIBSSH2_ERROR_COMPRESS:
            closeLocked(graceful: false, reason: message)
            return .connectionLost(host: endpoint.host, port: endpoint.port, reason: "\(operation): \(message)")
        default:
            return .library(operation: operation, code: Int32(clamping: rc), message: message)
        }
    }

    /// A transport-level failure found by this driver itself (a poll error,
    /// a timeout while waiting): closes the session and returns the error.
    func closeLocked(after error: SSHError) -> SSHError {
        closeLocked(graceful: false, reason: error.description)
        return error
    }

    /// Frees the session. `graceful`: send SSH_MSG_DISCONNECT first (bounded
    /// by the session timeout); otherwise the socket is shut down first so
    /// that libssh2's cleanup cannot wait for a server that does not answer.
    private func closeLocked(graceful: Bool, reason: String) {
        guard let session = handle else { return }
        handle = nil
        closedReason = reason
        agentState = .none  // its channel goes with the session
        if graceful {
            libssh2_session_set_blocking(session, 1)
            _ = relevo_libssh2_session_disconnect(session, "relevo: done")
        } else {
            shutdown(socket, Int32(SHUT_RDWR))
        }
        libssh2_session_free(session)
        TCP.closeSocket(socket)
        socket = -1
    }

    // MARK: - Connecting

    /// Preferred key exchanges: curve25519 first (about 100 ms cheaper per
    /// connection than the post-quantum default of OpenSSH 9), then ECDH and
    /// the strong finite-field groups; whatever else libssh2 supports comes
    /// last, for old servers.
    private static let keyExchangePreference = [
        "curve25519-sha256", "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
        "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
    ]

    /// Host key algorithms in OpenSSH's order; those of the key types
    /// known_hosts has for the host move to the front, so that the server
    /// shows the key the file can vouch for.
    private static let hostKeyPreference = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-dss",
    ]

    /// Ciphers: AES-CTR (hardware AES) first; libssh2 1.10 has no AES-GCM
    /// or chacha20-poly1305.
    private static let cipherPreference = ["aes128-ctr", "aes256-ctr", "aes192-ctr"]

    private static func setPreferences(_ session: OpaquePointer, knownKeyTypes: [Int32]) throws {
        let known = knownKeyTypes.flatMap(KnownHosts.algorithms(forKnownHostKeyMask:))
        let hostKeys = known + hostKeyPreference.filter { !known.contains($0) }
        try prefer(session, LIBSSH2_METHOD_KEX, keyExchangePreference)
        try prefer(session, LIBSSH2_METHOD_HOSTKEY, hostKeys)
        try prefer(session, LIBSSH2_METHOD_CRYPT_CS, cipherPreference)
        try prefer(session, LIBSSH2_METHOD_CRYPT_SC, cipherPreference)
    }

    /// Sets `preferred` (those libssh2 supports) followed by the rest of what
    /// it supports, in its own order.
    private static func prefer(_ session: OpaquePointer, _ method: Int32, _ preferred: [String]) throws {
        var list: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, method, &list)
        guard count > 0, let list else { return }
        defer { libssh2_free(session, list) }
        let supported = (0..<Int(count)).compactMap { list[$0].map { String(cString: $0) } }
        let ordered = preferred.filter(supported.contains) + supported.filter { !preferred.contains($0) }
        let rc = libssh2_session_method_pref(session, method, ordered.joined(separator: ","))
        if rc != 0 {
            throw SSHError.library(operation: "session_method_pref", code: rc, message: lastError(session))
        }
    }

    private static func method(_ session: OpaquePointer, _ type: Int32) -> String {
        libssh2_session_methods(session, type).map { String(cString: $0) } ?? "?"
    }

    private static func authenticate(_ session: OpaquePointer, _ endpoint: SSHEndpoint) throws {
        let user = endpoint.user
        func failed(_ reason: String) -> SSHError {
            .authenticationFailed(user: user, host: endpoint.host, port: endpoint.port, reason: reason)
        }
        func transport(_ rc: Int32) -> SSHError? {
            switch rc {
            case LIBSSH2_ERROR_TIMEOUT:
                return .timeout(host: endpoint.host, port: endpoint.port, operation: "authentication")
            case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND:
                return .connectionLost(host: endpoint.host, port: endpoint.port,
                                       reason: "during authentication: \(lastError(session))")
            default:
                return nil
            }
        }
        let userLength = UInt32(user.utf8.count)

        if let identityFile = endpoint.identityFile {
            guard access(identityFile, R_OK) == 0 else {
                throw failed("cannot read the private key file \(identityFile): \(TCP.errnoText())")
            }
            let rc: Int32
            if let passphrase = endpoint.passphrase {
                rc = passphrase.withCString {
                    libssh2_userauth_publickey_fromfile_ex(session, user, userLength, nil, identityFile, $0)
                }
            } else {
                rc = libssh2_userauth_publickey_fromfile_ex(session, user, userLength, nil, identityFile, nil)
            }
            if rc == 0, libssh2_userauth_authenticated(session) == 1 { return }
            if let error = transport(rc) { throw error }
            switch rc {
            case LIBSSH2_ERROR_FILE:
                throw failed("cannot use the private key \(identityFile) (unsupported format, or a missing "
                             + "or wrong passphrase): \(lastError(session))")
            case LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
                throw failed("the server did not accept the key \(identityFile)")
            default:
                throw failed("\(lastError(session)) (\(rc))")
            }
        }

        // ssh-agent.
        guard let agent = libssh2_agent_init(session) else {
            throw failed("cannot initialize the ssh-agent client")
        }
        defer { libssh2_agent_free(agent) }
        let socketPath = endpoint.agentSocket ?? ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
        guard let socketPath, !socketPath.isEmpty else {
            throw failed("no identity file given and SSH_AUTH_SOCK is not set (no ssh-agent)")
        }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else {
            throw failed("cannot connect to the ssh-agent at \(socketPath): \(lastError(session))")
        }
        defer { _ = libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else {
            throw failed("the ssh-agent at \(socketPath) did not list its keys: \(lastError(session))")
        }
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried = 0
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            tried += 1
            let rc = libssh2_agent_userauth(agent, user, current)
            if rc == 0, libssh2_userauth_authenticated(session) == 1 { return }
            if let error = transport(rc) { throw error }
            previous = current
        }
        throw failed(tried == 0 ? "the ssh-agent at \(socketPath) has no keys"
                                : "the server accepted none of the \(tried) keys of the ssh-agent at \(socketPath)")
    }

    static func lastError(_ session: OpaquePointer) -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        _ = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "unknown error" }
        return String(decoding: UnsafeRawBufferPointer(start: message, count: Int(length)), as: UTF8.self)
    }
}
