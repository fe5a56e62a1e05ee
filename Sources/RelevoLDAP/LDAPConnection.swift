// The LDAP driver on libldap: see docs/architecture.md.
internal import CLDAP
import Foundation
import RelevoBasics
import RelevoDirectory

/// One connection to an LDAP server through libldap: it owns the `LDAP *`
/// handle and unbinds in `deinit`.
///
/// `init` connects (LDAPv3; TCP, and TLS for `ldaps://`), runs StartTLS when
/// the endpoint asks, and binds when it names a bind DN, so a connection
/// that exists is ready. Every failure is an `LDAPError` whose `kind` tells
/// a server that cannot be reached (or does not answer within the
/// endpoint's timeout) from a TLS failure, wrong credentials, a missing
/// entry and an existing one.
///
/// **Safety.** Searches take an `LDAPFilter` tree and operations take
/// `DistinguishedName`s and `Entry`s, so a value from data reaches the
/// server only through RelevoDirectory's escaping (RFC 4515 and RFC 4514);
/// there is no API taking a filter or DN string. The bind password is only
/// handed to libldap, never kept in an error or a description.
///
/// **Threads.** Calls are serialized by a lock, so a connection may be
/// shared between tasks; they then run one at a time. The callback of the
/// streaming `search` runs with the lock held and may use the same
/// connection (the lock is recursive), but not from another thread. Calls
/// block the calling thread (each wait is bounded by the endpoint's
/// timeout); async code running many at once should keep them off the
/// cooperative thread pool.
///
/// **One connection.** A connection that drops stays dropped: every later
/// call fails with `.cannotConnect`, and libldap is never allowed to open a
/// second connection on the handle, which would be anonymous and, with
/// StartTLS, unencrypted. Make a new `LDAPConnection` to continue.
///
/// **Signals.** Creating a connection sets `SIGPIPE` to be ignored in the
/// process (once): libldap writes to its sockets with `write(2)`, and a
/// server that goes away mid-request would otherwise kill the process
/// instead of failing the operation.
public final class LDAPConnection: @unchecked Sendable {
    // @unchecked Sendable: the only mutable state is the libldap handle, and
    // every use of it (including deinit's unbind, which runs when no other
    // reference exists) happens with `lock` held, so no two threads ever use
    // the handle at once. libldap handles are not safe for concurrent use.

    /// The endpoint this connection was made to.
    public let endpoint: LDAPEndpoint
    let handle: OpaquePointer
    let lock = NSRecursiveLock()
    /// Deadlines for TLS handshakes and no silent reconnection (see
    /// ConnectionGuard); released after the handle is unbound.
    private let guardian: ConnectionGuard

    /// Connects to `endpoint`: sets LDAPv3, the timeouts and the per-handle
    /// TLS options (CA file, certificate check, then a new TLS context)
    /// before connecting, connects, runs StartTLS when asked and binds when
    /// a bind DN is given.
    ///
    /// - Throws: `LDAPError` with kind `.cannotConnect` (nothing listening,
    ///   or no answer within the timeout), `.tls` (certificate not trusted,
    ///   handshake failed, StartTLS refused), `.invalidCredentials`, or
    ///   `.other` (a malformed URL, a bind DN without a password).
    public init(_ endpoint: LDAPEndpoint) throws(LDAPError) {
        Self.ignoreSIGPIPE
        self.endpoint = endpoint
        let guardian = ConnectionGuard()
        self.handle = try Self.open(endpoint, guardian)
        self.guardian = guardian
    }

    deinit {
        lock.lock()
        ldap_unbind_ext_s(handle, nil, nil)
        lock.unlock()
    }

    /// True when the connection is encrypted (ldaps, or StartTLS done).
    public var isEncrypted: Bool {
        locked { ldap_tls_inplace(handle) != 0 }
    }

    /// The authorization identity the server sees for this connection
    /// (RFC 4532 "Who am I?"): `dn:cn=Siteadmin,dc=mx`, or `""` when anonymous.
    public func whoAmI() throws(LDAPError) -> String {
        try locked { () throws(LDAPError) -> String in
            clearDiagnostics()
            var identity: UnsafeMutablePointer<berval>?
            let rc = ldap_whoami_s(handle, &identity, nil, nil)
            defer { if let identity { ber_bvfree(identity) } }
            guard rc == LDAP_SUCCESS else { throw failure(rc, .whoAmI) }
            return identity.map { String(decoding: bytes(of: $0.pointee), as: UTF8.self) } ?? ""
        }
    }

    // MARK: - Internals shared by the operations

    /// Runs `body` with the lock held.
    func locked<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Forgets the previous operation's diagnostic message and matched DN,
    /// so an error reports only what belongs to it.
    func clearDiagnostics() {
        ldap_set_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, nil)
        ldap_set_option(handle, LDAP_OPT_MATCHED_DN, nil)
    }

    /// The error for result code `rc` of `operation`, with the server's
    /// diagnostic message and matched DN as the handle holds them.
    func failure(_ rc: Int32, _ operation: LDAPOperation, dn: String? = nil,
                 kind: LDAPError.Kind? = nil, detail: String? = nil) -> LDAPError {
        let explanation: String? = if let detail { detail } else {
            switch rc {
            case LDAP_TIMEOUT: "no answer within \(Self.seconds(endpoint.timeout)) s; a write may still be applied"
            case LDAP_SERVER_DOWN: "the connection to the server is lost; connect again"
            default: nil
            }
        }
        return Self.failure(handle, rc, operation, url: endpoint.url, dn: dn, kind: kind, detail: explanation)
    }

    static func failure(_ handle: OpaquePointer, _ rc: Int32, _ operation: LDAPOperation, url: String,
                        dn: String? = nil, kind: LDAPError.Kind? = nil, detail: String? = nil) -> LDAPError {
        var message: UnsafeMutablePointer<CChar>?
        var matched: UnsafeMutablePointer<CChar>?
        ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message)
        ldap_get_option(handle, LDAP_OPT_MATCHED_DN, &matched)
        var diagnostic = takeLDAPString(message)
        // libldap's placeholder for "no message" says nothing.
        if diagnostic == "(unknown error code)" { diagnostic = nil }
        return LDAPError(kind: kind, code: LDAPResultCode(rc), operation: operation, dn: dn, url: url,
                         diagnosticMessage: diagnostic, matchedDN: takeLDAPString(matched), detail: detail)
    }

    /// An error for a request refused before anything was sent.
    func refused(_ operation: LDAPOperation, dn: String? = nil, _ detail: String) -> LDAPError {
        LDAPError(kind: .other, code: .paramError, operation: operation, dn: dn, url: endpoint.url, detail: detail)
    }

    /// The endpoint's timeout as a `timeval` (at least 1 ms).
    static func makeTimeval(seconds: Double) -> timeval {
        let clamped = max(seconds, 0.001)
        let whole = clamped.rounded(.down)
        return timeval(tv_sec: Int(whole), tv_usec: Int((clamped - whole) * 1_000_000))
    }

    private static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    // MARK: - Connecting

    /// Initializes, configures, connects, secures and binds a handle; on any
    /// failure it is unbound before the error is thrown.
    private static func open(_ endpoint: LDAPEndpoint, _ guardian: ConnectionGuard) throws(LDAPError) -> OpaquePointer {
        let url = endpoint.url
        func refuse(_ detail: String) -> LDAPError {
            LDAPError(kind: .other, code: .paramError, operation: .connect, url: url, detail: detail)
        }
        let lowered = url.lowercased()
        guard lowered.hasPrefix("ldap://") || lowered.hasPrefix("ldaps://") else {
            throw refuse("the URL must start with ldap:// or ldaps://")
        }
        guard !url.contains(" "), !url.contains(",") else { throw refuse("the endpoint takes one URL") }
        if endpoint.startTLS && endpoint.isLDAPS {
            throw refuse("StartTLS is for ldap:// URLs; ldaps:// is already TLS")
        }
        guard endpoint.timeout > 0, endpoint.timeout.isFinite else { throw refuse("the timeout must be positive") }
        if let bindDN = endpoint.bindDN {
            guard let password = endpoint.password, !password.isEmpty else {
                // An empty password would make an unauthenticated bind (RFC 4513
                // section 5.1.2): no error, and no authentication either.
                throw LDAPError(kind: .other, code: .paramError, operation: .bind, dn: bindDN, url: url,
                                detail: "a bind DN needs a non-empty password")
            }
            guard password.withBytes({ !$0.contains(0) }) else {
                throw LDAPError(kind: .other, code: .paramError, operation: .bind, dn: bindDN, url: url,
                                detail: "the password contains a NUL byte")
            }
        }

        var created: OpaquePointer?
        let rc = ldap_initialize(&created, url)
        guard rc == LDAP_SUCCESS, let handle = created else {
            throw LDAPError(kind: .other, code: LDAPResultCode(rc), operation: .connect, url: url,
                            detail: "libldap refused the URL")
        }
        do {
            try configure(handle, endpoint, guardian)
            try connect(handle, endpoint, guardian)
            if endpoint.startTLS { try startTLS(handle, endpoint, guardian) }
            if let bindDN = endpoint.bindDN, let password = endpoint.password {
                try bind(handle, endpoint, dn: bindDN, password: password)
            }
        } catch {
            ldap_unbind_ext_s(handle, nil, nil)
            throw error
        }
        return handle
    }

    /// Options, all per handle and all before the first connection.
    private static func configure(_ handle: OpaquePointer, _ endpoint: LDAPEndpoint,
                                  _ guardian: ConnectionGuard) throws(LDAPError) {
        func check(_ rc: Int32, _ what: String, kind: LDAPError.Kind = .other) throws(LDAPError) {
            guard rc == LDAP_OPT_SUCCESS else {
                throw failure(handle, rc == LDAP_OPT_ERROR ? LDAPResultCode.localError.rawValue : rc, .connect,
                              url: endpoint.url, kind: kind, detail: "cannot set \(what)")
            }
        }
        var version = LDAP_VERSION3
        try check(ldap_set_option(handle, LDAP_OPT_PROTOCOL_VERSION, &version), "LDAPv3")
        // Referrals are not chased: chasing would send requests (and, for
        // libldap, anonymous binds) to servers the endpoint did not name.
        try check(ldap_set_option(handle, LDAP_OPT_REFERRALS, nil), "no referrals")
        // Restart system calls a signal interrupted, instead of failing with serverDown.
        var on: Int32 = 1
        try check(ldap_set_option(handle, LDAP_OPT_RESTART, &on), "restart")
        var network = makeTimeval(seconds: endpoint.timeout)
        try check(ldap_set_option(handle, LDAP_OPT_NETWORK_TIMEOUT, &network), "the network timeout")
        var operation = makeTimeval(seconds: endpoint.timeout)
        try check(ldap_set_option(handle, LDAP_OPT_TIMEOUT, &operation), "the operation timeout")
        try check(ldap_set_option(handle, LDAP_OPT_CONNECT_CB, guardian.callbacks), "the connection callbacks")

        guard endpoint.usesTLS else { return }
        if let caFile = endpoint.caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw LDAPError(kind: .tls, code: .paramError, operation: .connect, url: endpoint.url,
                                detail: "the CA file \(caFile) cannot be read")
            }
            try check(ldap_set_option(handle, LDAP_OPT_X_TLS_CACERTFILE, caFile), "the CA file \(caFile)", kind: .tls)
        }
        var requirement: Int32 = switch endpoint.certificateCheck {
        case .demand: LDAP_OPT_X_TLS_DEMAND
        case .allow: LDAP_OPT_X_TLS_ALLOW
        case .never: LDAP_OPT_X_TLS_NEVER
        }
        try check(ldap_set_option(handle, LDAP_OPT_X_TLS_REQUIRE_CERT, &requirement), "the certificate check", kind: .tls)
        // A new TLS context for this handle, built from the options above
        // (0: a client context).
        var isServer: Int32 = 0
        try check(ldap_set_option(handle, LDAP_OPT_X_TLS_NEWCTX, &isServer),
                  "a TLS context (CA file \(endpoint.caFile ?? "default"))", kind: .tls)
    }

    /// Opens the connection now (libldap would otherwise wait for the first
    /// request), so "cannot connect" and TLS failures of `ldaps://` show here.
    private static func connect(_ handle: OpaquePointer, _ endpoint: LDAPEndpoint,
                                _ guardian: ConnectionGuard) throws(LDAPError) {
        // The deadline starts when TCP connects; the TCP connect itself is
        // bounded by LDAP_OPT_NETWORK_TIMEOUT.
        let rc = guardian.withDeadline(endpoint.timeout) { ldap_connect(handle) }
        if guardian.deadlineExpired {
            throw failure(handle, rc == LDAP_SUCCESS ? LDAP_TIMEOUT : rc, .connect, url: endpoint.url,
                          kind: .cannotConnect,
                          detail: "connected to \(endpoint.url) but no TLS answer within \(seconds(endpoint.timeout)) s")
        }
        guard rc != LDAP_SUCCESS else { return }
        if rc == LDAP_TIMEOUT {
            throw failure(handle, rc, .connect, url: endpoint.url, kind: .cannotConnect,
                          detail: "no answer from \(endpoint.url) within \(seconds(endpoint.timeout)) s")
        }
        if endpoint.isLDAPS && guardian.tcpConnected {
            // TCP got through but the ldaps connection did not: TLS failed.
            throw failure(handle, rc, .connect, url: endpoint.url, kind: .tls,
                          detail: "TLS handshake with \(endpoint.url) failed: " + tlsHint(endpoint))
        }
        throw failure(handle, rc, .connect, url: endpoint.url, kind: .cannotConnect,
                      detail: "cannot connect to \(endpoint.url): is the server running?")
    }

    private static func startTLS(_ handle: OpaquePointer, _ endpoint: LDAPEndpoint,
                                 _ guardian: ConnectionGuard) throws(LDAPError) {
        // The StartTLS request waits at most the operation timeout; the
        // handshake after it gets the rest of twice that.
        let rc = guardian.withDeadline(2 * endpoint.timeout) { ldap_start_tls_s(handle, nil, nil) }
        if guardian.deadlineExpired || rc == LDAP_TIMEOUT {
            throw failure(handle, rc == LDAP_SUCCESS ? LDAP_TIMEOUT : rc, .startTLS, url: endpoint.url,
                          kind: .cannotConnect, detail: "no answer within \(seconds(endpoint.timeout)) s")
        }
        guard rc != LDAP_SUCCESS else {
            guard ldap_tls_inplace(handle) != 0 else {
                throw failure(handle, LDAPResultCode.localError.rawValue, .startTLS, url: endpoint.url,
                              kind: .tls, detail: "StartTLS succeeded but the connection is not encrypted")
            }
            return
        }
        if rc < 0 {
            throw failure(handle, rc, .startTLS, url: endpoint.url, kind: .tls,
                          detail: "TLS handshake after StartTLS with \(endpoint.url) failed: " + tlsHint(endpoint))
        }
        throw failure(handle, rc, .startTLS, url: endpoint.url, kind: .tls,
                      detail: "the server at \(endpoint.url) refused StartTLS; not falling back to plain LDAP")
    }

    private static func bind(_ handle: OpaquePointer, _ endpoint: LDAPEndpoint, dn: String,
                             password: Secret) throws(LDAPError) {
        ldap_set_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, nil)
        ldap_set_option(handle, LDAP_OPT_MATCHED_DN, nil)
        let rc = password.withCString { secret -> Int32 in
            var credentials = berval(bv_len: ber_len_t(strlen(secret)), bv_val: UnsafeMutablePointer(mutating: secret))
            // The mechanism LDAP_SASL_SIMPLE is a NULL pointer.
            return ldap_sasl_bind_s(handle, dn, nil, &credentials, nil, nil, nil)
        }
        guard rc == LDAP_SUCCESS else {
            let detail: String? = switch rc {
            case LDAP_INVALID_CREDENTIALS: "wrong bind DN or password (\(password.reference))"
            case LDAP_TIMEOUT: "no answer within \(seconds(endpoint.timeout)) s"
            default: nil
            }
            throw failure(handle, rc, .bind, url: endpoint.url, dn: dn, detail: detail)
        }
    }

    private static func tlsHint(_ endpoint: LDAPEndpoint) -> String {
        let ca = endpoint.caFile.map { "the CA file \($0)" } ?? "the default CA certificates"
        return "the server's certificate is not trusted by \(ca) or does not name the host, "
            + "or TLS could not be negotiated (certificate check: \(endpoint.certificateCheck.rawValue))"
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
