// Watches the one TCP connection of an LDAPConnection through libldap's
// connection callbacks (LDAP_OPT_CONNECT_CB):
//
// - TLS handshakes get a deadline. libldap 2.5 with GnuTLS does not apply
//   LDAP_OPT_NETWORK_TIMEOUT to the handshake: against a server that
//   accepted the TCP connection but never answers (a stopped slapd), it
//   retries a non-blocking read in a loop, forever, at 100% CPU. When the
//   deadline passes the guard shuts the socket down, which ends the loop
//   with an error.
// - A second connection on the handle would be anonymous and, for
//   StartTLS, unencrypted (libldap would neither bind nor run StartTLS on
//   it). libldap 2.5 does not reconnect a dropped default connection by
//   itself (the tests check that a lost connection stays lost), but some
//   paths open connections on their own (referrals, which are off); the
//   guard refuses every connection after the first anyway, so nothing ever
//   runs with less security or another identity than the endpoint asked for.
// - It records whether TCP got through, which tells "cannot connect" from
//   a TLS failure on ldaps://.
internal import CLDAP
import Foundation

final class ConnectionGuard: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is read and written with
    // `lock` held; libldap calls `connected`/`closed` on the thread running
    // the operation, the deadline runs on a Dispatch queue.
    private let lock = NSLock()
    private var socket: Int32 = -1
    private var connections = 0
    private var deadlineGeneration = 0
    private var deadlineArmed = false
    private var deadlineFired = false

    /// The `ldap_conncb` handed to libldap; it points back at this guard
    /// (unretained: the LDAPConnection owns both and frees the struct after
    /// unbinding).
    let callbacks: UnsafeMutablePointer<ldap_conncb>

    init() {
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: ldap_conncb(lc_add: connectionAdded, lc_del: connectionClosed, lc_arg: nil))
        callbacks.pointee.lc_arg = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        callbacks.deinitialize(count: 1)
        callbacks.deallocate()
    }

    /// True once a TCP connection was made.
    var tcpConnected: Bool { lock.withLock { connections > 0 } }

    /// True when the deadline shut the socket down.
    var deadlineExpired: Bool { lock.withLock { deadlineFired } }

    /// Runs `body` (a TLS handshake, or a StartTLS exchange) with a deadline:
    /// when it has not returned after `seconds`, the socket is shut down.
    /// When no socket exists yet, the deadline applies from the moment TCP
    /// connects (see `connected`).
    func withDeadline<R>(_ seconds: Double, _ body: () -> R) -> R {
        lock.withLock {
            deadlineGeneration += 1
            deadlineArmed = true
            deadlineFired = false
            if socket >= 0 { schedule(seconds, generation: deadlineGeneration) }
            pendingSeconds = seconds
        }
        defer {
            lock.withLock {
                deadlineArmed = false
                deadlineGeneration += 1
            }
        }
        return body()
    }

    private var pendingSeconds: Double = 0

    /// Where deadlines fire: a serial queue of its own, which libdispatch
    /// serves from its overcommitting pool (a thread is made when none is
    /// free). The global concurrent queue has only as many threads as the
    /// machine has cores: when blocking work holds them all (a busy run, a
    /// test suite), a deadline on it fired a minute late while the
    /// handshake it was to end spun at 100% CPU.
    private static let deadlines = DispatchQueue(label: "relevo.ldap.connection-deadline")

    /// Must be called with `lock` held.
    private func schedule(_ seconds: Double, generation: Int) {
        Self.deadlines.asyncAfter(deadline: .now() + seconds) { [weak self] in
            self?.expire(generation)
        }
    }

    private func expire(_ generation: Int) {
        lock.withLock {
            guard deadlineArmed, generation == deadlineGeneration, socket >= 0 else { return }
            deadlineFired = true
            _ = shutdown(socket, Int32(SHUT_RDWR))
        }
    }

    /// libldap made a TCP connection on `fd`: accept the first, refuse any other.
    fileprivate func connected(_ fd: Int32) -> Int32 {
        lock.withLock {
            connections += 1
            guard connections == 1 else { return -1 }
            socket = fd
            if deadlineArmed { schedule(pendingSeconds, generation: deadlineGeneration) }
            return 0
        }
    }

    /// libldap is closing the connection (or, with no socket buffer, freeing the handle).
    fileprivate func closed() {
        lock.withLock { socket = -1 }
    }
}

private func guardian(_ context: UnsafeMutablePointer<ldap_conncb>?) -> ConnectionGuard? {
    guard let argument = context?.pointee.lc_arg else { return nil }
    return Unmanaged<ConnectionGuard>.fromOpaque(argument).takeUnretainedValue()
}

/// `lc_add`: called by libldap right after a TCP connection is made, before TLS.
private let connectionAdded: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<LDAPURLDesc>?,
                                             UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<ldap_conncb>?) -> Int32 = {
    _, socketBuffer, _, _, context in
    guard let guardian = guardian(context) else { return 0 }
    var fd: Int32 = -1
    if let socketBuffer { _ = ber_sockbuf_ctrl(socketBuffer, LBER_SB_OPT_GET_FD, &fd) }
    return guardian.connected(fd)
}

/// `lc_del`: called by libldap before it closes a connection.
private let connectionClosed: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<ldap_conncb>?) -> Void = {
    _, _, context in
    guardian(context)?.closed()
}
