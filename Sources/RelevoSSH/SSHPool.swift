// One reusable connection per endpoint: a migration runs thousands of
// commands per host, and a new connection costs 150-250 ms.
import Foundation

/// Sessions shared across calls: one `SSHSession` (and at most one
/// `SFTPClient` on it) per endpoint, opened on first use and reused.
///
/// Before handing out a session the pool checks, without sending anything,
/// that it is still open; a closed one (server gone, an earlier timeout) is
/// replaced by a new connection. `run` additionally retries once on a fresh
/// connection when the connection turns out to be lost before the server
/// accepted the command, so a command never runs twice.
///
/// Thread-safe: callers for different endpoints proceed in parallel;
/// callers for the same endpoint share its one connection (and so take
/// turns). Endpoints are the same when host, port, user, identity file,
/// passphrase reference, agent socket and known_hosts file are.
public final class SSHPool: @unchecked Sendable {
    // @unchecked Sendable: `slots` and `opened` are guarded by `lock`; each
    // slot's contents by the slot's own lock (held while connecting, so two
    // callers never open two connections for one endpoint).

    private final class Slot {
        let lock = NSLock()
        var session: SSHSession?
        var sftp: SFTPClient?
    }

    private let lock = NSLock()
    private var slots: [String: Slot] = [:]
    private var opened = 0

    /// An empty pool.
    public init() {}

    /// How many connections the pool has opened so far (reconnections included).
    public var connectionsOpened: Int {
        lock.lock()
        defer { lock.unlock() }
        return opened
    }

    /// The open session for `endpoint`, connecting when there is none or the
    /// previous one is no longer usable.
    public func session(for endpoint: SSHEndpoint) throws -> SSHSession {
        let slot = self.slot(endpoint)
        slot.lock.lock()
        defer { slot.lock.unlock() }
        return try usableSession(slot, endpoint)
    }

    /// The SFTP client on the session for `endpoint` (created once per session).
    public func sftp(for endpoint: SSHEndpoint) throws -> SFTPClient {
        let slot = self.slot(endpoint)
        slot.lock.lock()
        defer { slot.lock.unlock() }
        let session = try usableSession(slot, endpoint)
        if let sftp = slot.sftp, sftp.session === session { return sftp }
        let sftp = try SFTPClient(session: session)
        slot.sftp = sftp
        return sftp
    }

    /// Runs `argv` on `endpoint` (see `SSHSession.run`), on the pooled
    /// session; reconnects and retries once if the connection was found
    /// lost before the command started.
    public func run(_ argv: [String], on endpoint: SSHEndpoint, stdin: [UInt8]? = nil,
                    timeout: Double? = nil) throws -> CommandResult {
        var attempt = 0
        while true {
            attempt += 1
            let session = try self.session(for: endpoint)
            var started = false
            var output: [UInt8] = []
            do {
                var result = try session.execute(argv, stdin: stdin, timeout: timeout, stderrLimit: Int.max,
                                                 started: &started) { output.append(contentsOf: $0) }
                result.stdout = output
                return result
            } catch SSHError.connectionLost(let host, let port, let reason) where !started && attempt == 1 {
                _ = (host, port, reason)  // the session closed itself; the next session(for:) reconnects
                continue
            }
        }
    }

    /// Closes and forgets the session for `endpoint`, if any.
    public func close(_ endpoint: SSHEndpoint) {
        lock.lock()
        let slot = slots.removeValue(forKey: endpoint.poolKey)
        lock.unlock()
        guard let slot else { return }
        slot.lock.lock()
        defer { slot.lock.unlock() }
        slot.sftp = nil
        slot.session?.close()
        slot.session = nil
    }

    /// Closes every session.
    public func closeAll() {
        lock.lock()
        let all = Array(slots.values)
        slots.removeAll()
        lock.unlock()
        for slot in all {
            slot.lock.lock()
            slot.sftp = nil
            slot.session?.close()
            slot.session = nil
            slot.lock.unlock()
        }
    }

    private func slot(_ endpoint: SSHEndpoint) -> Slot {
        lock.lock()
        defer { lock.unlock() }
        if let slot = slots[endpoint.poolKey] { return slot }
        let slot = Slot()
        slots[endpoint.poolKey] = slot
        return slot
    }

    /// Under `slot.lock`.
    private func usableSession(_ slot: Slot, _ endpoint: SSHEndpoint) throws -> SSHSession {
        if let session = slot.session, session.isUsable { return session }
        slot.sftp = nil
        slot.session = nil
        let session = try SSHSession(connecting: endpoint)
        lock.lock()
        opened += 1
        lock.unlock()
        slot.session = session
        return session
    }
}
