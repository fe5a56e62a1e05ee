// `relevo status` and `relevo render` over a PostgreSQL journal: the run's
// rows read on a connection of their own, without the run lock.
import Foundation
import RelevoEngine
import RelevoJournal

/// The work queue of a run: its workers and their leases.
public struct WorkQueueSnapshot: Sendable {
    public struct Worker: Sendable {
        public var owner: String
        public var startedAt: Date
        public var seenAt: Date
        public var setsDone: Int
        public var setsFailed: Int
        public var state: String
        /// Seconds since its last sign of life (by the server's clock).
        public var silentFor: Double
        /// Sets finished per second between its start and its last sign of life.
        public var setsPerSecond: Double {
            let span = seenAt.timeIntervalSince(startedAt)
            return span > 0 ? Double(setsDone + setsFailed) / span : 0
        }
    }

    public struct Lease: Sendable {
        public var phase: String
        public var set: String
        public var owner: String
        public var hosts: [String]
        /// Seconds left (negative: expired, claimable again).
        public var expiresIn: Double
        /// 1, or more when it was taken over after an expiry.
        public var claims: Int
        public var released: Bool
    }

    public var workers: [Worker]
    /// Leases not released (held, or expired and not yet taken over).
    public var leases: [Lease]
}

public enum PostgresInspection {
    /// Reads the run named by `url`. Throws when it does not exist.
    public static func inspect(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> (JournalSnapshot, WorkQueueSnapshot) {
        do {
            let location = try PostgresLocation(parsing: url)
            guard try PostgresJournal.exists(url: url, environment: environment) else {
                throw JournalError.storage("no run '\(location.run)' in \(location.display)")
            }
            let db = try PostgresJournal.connect(location, environment: environment, applicationName: "relevo status")
            defer { db.close() }
            // One snapshot of every table.
            return try db.transaction {
                try db.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return try read(db, location: location)
            }
        } catch {
            throw PostgresJournal.journalError(error)
        }
    }

    private static func read(_ db: PGConnection, location: PostgresLocation) throws -> (JournalSnapshot, WorkQueueSnapshot) {
        guard let (run, opens) = try PostgresJournal.readRun(db) else {
            throw JournalError.storage("\(location.display) holds no run")
        }
        let sets = try db.exec("SELECT phase, set_key, state, detail FROM sets ORDER BY id").map { row in
            let key = row.string(1) ?? ""
            return JournalSnapshot.SetRow(phase: row.string(0) ?? "", set: key.isEmpty ? nil : key,
                                          state: SetState(rawValue: row.string(2) ?? "") ?? .pending, detail: row.bytes(3))
        }
        let steps = try db.exec("SELECT \(PostgresJournal.stepColumns), phase, set_key FROM steps ORDER BY id").map { row in
            let phase = row.string(10) ?? "", key = row.string(11) ?? ""
            let set = key.isEmpty ? nil : key
            return JournalSnapshot.StepRow(phase: phase, set: set,
                                           record: try PostgresJournal.stepRecord(row, phase: phase, set: set))
        }
        let approvals = try db.exec("SELECT name, approved_by FROM approvals ORDER BY id").map {
            (name: $0.string(0) ?? "", by: $0.string(1) ?? "")
        }
        let events = try PostgresJournal.events(in: db)
        let holder = try PostgresJournal.lockHolder(db, schema: location.schema)
        let snapshot = JournalSnapshot.build(run: run, opens: opens, activeHolder: holder, sets: sets, steps: steps,
                                             events: events, approvals: approvals)
        let epoch = "extract(epoch FROM %@) - 978307200"
        let workers = try db.exec("""
            SELECT owner, \(epoch.replacingOccurrences(of: "%@", with: "started_at")),
                   \(epoch.replacingOccurrences(of: "%@", with: "seen_at")), sets_done, sets_failed, state,
                   extract(epoch FROM clock_timestamp() - seen_at)
            FROM workers ORDER BY started_at, owner
            """).map { row in
            WorkQueueSnapshot.Worker(owner: row.string(0) ?? "", startedAt: Date(timeIntervalSinceReferenceDate: row.double(1)),
                                     seenAt: Date(timeIntervalSinceReferenceDate: row.double(2)),
                                     setsDone: Int(row.int64(3)), setsFailed: Int(row.int64(4)), state: row.string(5) ?? "",
                                     silentFor: row.double(6))
        }
        let leases = try db.exec("""
            SELECT phase, set_key, owner, hosts, extract(epoch FROM expires_at - clock_timestamp()), claims, released
            FROM leases WHERE NOT released ORDER BY claimed_at
            """).map { row in
            WorkQueueSnapshot.Lease(phase: row.string(0) ?? "", set: row.string(1) ?? "", owner: row.string(2) ?? "",
                                    hosts: (row.string(3) ?? "").split(separator: ",").map(String.init),
                                    expiresIn: row.double(4), claims: Int(row.int64(5)), released: row.bool(6))
        }
        return (snapshot, WorkQueueSnapshot(workers: workers, leases: leases))
    }
}
