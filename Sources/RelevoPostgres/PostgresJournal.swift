// The shared journal store: one PostgreSQL schema per run.
import Foundation
import RelevoBasics
import RelevoEngine
import RelevoJournal

/// A `JournalStore` in a PostgreSQL database, with the semantics of
/// `SQLiteJournal` (its step rules are `JournalRules`): one schema per run
/// (`PostgresLocation.schema`), so one database holds many runs.
///
/// **Durability.** Every write is one transaction, committed before the call
/// returns (the server syncs its WAL at commit: `synchronous_commit = on`,
/// its default). A result is committed like every other write.
///
/// **Lock.** A run holder's `open` takes a session advisory lock on the run
/// (`pg_try_advisory_lock`) on its connection; a second holder fails with
/// `JournalError.locked` naming the holder (its connection's
/// `application_name`). PostgreSQL releases the lock when the session ends:
/// `close()`, the process dying (its socket closes), or the connection cut
/// (`pg_terminate_backend`, a network cut noticed by TCP keepalives).
///
/// **Connection loss.** There is no reconnection: the lock went with the
/// session, so another process may now hold the run. Every call after a
/// lost connection fails with a `JournalError`, and the engine stops (a
/// journal error stops a run); a resume, by any process, reads back the
/// real state of the steps in flight.
///
/// **Workers.** Opened with `.worker(owner:)`, the store takes no run lock
/// and never creates the run: it serves the work queue (`WorkQueue`,
/// docs/scale.md). It writes only per-set records, and each of those writes
/// checks, in its own transaction and with the lease row locked, that the
/// worker still holds an unexpired lease on that set: a worker whose lease
/// expired, or was taken over, gets `JournalError.leaseLost` and acts no more.
///
/// Thread-safe: all calls are serialized by a lock (one connection).
public final class PostgresJournal: JournalStore, @unchecked Sendable {
    public enum Access: Sendable, Equatable {
        /// The run's controller: holds the run lock, may write anything.
        case runHolder
        /// A worker of the work queue: per-set writes, under a lease.
        case worker(owner: String)
    }

    public let location: PostgresLocation
    public let access: Access
    public let eventBatchSize: Int
    public let eventFlushInterval: Duration
    let environment: [String: String]

    private struct Session {
        let db: PGConnection
        var pending: EventBuffer
        var lost: String?
    }

    private let mutex = NSLock()
    private var session: Session?

    /// Advisory lock keys: 'RELV' and the schema's hash.
    static let lockClass: Int32 = 0x5245_4C56

    public init(url: String, access: Access = .runHolder,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                eventBatchSize: Int = 64, eventFlushInterval: Duration = .milliseconds(200)) throws {
        do {
            location = try PostgresLocation(parsing: url)
        } catch {
            throw JournalError.storage("\(error)")
        }
        self.access = access
        self.environment = environment
        self.eventBatchSize = max(1, eventBatchSize)
        self.eventFlushInterval = eventFlushInterval
    }

    deinit {
        if var open = session {
            try? flushEvents(&open)
            open.db.close()
        }
    }

    /// A new connection to the run's database, its search path on the run's schema.
    static func connect(_ location: PostgresLocation, environment: [String: String],
                        applicationName: String) throws -> PGConnection {
        let db = try PGConnection(location, password: try location.resolvePassword(environment: environment),
                                  applicationName: applicationName)
        try db.exec("SET search_path TO \(location.schema)")
        return db
    }

    /// Whether the run exists in the database (its schema holds a run row).
    public static func exists(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        do {
            let location = try PostgresLocation(parsing: url)
            let db = try PGConnection(location, password: try location.resolvePassword(environment: environment),
                                      applicationName: "relevo check")
            defer { db.close() }
            let rows = try db.exec("SELECT to_regclass($1) IS NOT NULL", [.text(location.schema + ".run")])
            guard rows.first?.bool(0) == true else { return false }
            return try !db.exec("SELECT 1 FROM \(location.schema).run").isEmpty
        } catch {
            throw journalError(error)
        }
    }

    // MARK: Opening and closing

    public func open(run: RunInfo) throws -> RunInfo {
        mutex.lock()
        defer { mutex.unlock() }
        guard session == nil else { throw JournalError.storage("\(location.display) is already open") }
        do {
            let name: String = switch access {
            case .runHolder: "relevo \(run.holder)"
            case .worker(let owner): "relevo worker \(owner)"
            }
            let db = try Self.connect(location, environment: environment, applicationName: name)
            do {
                let info: RunInfo
                switch access {
                case .runHolder:
                    try lockRun(db)
                    try Self.prepareSchema(db, schema: location.schema)
                    info = try db.transaction { try Self.openRun(run, in: db) }
                case .worker:
                    info = try Self.joinRun(run, in: db, location: location)
                }
                session = Session(db: db, pending: EventBuffer(batchSize: eventBatchSize, flushInterval: eventFlushInterval))
                return info
            } catch {
                db.close()
                throw error
            }
        } catch {
            throw Self.journalError(error)
        }
    }

    private func lockRun(_ db: PGConnection) throws {
        let got = try db.exec("SELECT pg_try_advisory_lock($1, hashtext($2))",
                              [.int(Int64(Self.lockClass)), .text(location.schema)]).first?.bool(0) ?? false
        guard got else { throw JournalError.locked(holder: try Self.lockHolder(db, schema: location.schema) ?? "unknown holder") }
    }

    /// The `application_name` of the session holding the run lock, if any
    /// (pg_locks shows the two int4 keys as unsigned oids).
    static func lockHolder(_ db: PGConnection, schema: String) throws -> String? {
        let rows = try db.exec("""
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid
              AND l.objid = (hashtext($2)::bigint & 4294967295)::oid AND l.objsubid = 2
            """, [.int(Int64(UInt32(bitPattern: lockClass))), .text(schema)])
        guard let name = rows.first?.string(0) else { return nil }
        return name.hasPrefix("relevo ") ? String(name.dropFirst(7)) : name
    }

    /// Creates the schema and its tables, or checks their version (under the run lock).
    static func prepareSchema(_ db: PGConnection, schema: String) throws {
        try db.exec("CREATE SCHEMA IF NOT EXISTS \(schema)")
        try db.exec(PostgresSchema.create)
        try db.exec("INSERT INTO meta (id, version) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                    [.int(PostgresSchema.version)])
        let version = try db.exec("SELECT version FROM meta WHERE id = 1").first?.int64(0) ?? 0
        guard version == PostgresSchema.version else {
            throw JournalError.storage("the run's schema has version \(version); this relevo reads version \(PostgresSchema.version)")
        }
    }

    static func readRun(_ db: PGConnection) throws -> (RunInfo, opens: Int)? {
        try db.exec("SELECT mode, plan_name, plan_digest, started_at, seed, holder, opens FROM run WHERE id = 1").first.map { row in
            (RunInfo(mode: row.string(0) ?? "", planName: row.string(1) ?? "", planDigest: row.string(2) ?? "",
                     startedAt: Date(timeIntervalSinceReferenceDate: row.double(3)),
                     seed: UInt64(bitPattern: row.int64(4)), holder: row.string(5) ?? ""), Int(row.int64(6)))
        }
    }

    static func checkSameRun(_ stored: RunInfo, _ run: RunInfo) throws {
        guard stored.planDigest == run.planDigest else {
            throw JournalError.planChanged(journal: stored.planDigest, plan: run.planDigest)
        }
        guard stored.mode == run.mode else {
            throw JournalError.storage("the journal was written in mode '\(stored.mode)' and cannot be resumed in mode '\(run.mode)'")
        }
    }

    /// Inserts the run, or checks the stored one and records the new holder.
    private static func openRun(_ run: RunInfo, in db: PGConnection) throws -> RunInfo {
        let now = Date().timeIntervalSinceReferenceDate
        guard var (stored, _) = try readRun(db) else {
            try db.exec("""
                INSERT INTO run (id, mode, plan_name, plan_digest, started_at, seed, holder, opened_at)
                VALUES (1, $1, $2, $3, $4, $5, $6, $7)
                """, [.text(run.mode), .text(run.planName), .text(run.planDigest),
                      .double(run.startedAt.timeIntervalSinceReferenceDate),
                      .int(Int64(bitPattern: run.seed)), .text(run.holder), .double(now)])
            return run
        }
        try checkSameRun(stored, run)
        try db.exec("UPDATE run SET holder = $1, opened_at = $2, opens = opens + 1 WHERE id = 1",
                    [.text(run.holder), .double(now)])
        stored.holder = run.holder
        return stored
    }

    /// A worker joins a run its controller created: same plan, same mode.
    private static func joinRun(_ run: RunInfo, in db: PGConnection, location: PostgresLocation) throws -> RunInfo {
        let exists = try db.exec("SELECT to_regclass($1) IS NOT NULL", [.text(location.schema + ".run")]).first?.bool(0) ?? false
        guard exists, let (stored, _) = try readRun(db) else {
            throw JournalError.storage("no run '\(location.run)' in \(location.database): start it with relevo run first")
        }
        // A worker takes the run's mode from the journal (an empty mode: any).
        var expected = run
        if expected.mode.isEmpty { expected.mode = stored.mode }
        try checkSameRun(stored, expected)
        return stored
    }

    /// Writes the buffered events and closes the connection, which releases
    /// the run lock (idempotent).
    public func close() throws {
        mutex.lock()
        defer { mutex.unlock() }
        guard var open = session else { return }
        session = nil
        defer { open.db.close() }
        if open.lost != nil { return }
        do {
            try flushEvents(&open)
        } catch {
            throw Self.journalError(error)
        }
    }

    /// The server process of this store's connection (tests cut it with pg_terminate_backend).
    public func backendPID() throws -> Int32 {
        try locked { $0.db.backendPID }
    }

    // MARK: Steps

    static let stepColumns = "idx, operation, undo, detail, status, undo_json, evidence, bytes, messages, seconds"

    static func stepRecord(_ row: PGRow, phase: String, set: String?) throws -> StepRecord {
        let key = StepKey(phase: phase, set: set, index: Int(row.int64(0)), operation: row.string(1) ?? "",
                          undo: row.int64(2) != 0)
        var outcome: StepOutcome?
        if let name = row.string(4) {
            guard let status = StepOutcome.Status(rawValue: name) else {
                throw JournalError.storage("unknown step status '\(name)' for \(JournalRules.describe(key))")
            }
            outcome = StepOutcome(status: status, undo: try JournalRules.decodeUndo(row.string(5) ?? "{}", key: key),
                                  evidence: row.bytes(6) ?? "", bytes: row.int64(7),
                                  messages: Int(row.int64(8)), seconds: row.double(9))
        }
        return StepRecord(key: key, detail: row.bytes(3) ?? "", outcome: outcome)
    }

    /// $1 phase, $2 set_key, $3 idx, $4 undo.
    static func keyValues(_ key: StepKey) throws -> [PGValue] {
        [.text(key.phase), .text(try JournalRules.setKey(key.set)), .int(Int64(key.index)), .int(key.undo ? 1 : 0)]
    }

    private static func step(_ key: StepKey, in db: PGConnection) throws -> StepRecord? {
        try db.exec("""
            SELECT \(stepColumns) FROM steps WHERE phase = $1 AND set_key = $2 AND idx = $3 AND undo = $4 FOR UPDATE
            """, keyValues(key)).first.map { try stepRecord($0, phase: key.phase, set: key.set) }
    }

    public func recordIntent(_ key: StepKey, detail: String) throws {
        try write(scope: key.phase, key.set) { db in
            let now = Date().timeIntervalSinceReferenceDate
            if let existing = try Self.step(key, in: db) {
                try JournalRules.checkOperation(key, existing.key.operation)
                try JournalRules.checkRestart(key, stored: existing.outcome)
                try db.exec("""
                    UPDATE steps SET detail = $5, intent_at = $6, intents = intents + 1
                    WHERE phase = $1 AND set_key = $2 AND idx = $3 AND undo = $4
                    """, Self.keyValues(key) + [.bytes(detail), .double(now)])
            } else {
                try db.exec("""
                    INSERT INTO steps (phase, set_key, idx, undo, operation, detail, intent_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, Self.keyValues(key) + [.text(key.operation), .bytes(detail), .double(now)])
            }
        }
    }

    public func recordResult(_ key: StepKey, outcome: StepOutcome) throws {
        try write(scope: key.phase, key.set) { db in
            guard try JournalRules.checkResult(key, stored: try Self.step(key, in: db), outcome: outcome) else { return }
            try db.exec("""
                UPDATE steps SET status = $5, undo_json = $6, evidence = $7, bytes = $8, messages = $9,
                                 seconds = $10, result_at = $11
                WHERE phase = $1 AND set_key = $2 AND idx = $3 AND undo = $4
                """, Self.keyValues(key) + [
                    .text(outcome.status.rawValue), .text(try JournalRules.encodeUndo(outcome.undo)),
                    .bytes(outcome.evidence), .int(outcome.bytes), .int(Int64(outcome.messages)),
                    .double(outcome.seconds), .double(Date().timeIntervalSinceReferenceDate),
                ])
        }
    }

    public func records(phase: String, set: String?) throws -> [StepRecord] {
        try read { db in
            try db.exec("SELECT \(Self.stepColumns) FROM steps WHERE phase = $1 AND set_key = $2 ORDER BY undo, idx",
                        [.text(phase), .text(try JournalRules.setKey(set))]).map {
                try Self.stepRecord($0, phase: phase, set: set)
            }
        }
    }

    // MARK: Sets

    private static let upsertSet = """
        INSERT INTO sets (phase, set_key, state, detail, updated_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (phase, set_key) DO UPDATE
        SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at
        """

    public func setState(phase: String, set: String?, _ state: SetState, detail: String?) throws {
        try write(scope: phase, set) { db in
            try db.exec(Self.upsertSet, [.text(phase), .text(try JournalRules.setKey(set)), .text(state.rawValue),
                                         detail.map(PGValue.bytes) ?? .null, .double(Date().timeIntervalSinceReferenceDate)])
        }
    }

    /// One transaction for all of them (the run holder's member list).
    public func setStates(phase: String, _ states: [(set: String, state: SetState, detail: String?)]) throws {
        let now = Date().timeIntervalSinceReferenceDate
        try write(scope: phase, nil, holderOnly: true) { db in
            for entry in states {
                try db.exec(Self.upsertSet, [.text(phase), .text(try JournalRules.setKey(entry.set)),
                                             .text(entry.state.rawValue), entry.detail.map(PGValue.bytes) ?? .null,
                                             .double(now)])
            }
        }
    }

    public func setStates(phase: String) throws -> [(set: String?, state: SetState, detail: String?)] {
        try read { db in
            try db.exec("SELECT set_key, state, detail FROM sets WHERE phase = $1 ORDER BY id", [.text(phase)]).map { row in
                try JournalRules.setState(phase: phase, key: row.string(0), state: row.string(1), detail: row.bytes(2))
            }
        }
    }

    // MARK: Events

    public func append(_ event: EngineEvent) throws {
        try locked { open in
            if open.pending.append(event) { try flushEvents(&open) }
        }
    }

    public func events() throws -> [EngineEvent] {
        try locked { open in
            try flushEvents(&open)
            return try Self.events(in: open.db)
        }
    }

    static func events(in db: PGConnection) throws -> [EngineEvent] {
        try db.exec("SELECT seq, kind, at, phase, set_key, operation, message, bytes FROM events ORDER BY seq").map { row in
            try JournalRules.event(seq: row.int64(0), kind: row.string(1), at: row.double(2), phase: row.string(3),
                                   set: row.string(4), operation: row.string(5), message: row.bytes(6), bytes: row.int64(7))
        }
    }

    // MARK: Approvals

    /// The first approval of a name is kept; later ones are ignored. Only the run holder approves.
    public func recordApproval(name: String, by: String) throws {
        try write(scope: "", nil, holderOnly: true) { db in
            try db.exec("""
                INSERT INTO approvals (name, approved_by, approved_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING
                """, [.text(name), .text(by), .double(Date().timeIntervalSinceReferenceDate)])
        }
    }

    public func approvals() throws -> [String] {
        try read { db in try db.exec("SELECT name FROM approvals ORDER BY id").map { $0.string(0) ?? "" } }
    }

    // MARK: Serialization and transactions

    /// Runs `body` on the open session under the lock; a lost connection
    /// is remembered, and every error leaves as a `JournalError`.
    private func locked<T>(_ body: (inout Session) throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        guard session != nil else { throw JournalError.storage("\(location.display) is not open") }
        if let lost = session!.lost { throw JournalError.storage(lost) }
        do {
            return try body(&session!)
        } catch let error as PGError where error.connectionLost {
            let message = "the connection to PostgreSQL was lost (\(error.message)); this process no longer holds "
                + (access == .runHolder ? "the run lock" : "its leases") + " and stops writing"
            session!.lost = message
            throw JournalError.storage(message)
        } catch {
            throw Self.journalError(error)
        }
    }

    private func read<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try locked { open in try body(open.db) }
    }

    /// Runs `body` on this store's connection, in the store's lock (the work queue shares the connection).
    @discardableResult
    func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try locked { open in try body(open.db) }
    }

    /// One transaction: the buffered events, the worker's lease check, then `body`.
    private func write(scope phase: String, _ set: String?, holderOnly: Bool = false,
                       _ body: (PGConnection) throws -> Void) throws {
        try locked { open in
            let events = open.pending.events
            try open.db.transaction {
                try Self.insert(events, in: open.db)
                if case .worker(let owner) = access {
                    guard !holderOnly, let set else {
                        throw JournalError.storage("a worker writes only its own sets' records; global phases, member lists "
                                                   + "and approvals are the run lock holder's")
                    }
                    try Self.checkLease(open.db, owner: owner, phase: phase, set: set)
                }
                try body(open.db)
            }
            open.pending.clear()
        }
    }

    /// Fails unless `owner` holds an unexpired lease on the set; locks the
    /// lease row until the transaction ends, so a takeover waits for it.
    static func checkLease(_ db: PGConnection, owner: String, phase: String, set: String) throws {
        let rows = try db.exec("""
            SELECT owner, expires_at > clock_timestamp(), released FROM leases
            WHERE phase = $1 AND set_key = $2 FOR UPDATE
            """, [.text(phase), .text(set)])
        guard let row = rows.first, row.string(0) == owner, row.bool(1), !row.bool(2) else {
            let now = rows.first.map { "held by \($0.string(0) ?? "?")\($0.bool(1) ? "" : ", expired")" } ?? "no lease"
            throw JournalError.storage("lease lost on set '\(set)' of phase '\(phase)' (\(now)): worker \(owner) stops acting on it")
        }
    }

    private func flushEvents(_ open: inout Session) throws {
        guard !open.pending.isEmpty, open.lost == nil else { return }
        let events = open.pending.events
        try open.db.transaction { try Self.insert(events, in: open.db) }
        open.pending.clear()
    }

    private static func insert(_ events: [EngineEvent], in db: PGConnection) throws {
        let now = Date().timeIntervalSinceReferenceDate
        for event in events {
            try db.exec("""
                INSERT INTO events (kind, at, phase, set_key, operation, message, bytes, recorded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [.text(event.kind.rawValue), .double(event.at), .optional(event.phase), .optional(event.set),
                      .optional(event.operation), .bytes(event.message), .int(event.bytes), .double(now)])
        }
    }

    static func journalError(_ error: any Error) -> JournalError {
        switch error {
        case let error as JournalError: error
        case let error as PGError: .storage(error.description)
        default: .storage(String(describing: error))
        }
    }
}
