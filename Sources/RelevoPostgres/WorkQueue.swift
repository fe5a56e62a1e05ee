// The work queue over a PostgreSQL journal: sets claimed under leases.
import Foundation
import RelevoEngine
import RelevoPlan

/// A worker's side of the queue (docs/scale.md). One row per claimed set in
/// `leases` (owner, hosts, expiry by the server's clock); one row per worker
/// in `workers`. All on the worker's journal connection, in the journal's
/// lock, each call one transaction.
///
/// **Claim.** In one transaction: a queue-wide advisory lock (claims are
/// serialized, so the per-host counts below are exact), then the first set
/// of the phase, in member order, that is pending or running (a running set
/// whose lease expired lost its worker) and has no live lease, locked with
/// `FOR UPDATE SKIP LOCKED`; then the lease is written with an upsert whose
/// update applies only to an expired or released lease. A claim is refused
/// while a host the phase uses has as many live leases as its `concurrency`,
/// or the phase as many as its own; a canary set is claimed alone, and no
/// other set before every canary has finished.
///
/// **Lease.** `renew` pushes the expiry while the set runs; a lease not
/// renewed expires and the set becomes claimable again. Every journal write
/// of a worker checks its lease in its own transaction (`PostgresJournal`,
/// `.worker`), so a worker that lost its lease stops before its next step.
public final class WorkQueue: @unchecked Sendable {
    public let journal: PostgresJournal
    public let owner: String
    public let leaseSeconds: Double

    public init(journal: PostgresJournal, owner: String, leaseSeconds: Double) {
        self.journal = journal
        self.owner = owner
        self.leaseSeconds = leaseSeconds
    }

    /// A set this worker now holds.
    public struct Claim: Sendable, Equatable {
        public var phase: String
        public var set: String
        /// 1, or more when the set was taken over after a lease expired.
        public var claims: Int
    }

    /// Records this worker (again, after a restart under the same name).
    public func register() throws {
        try journal.withConnection { db in
            try db.exec("""
                INSERT INTO workers (owner, started_at, seen_at) VALUES ($1, clock_timestamp(), clock_timestamp())
                ON CONFLICT (owner) DO UPDATE SET started_at = clock_timestamp(), seen_at = clock_timestamp(),
                    sets_done = 0, sets_failed = 0, state = 'working'
                """, [.text(owner)])
        }
    }

    /// Its last sign of life, and what it is doing.
    public func heartbeat(state: String = "working") throws {
        try journal.withConnection { db in
            try db.exec("UPDATE workers SET seen_at = clock_timestamp(), state = $2 WHERE owner = $1", [.text(owner), .text(state)])
        }
    }

    /// Claims a set of `phase`, or returns nil when none may be claimed now.
    /// `hosts`: the phase's hosts and their limits (`Engine.hostLimits`);
    /// `phaseLimit`: its concurrency; `canary`: its canary count.
    public func claim(phase: String, hosts: [String: Int], phaseLimit: Int, canary: Int) throws -> Claim? {
        let hostList = hosts.keys.sorted().joined(separator: ",")
        return try journal.withConnection { db in
            try db.transaction {
                try db.exec("SELECT pg_advisory_xact_lock($1, hashtext($2))",
                            [.int(Int64(PostgresJournal.lockClass)), .text(journal.location.schema + ":claims")])
                let live = "expires_at > clock_timestamp() AND NOT released"
                let inPhase = try db.exec("SELECT count(*) FROM leases WHERE phase = $1 AND \(live)", [.text(phase)])
                    .first?.int64(0) ?? 0
                guard inPhase < phaseLimit else { return nil }
                for (host, limit) in hosts where limit < Int.max {
                    let busy = try db.exec("""
                        SELECT count(*) FROM leases WHERE \(live) AND ',' || hosts || ',' LIKE '%,' || $1 || ',%'
                        """, [.text(host)]).first?.int64(0) ?? 0
                    if busy >= limit { return nil }
                }
                // Canaries: the first `canary` members run alone, before the others.
                if canary > 0 {
                    let canaries = try db.exec("""
                        SELECT set_key, state FROM sets WHERE phase = $1 AND set_key <> '' AND state <> 'skipped'
                        ORDER BY id LIMIT $2
                        """, [.text(phase), .int(Int64(canary))])
                    if let open = canaries.first(where: { ["pending", "running"].contains($0.string(1) ?? "") }) {
                        guard inPhase == 0, let key = open.string(0) else { return nil }
                        return try lease(db, phase: phase, set: key, hosts: hostList, onlyIf: true)
                    }
                }
                let candidates = try db.exec("""
                    SELECT s.set_key FROM sets s
                    WHERE s.phase = $1 AND s.set_key <> '' AND s.state IN ('pending', 'running')
                      AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.phase = s.phase AND l.set_key = s.set_key
                                      AND l.expires_at > clock_timestamp() AND NOT l.released)
                    ORDER BY s.id
                    LIMIT 8
                    FOR UPDATE OF s SKIP LOCKED
                    """, [.text(phase)])
                for row in candidates {
                    guard let key = row.string(0) else { continue }
                    if let claim = try lease(db, phase: phase, set: key, hosts: hostList, onlyIf: true) { return claim }
                }
                return nil
            }
        }
    }

    /// Writes the lease unless another worker holds a live one (the upsert
    /// re-reads the latest lease row, whatever this statement's snapshot).
    private func lease(_ db: PGConnection, phase: String, set: String, hosts: String, onlyIf: Bool) throws -> Claim? {
        let rows = try db.exec("""
            INSERT INTO leases (phase, set_key, owner, hosts, claimed_at, expires_at)
            VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp() + make_interval(secs => $5))
            ON CONFLICT (phase, set_key) DO UPDATE
            SET owner = excluded.owner, hosts = excluded.hosts, claimed_at = excluded.claimed_at,
                expires_at = excluded.expires_at, claims = leases.claims + 1, released = false
            WHERE leases.expires_at <= clock_timestamp() OR leases.released
            RETURNING claims
            """, [.text(phase), .text(set), .text(owner), .text(hosts), .double(leaseSeconds)])
        guard let row = rows.first else { return nil }
        return Claim(phase: phase, set: set, claims: Int(row.int64(0)))
    }

    /// Pushes the lease's expiry; false when it is no longer this worker's
    /// (expired and taken over, or already expired: then it is not renewed).
    public func renew(_ claim: Claim) throws -> Bool {
        try journal.withConnection { db in
            let rows = try db.exec("""
                UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => $4)
                WHERE phase = $1 AND set_key = $2 AND owner = $3 AND NOT released AND expires_at > clock_timestamp()
                RETURNING 1
                """, [.text(claim.phase), .text(claim.set), .text(owner), .double(leaseSeconds)])
            try db.exec("UPDATE workers SET seen_at = clock_timestamp() WHERE owner = $1", [.text(owner)])
            return !rows.isEmpty
        }
    }

    /// The set finished here: its lease is released and the worker's counts move.
    public func release(_ claim: Claim, state: SetState) throws {
        try journal.withConnection { db in
            try db.transaction {
                try db.exec("UPDATE leases SET released = true WHERE phase = $1 AND set_key = $2 AND owner = $3",
                            [.text(claim.phase), .text(claim.set), .text(owner)])
                let column = state == .migrated ? "sets_done" : "sets_failed"
                try db.exec("UPDATE workers SET \(column) = \(column) + 1, seen_at = clock_timestamp() WHERE owner = $1",
                            [.text(owner)])
            }
        }
    }

    /// Per phase: whether its member list exists, and how many of its sets are not finished.
    public func progress(phase: String) throws -> (listed: Bool, unfinished: Int) {
        try journal.withConnection { db in
            let row = try db.exec("""
                SELECT count(*), count(*) FILTER (WHERE state IN ('pending', 'running'))
                FROM sets WHERE phase = $1 AND set_key <> ''
                """, [.text(phase)]).first
            return (listed: (row?.int64(0) ?? 0) > 0, unfinished: Int(row?.int64(1) ?? 0))
        }
    }

    /// Whether a controller holds the run lock now.
    public func controllerPresent() throws -> Bool {
        try journal.withConnection { db in try PostgresJournal.lockHolder(db, schema: journal.location.schema) != nil }
    }
}

/// The controller's side: waits for workers to finish a phase's sets.
public struct WorkQueueDispatch: SetDispatch {
    public let journal: PostgresJournal
    public let poll: Duration
    /// Called while waiting, with the count of sets not finished yet.
    public let progress: @Sendable (String, Int) -> Void

    public init(journal: PostgresJournal, poll: Duration = .milliseconds(250),
                progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) {
        self.journal = journal
        self.poll = poll
        self.progress = progress
    }

    public func waitForSets(phase: Phase, sets: [String], mustStop: @escaping @Sendable () async throws -> Bool) async throws
        -> [String: SetState] {
        let wanted = Set(sets)
        var last = -1
        while true {
            // Over budget: no worker claims more (they check it too); once
            // the sets in flight are done, the phase stops here.
            if try await mustStop(), try liveLeases(phase: phase.name.name) == 0 {
                return Dictionary(try journal.setStates(phase: phase.name.name).compactMap { row in
                    row.set.flatMap { wanted.contains($0) ? ($0, row.state) : nil }
                }, uniquingKeysWith: { a, _ in a })
            }
            let states = Dictionary(try journal.setStates(phase: phase.name.name).compactMap { row in
                row.set.flatMap { wanted.contains($0) ? ($0, row.state) : nil }
            }, uniquingKeysWith: { a, _ in a })
            let open = wanted.filter { [.pending, .running].contains(states[$0] ?? .pending) }.count
            if open != last {
                progress(phase.name.name, open)
                last = open
            }
            if open == 0 { return states }
            try await Task.sleep(for: poll)
        }
    }

    private func liveLeases(phase: String) throws -> Int64 {
        try journal.withConnection { db in
            try db.exec("SELECT count(*) FROM leases WHERE phase = $1 AND NOT released AND expires_at > clock_timestamp()",
                        [.text(phase)]).first?.int64(0) ?? 0
        }
    }
}
