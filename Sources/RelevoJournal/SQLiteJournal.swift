// The embedded journal store: one SQLite file per run.
import Foundation
import RelevoEngine

/// A `JournalStore` in one SQLite file per run, locked by one process.
///
/// **Files.** `path` (the database, in WAL mode: also `path-wal` and
/// `path-shm` while open) and `path.lock`, which is never deleted.
///
/// **Durability.** Every write below is its own transaction, committed
/// before the call returns, so a `kill -9` after any of them returns loses
/// nothing of it: `open` (the run row), `recordIntent`, `recordResult`,
/// `setState`, `setStates`, `recordApproval`. All but `recordResult` are
/// also on disk before returning: SQLite commits in WAL mode without
/// syncing (`synchronous=NORMAL`), and the write then `fsync`s the WAL
/// file itself, after releasing the journal's lock, so that sets in flight
/// at once share their syncs (see `write`). A result is committed without
/// a sync: the WAL holding it is synced by the next synced write, and the
/// engine makes one (the next step's intent, or the set's state) before it
/// acts again. A power loss can then lose only a result whose effect is
/// already in the world and whose next action has not begun: exactly the
/// window between an action and its result that exists anyway, and that
/// resume covers by reading the real state back (redirects) or running the
/// step again (copies and chowns are idempotent).
///
/// **Durability modes.** The above is `.disk`, for live runs. A dry run
/// opens its journal with `.process`: the same transactions, committed in
/// the same order before the same effects, so a `kill -9` at any point
/// loses nothing and resume behaves exactly as in a live run; only the
/// `fsync`s are left out, so an operating-system crash or a power loss may
/// lose the last commits. The world a dry run acts on is its scratch copy of
/// the fixtures, whose writes are not synced either: after such a crash the
/// two may disagree, and the dry run is started again rather than resumed
/// (it changed nothing real). What it saves: a dry run of the example plan
/// spent most of its time waiting for syncs (2000 sets: 56 s with them,
/// 11 s without, docs/performance.md). SQLite syncs nothing either
/// (`synchronous=OFF`, checkpoints included).
///
/// **Held writes (`.process` only).** Two writes that protect no effect
/// are held in memory and written first thing in the next write's
/// transaction (or before any read, or at `close`), instead of one
/// transaction each:
/// - a step's result, when its intent was recorded by this session (the
///   usual case; it is checked against the rules in memory): a kill before
///   the next write leaves the step with an intent and no result, which is
///   the window between an effect and its result that resume covers anyway
///   (read back, or run again). The next write is the next step's intent,
///   or the set's end state, so nothing the run has reported (a set
///   migrated, failed, undone) is ever lost;
/// - a set's `running` state: it rides with the intent of its first step;
///   a set found `pending` with records is resumed as a `running` one is.
///
/// A live run's journal (`.disk`) holds nothing: every intent is committed
/// and synced before its step acts, every result committed before the
/// engine goes on, as above.
///
/// **Held intents (`holdIntents`, `.process`, a fresh journal only).** A
/// dry run whose whole world is in memory, every change of it appended to
/// a log under its scratch folder, may also hold the intents of steps this
/// journal has never seen, on one condition: it calls `commitHeld` before
/// it writes anything of its world (`SimulatedEnvironment.beforePersisting`).
/// The write-ahead rule is then kept where it matters, on disk: an effect
/// reaches its log only after its intent (and every record before it) is
/// committed; a result is committed only after its effect is logged. A kill
/// at any point leaves a prefix of the run: the journal's commits and the
/// world's logs agree as they would without holding, minus the steps that
/// changed nothing lasting (gates, steps a dry run only records), whose
/// intents share the next commit instead of one transaction each (a set of
/// the example plan: 2 or 3 commits instead of 26). A step seen before (a
/// resumed journal, a step re-run in the same session) is written at once.
///
/// **A world attached (`attachWorld`, `.process` only).** A dry run whose
/// world is in memory (its hosts' file systems and directories, every change
/// appended to a log under its scratch folder) may go further: every commit
/// of the journal then writes the world's buffered log records out first and
/// records each log's length in the same transaction (`world_logs`), and a
/// resumed run cuts each log back to its recorded length before replaying it
/// (`worldLengths`, `SimulatedEnvironment(committedLogs:)`). A commit then
/// stands for the journal and the world together, and the write-ahead order
/// holds for what a resume sees whatever is buffered or held: after a kill
/// at any point, the world is the world of the journal's last commit, so
/// every effect it holds has its intent committed before it (the effect's
/// record lies within the committed length only if it was written before
/// that commit, which also holds every intent recorded before the effect),
/// and every committed result has its effect (written before the commit
/// that holds the result). What lies beyond the lengths (a flush that a
/// kill caught before its commit) is dropped, as if the process had died
/// before it; a kill can also leave no record cut short inside the lengths.
/// So nothing needs a commit before a log record any more, and with held
/// intents every write is held (a set's end too) until `heldLimit` writes
/// or events, the events' interval, a read, another write, `commitHeld`
/// (which `SimulatedEnvironment.beforePersisting` calls before any other
/// scratch write: DNS answers, work files, notifications, markers, which
/// are not cut back) or `close`: about one commit per 200 ms instead of 2
/// or 3 per set. These commits are made by a thread of their own
/// (`Committer`), in the order they are handed over, with the world's
/// lengths taken at the hand-over; any other use of the database waits for
/// it first, and a commit that fails fails every later call. What a kill
/// loses is at most the last 200 ms or so of the run (a few hundred sets),
/// which the resume does again; the progress lines may have reported some
/// of those sets finished. A live run's journal never holds, buffers or
/// cuts anything of this.
///
/// **Events are grouped.** `append` buffers events in memory and writes the
/// buffer in one transaction when it holds `eventBatchSize` events, or when an
/// event arrives `eventFlushInterval` or more after the oldest buffered one
/// (checked at `append`, no timer thread). Every durable write above first
/// writes the buffered events in its own transaction, and `events()` and
/// `close()` flush too, so the log is always in `append` order and never
/// behind the steps it describes. A crash loses at most the events appended
/// since the last write (events are for reports, not for resume).
///
/// **Lock.** `open` takes `flock(LOCK_EX|LOCK_NB)` on `path.lock` and writes
/// `RunInfo.holder` in it; a second `open` (another process, or another
/// `SQLiteJournal` in this one) fails with `JournalError.locked(holder:)`.
/// The kernel releases the lock when the process dies, so a resume after a
/// crash is never blocked. `close()` (or deinit) releases it.
///
/// **Steps.** One row per (phase, set, index, undo). `recordIntent` on a step
/// whose intent has no result (it was in flight when the run stopped)
/// re-records it: same row, new intent time and detail, `intents` + 1. A step
/// that already has a result cannot be started again (its undo values would
/// be lost): that is an error, as are a result without an intent, a second
/// different result, and an operation name that differs from the recorded one.
/// Repeating an identical result is accepted (idempotent).
///
/// **Scopes.** `set: nil` is a global phase; set names must not be empty.
///
/// Thread-safe: all calls are serialized by a lock.
public final class SQLiteJournal: JournalStore, @unchecked Sendable {
    /// The database file.
    public let path: String
    /// The lock file beside it.
    public var lockPath: String { path + ".lock" }
    /// Buffered events are written when there are this many...
    public let eventBatchSize: Int
    /// ...or when an event arrives this long after the oldest buffered one.
    public let eventFlushInterval: Duration
    /// What survives what (see the type's documentation).
    public let durability: Durability

    /// What a committed write survives.
    public enum Durability: Sendable {
        /// The process's death, an operating-system crash and a power loss:
        /// synced writes `fsync` the WAL (live runs).
        case disk
        /// The process's death: every write is committed before the call
        /// returns, nothing is synced (dry runs, whose scratch world is not
        /// synced either).
        case process
    }

    /// What exists while the run is open. Guarded by `mutex`, like every
    /// mutable property (hence `@unchecked Sendable`).
    private struct Session {
        let db: Database
        let lock: RunLock
        /// The WAL file, read-only: synced writes `fsync` it themselves.
        let wal: Int32
        var pending: EventBuffer
        /// Steps whose intent this session committed and that have no
        /// result yet: a result for one of them passes the journal's rules
        /// without reading its row back (this process holds the run lock,
        /// so nobody else wrote it since).
        var inFlight: Set<StepKey> = []
        /// `.process` only: results and `running` set states held until the
        /// next write's transaction (see the type's documentation).
        var deferred: [Deferred] = []
        /// The journal held no step when opened (a run's first start)...
        var startedEmpty = false
        /// ...and these scopes (phase, set) have had these steps recorded
        /// since (slot: index × 2 + undo): any other has no records, without
        /// asking the database.
        var recorded: [Scope: Set<Int>] = [:]
        /// `.process` only: intents of new steps are held too, until
        /// `commitHeld` (see `holdIntents`).
        var holdsIntents = false
        /// `.process` only: the world whose logs every commit flushes and
        /// records (see `attachWorld`).
        var world: (@Sendable () throws -> [(name: String, length: Int)])?
        /// With `world` and held intents: every write of a set is held,
        /// its end state too, until `heldLimit` writes or the events'
        /// interval (see `attachWorld`).
        var holdsAll: Bool { holdsIntents && startedEmpty && world != nil }
        /// With `holdsAll`: the thread that makes the commits that the
        /// limits call for (see `attachWorld`).
        var committer: Committer?
        /// One held intent or result is checked with one lookup (false:
        /// by the general code, for tests).
        var singleFastPath = true
    }

    private struct Scope: Hashable {
        var phase: String
        var set: String?
    }

    /// A write `.process` holds until the next transaction.
    private enum Deferred {
        case intent(StepKey, String, Double)
        case result(StepKey, StepOutcome, Double)
        case running(phase: String, set: String?, detail: String?, Double)
        /// Any other state of a set, held with a world attached (`holdsAll`).
        case state(phase: String, set: String?, SetState, detail: String?, Double)
    }

    /// With a world attached and intents held, what is held is committed
    /// once it counts this many writes (or events).
    static let heldLimit = 8192

    private let mutex = NSLock()
    private var session: Session?
    /// How many writes `fsync`ed the WAL (for tests).
    private var syncs = 0
    var syncCount: Int { mutex.withLock { syncs } }

    /// A store for the journal at `path` (created by `open` if missing).
    /// Touches no file; refuses paths that cannot be locked (`""`,
    /// `:memory:`, `file:` URIs).
    public init(path: String, durability: Durability = .disk, eventBatchSize: Int = 64,
                eventFlushInterval: Duration = .milliseconds(200)) throws {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else {
            throw JournalError.storage("a journal needs a file path, not '\(path)'")
        }
        self.path = path
        self.eventBatchSize = max(1, eventBatchSize)
        self.eventFlushInterval = eventFlushInterval
        self.durability = durability
    }

    deinit {
        // Not closed: keep what can be kept, then release the lock.
        if var open = session {
            try? flushPending(&open, force: open.world != nil)
            open.committer?.stop()
            open.db.close()
            Glibc.close(open.wal)
            open.lock.release()
        }
    }

    // MARK: Opening and closing

    public func open(run: RunInfo) throws -> RunInfo {
        mutex.lock()
        defer { mutex.unlock() }
        guard session == nil else { throw JournalError.storage("\(path) is already open") }
        let lock: RunLock
        do {
            lock = try RunLock(path: lockPath, holder: run.holder)
        } catch {
            switch error {
            case .held(let holder): throw JournalError.locked(holder: holder)
            case .system(let call, let path, let message): throw JournalError.storage("\(call) \(path): \(message)")
            }
        }
        do {
            let db = try Database(path: path)
            try db.execute("PRAGMA journal_mode=WAL")
            // Commits are not synced by SQLite (NORMAL): a synced write
            // fsyncs the WAL itself, outside the journal's lock (see `write`).
            // `.process` syncs nothing, checkpoints included (OFF).
            try db.execute(durability == .disk ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=OFF")
            try Schema.prepare(db)
            let info = try db.transaction { try Self.openRun(run, in: db) }
            let wal = Glibc.open(path + "-wal", O_RDONLY | O_CLOEXEC)
            guard wal >= 0 else { throw JournalError.storage("open \(path)-wal: \(String(cString: strerror(errno)))") }
            let folder = Glibc.open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                                    O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { if folder >= 0 { Glibc.close(folder) } }
            // The run row, and the WAL's name in its folder, on disk before anything else.
            guard fsync(wal) == 0, folder < 0 || fsync(folder) == 0 else {
                let reason = String(cString: strerror(errno))
                Glibc.close(wal)
                throw JournalError.storage("fsync \(path)-wal: \(reason)")
            }
            session = Session(db: db, lock: lock, wal: wal,
                              pending: EventBuffer(batchSize: eventBatchSize, flushInterval: eventFlushInterval))
            session!.startedEmpty = try db.query("SELECT count(*) FROM steps") { $0.int64(0) }.first == 0
            return info
        } catch {
            lock.release()
            throw Self.journalError(error)
        }
    }

    /// Inserts the run, or checks the stored one and records the new holder.
    private static func openRun(_ run: RunInfo, in db: Database) throws -> RunInfo {
        let now = Date().timeIntervalSinceReferenceDate
        let stored = try db.query("""
            SELECT mode, plan_name, plan_digest, started_at, seed, holder FROM run WHERE id = 1
            """) { row in
            RunInfo(mode: row.string(0) ?? "", planName: row.string(1) ?? "", planDigest: row.string(2) ?? "",
                    startedAt: Date(timeIntervalSinceReferenceDate: row.double(3)),
                    seed: UInt64(bitPattern: row.int64(4)), holder: row.string(5) ?? "")
        }.first
        guard var stored else {
            try db.run("""
                INSERT INTO run (id, mode, plan_name, plan_digest, started_at, seed, holder, opened_at)
                VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
                """, [.text(run.mode), .text(run.planName), .text(run.planDigest),
                      .real(run.startedAt.timeIntervalSinceReferenceDate),
                      .integer(Int64(bitPattern: run.seed)), .text(run.holder), .real(now)])
            return run
        }
        guard stored.planDigest == run.planDigest else {
            throw JournalError.planChanged(journal: stored.planDigest, plan: run.planDigest)
        }
        // Resuming a simulation as a live run would skip live steps that only
        // the simulation "did" (and the reverse would mix real and virtual results).
        guard stored.mode == run.mode else {
            throw JournalError.storage("the journal was written in mode '\(stored.mode)' and cannot be resumed in mode '\(run.mode)'")
        }
        try db.run("UPDATE run SET holder = ?1, opened_at = ?2, opens = opens + 1 WHERE id = 1",
                   [.text(run.holder), .real(now)])
        stored.holder = run.holder
        return stored
    }

    /// Writes the buffered events, closes the database and releases the
    /// lock (idempotent). The lock is released even if the last write fails.
    public func close() throws {
        mutex.lock()
        defer { mutex.unlock() }
        guard var open = session else { return }
        session = nil
        defer {
            open.committer?.stop()
            open.db.close()
            Glibc.close(open.wal)
            open.lock.release()
        }
        do {
            try flushPending(&open, force: open.world != nil)
        } catch {
            throw Self.journalError(error)
        }
    }

    // MARK: Steps

    public func recordIntent(_ key: StepKey, detail: String) throws {
        try recordIntents([(key, detail)])
    }

    /// One transaction, one sync, for all of them: all or none.
    public func recordIntents(_ intents: [(key: StepKey, detail: String)]) throws {
        guard !intents.isEmpty else { return }
        let now = Date().timeIntervalSinceReferenceDate
        if durability == .process {
            for intent in intents { _ = try Self.setKey(intent.key.set) }
            let held: Bool = try locked { open in
                // Only steps this journal has never seen: nothing to check.
                guard open.holdsIntents, open.startedEmpty else { return false }
                if intents.count == 1, open.singleFastPath {
                    // One step (the pipeline's usual call): one lookup of its scope.
                    let key = intents[0].key
                    guard open.recorded[Scope(phase: key.phase, set: key.set), default: []].insert(Self.slot(key)).inserted else {
                        return false
                    }
                    open.deferred.append(.intent(key, intents[0].detail, now))
                    open.inFlight.insert(key)
                    try flushIfFull(&open)
                    return true
                }
                var seen: [Scope: Set<Int>] = [:]
                for intent in intents {
                    let scope = Scope(phase: intent.key.phase, set: intent.key.set)
                    let slot = Self.slot(intent.key)
                    if open.recorded[scope]?.contains(slot) == true || !seen[scope, default: []].insert(slot).inserted {
                        return false
                    }
                }
                for intent in intents {
                    open.deferred.append(.intent(intent.key, intent.detail, now))
                    open.inFlight.insert(intent.key)
                    open.recorded[Scope(phase: intent.key.phase, set: intent.key.set), default: []].insert(Self.slot(intent.key))
                }
                try flushIfFull(&open)
                return true
            }
            if held { return }
        }
        try write(started: intents.map(\.key)) { db in
            for intent in intents { try Self.intent(intent.key, detail: intent.detail, now: now, in: db) }
        }
    }

    public func recordResult(_ key: StepKey, outcome: StepOutcome) throws {
        try recordResults([(key, outcome)])
    }

    /// One transaction for all of them, committed without a sync: the next
    /// intent's sync (always before the next action) makes it durable with
    /// it. With `.process`, held for the next write's transaction when
    /// every one follows an intent of this session (see the type's
    /// documentation); otherwise written now.
    public func recordResults(_ results: [(key: StepKey, outcome: StepOutcome)]) throws {
        guard !results.isEmpty else { return }
        let now = Date().timeIntervalSinceReferenceDate
        let keys = results.map(\.key)
        if durability == .process {
            let held: Bool = try locked { open in
                if results.count == 1, open.singleFastPath {
                    // One step: one lookup.
                    guard open.inFlight.remove(keys[0]) != nil else { return false }
                    open.deferred.append(.result(keys[0], results[0].outcome, now))
                    try flushIfFull(&open)
                    return true
                }
                guard Set(keys).count == keys.count, keys.allSatisfy({ open.inFlight.contains($0) }) else { return false }
                for result in results {
                    open.inFlight.remove(result.key)
                    open.deferred.append(.result(result.key, result.outcome, now))
                }
                try flushIfFull(&open)
                return true
            }
            if held { return }
        }
        try write(synced: false, finished: keys) { db, inFlight in
            for result in results {
                try Self.result(result.key, outcome: result.outcome, now: now, checked: inFlight.contains(result.key), in: db)
            }
        }
    }

    private static func intent(_ key: StepKey, detail: String, now: Double, in db: Database) throws {
        // A new step (the usual case) is one statement; a step met again
        // (resume) is read back and checked first.
        try db.run("""
            INSERT INTO steps (phase, set_key, idx, undo, operation, detail, intent_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (phase, set_key, idx, undo) DO NOTHING
            """, keyValues(key) + [.text(key.operation), .text(detail), .real(now)])
        guard db.changes == 0, let existing = try step(key, in: db) else { return }
        try JournalRules.checkOperation(key, existing.key.operation)
        try JournalRules.checkRestart(key, stored: existing.outcome)
        try db.run("""
            UPDATE steps SET detail = ?5, intent_at = ?6, intents = intents + 1
            WHERE phase = ?1 AND set_key = ?2 AND idx = ?3 AND undo = ?4
            """, keyValues(key) + [.text(detail), .real(now)])
    }

    /// The values of a new step's row with its intent and its result (a
    /// held pair), in the columns of `stepInserts`.
    private static func stepValues(_ key: StepKey, detail: String, intentAt: Double, outcome: StepOutcome,
                                   resultAt: Double) throws -> [SQLValue] {
        try keyValues(key) + [
            .text(key.operation), .text(detail), .real(intentAt),
            .text(outcome.status.rawValue), .text(try encodeUndo(outcome.undo)),
            .text(outcome.evidence), .integer(outcome.bytes), .integer(Int64(outcome.messages)),
            .real(outcome.seconds), .real(resultAt),
        ]
    }

    /// `checked`: the step is known to have an intent of this operation and
    /// no result (`Session.inFlight`), so its row is not read back.
    private static func result(_ key: StepKey, outcome: StepOutcome, now: Double, checked: Bool, in db: Database) throws {
        if !checked {
            guard try JournalRules.checkResult(key, stored: try step(key, in: db), outcome: outcome) else { return }
        }
        try db.run("""
            UPDATE steps SET status = ?5, undo_json = ?6, evidence = ?7, bytes = ?8, messages = ?9,
                             seconds = ?10, result_at = ?11
            WHERE phase = ?1 AND set_key = ?2 AND idx = ?3 AND undo = ?4
            """, keyValues(key) + [
                .text(outcome.status.rawValue), .text(try encodeUndo(outcome.undo)),
                .text(outcome.evidence), .integer(outcome.bytes), .integer(Int64(outcome.messages)),
                .real(outcome.seconds), .real(now),
            ])
    }

    /// Steps first, then undo records, each in index order.
    public func records(phase: String, set: String?) throws -> [StepRecord] {
        let unknown = try locked { open in open.startedEmpty && open.recorded[Scope(phase: phase, set: set)] == nil }
        if unknown {
            _ = try Self.setKey(set)
            return []
        }
        return try read { db in
            try db.query("""
                SELECT \(Self.stepColumns) FROM steps WHERE phase = ?1 AND set_key = ?2 ORDER BY undo, idx
                """, [.text(phase), .text(try Self.setKey(set))]) { row in
                try Self.stepRecord(row, phase: phase, set: set)
            }
        }
    }

    /// One query (what the default reads scope by scope).
    public func totals(phase: String, perSet: Bool, firstGate: Int) throws -> JournalTotals {
        try read { db in
            try db.query("""
                SELECT coalesce(sum(idx >= ?2 AND status = 'done'), 0), coalesce(sum(idx >= ?2 AND status = 'failed'), 0),
                       coalesce(sum(CASE WHEN idx < ?2 AND status = 'done' THEN bytes ELSE 0 END), 0),
                       coalesce(sum(CASE WHEN idx < ?2 AND status = 'done' THEN messages ELSE 0 END), 0)
                FROM steps WHERE phase = ?1 AND undo = 0
                AND (CASE WHEN ?3 THEN set_key IN (SELECT set_key FROM sets WHERE phase = ?1) ELSE set_key = '' END)
                """, [.text(phase), .integer(Int64(firstGate)), .integer(perSet ? 1 : 0)]) { row in
                JournalTotals(gatesPassed: Int(row.int64(0)), gatesFailed: Int(row.int64(1)), bytes: row.int64(2),
                              messages: Int(row.int64(3)))
            }.first ?? JournalTotals()
        }
    }

    // MARK: Sets

    public func setState(phase: String, set: String?, _ state: SetState, detail: String?) throws {
        if try holdRunning([(set, state, detail)], phase: phase) { return }
        if try holdState(phase: phase, set: set, state, detail: detail) { return }
        try dropHeldRunning(phase: phase, sets: [set])
        let now = Date().timeIntervalSinceReferenceDate
        try write { db in try Self.writeState(phase: phase, set: set, state, detail: detail, now: now, in: db) }
    }

    /// One transaction for all of them.
    public func setStates(phase: String, _ states: [(set: String, state: SetState, detail: String?)]) throws {
        if try holdRunning(states.map { ($0.set, $0.state, $0.detail) }, phase: phase) { return }
        try dropHeldRunning(phase: phase, sets: states.map(\.set))
        let now = Date().timeIntervalSinceReferenceDate
        try write { db in
            guard states.count > 1, Set(states.map(\.set)).count == states.count else {
                for entry in states {
                    try Self.writeState(phase: phase, set: entry.set, entry.state, detail: entry.detail, now: now, in: db)
                }
                return
            }
            // Sets named once each (a member list): up to `rowsPerInsert`
            // a statement, in order, each row as `writeState` writes it.
            var start = 0
            while start < states.count {
                let chunk = states[start..<min(start + Self.rowsPerInsert, states.count)]
                var values: [SQLValue] = []
                values.reserveCapacity(chunk.count * 5)
                for entry in chunk {
                    values += [.text(phase), .text(try Self.setKey(entry.set)), .text(entry.state.rawValue), .text(entry.detail),
                               .real(now)]
                }
                try db.run(Self.stateUpserts[chunk.count], values)
                start += chunk.count
            }
        }
    }

    static let stateUpserts = multiRowInserts("INSERT INTO sets (phase, set_key, state, detail, updated_at)", columns: 5).map {
        $0 + """
             ON CONFLICT (phase, set_key) DO UPDATE
            SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at
            """
    }

    private static func slot(_ key: StepKey) -> Int { key.index * 2 + (key.undo ? 1 : 0) }

    /// `.process` only: from now on the intents of steps this journal has
    /// never seen are held in memory, as results are, instead of being
    /// committed before returning; `commitHeld` (or any other write or
    /// read) commits them, in order, in one transaction. The caller
    /// promises to call `commitHeld` before anything it does can outlive
    /// the process: a dry run whose whole world is in memory and logged
    /// calls it before each log write, so that an effect is never on disk
    /// before its intent (see the type's documentation). False, and
    /// nothing changes, for `.disk` or a journal that held steps when opened.
    @discardableResult
    public func holdIntents() throws -> Bool {
        try locked { open in
            guard durability == .process, open.startedEmpty else { return false }
            open.holdsIntents = true
            if open.holdsAll, !open.pending.isEmpty { try flushPending(&open) }
            adjustEventBuffer(&open)
            return true
        }
    }

    /// Commits what is held (intents, results, `running` states, events);
    /// with a world attached, also its logs' lengths, even if nothing else
    /// is held (its logs may have grown since the last commit).
    public func commitHeld() throws {
        try locked { open in try flushPending(&open, force: open.world != nil) }
    }

    /// `.process` only: the dry run's world, whose logs (its memory hosts',
    /// its directories' change logs) `mark` writes out and measures. From
    /// now on every commit of this journal calls `mark` inside its
    /// transaction and records each log's length in `world_logs` (made if
    /// missing); a resumed dry run replays each log only up to its
    /// recorded length and cuts it there (`worldLengths`,
    /// `SimulatedEnvironment(committedLogs:)`). One commit therefore
    /// stands for the journal and the world together: a kill at any
    /// point leaves, after the cut, the world as it was when the journal's
    /// last commit was made, every effect of it with its committed intent
    /// before it and every committed result with its effect, whatever was
    /// held or buffered on either side. The world's records may then be
    /// buffered until the next commit, and the journal need commit neither
    /// before a log record nor at the end of each set: with held intents
    /// (`holdIntents`), every write is held (end states too) until
    /// `heldLimit` writes or events are held, the events' interval has
    /// passed, something is read, another write is made, or `commitHeld`
    /// (before anything else of the world is written: DNS answers, work
    /// files, notifications, markers, which are not cut back) or `close`.
    /// What a kill loses is then at most the writes of that while (a few
    /// hundred sets of a dry run), which resume does again; a set reported
    /// finished by the run's progress may be among them. False, and
    /// nothing changes, for `.disk`.
    @discardableResult
    public func attachWorld(_ mark: @escaping @Sendable () throws -> [(name: String, length: Int)]) throws -> Bool {
        guard durability == .process else { return false }
        try locked { open in
            try open.committer?.drain()
            try open.db.execute("""
                CREATE TABLE IF NOT EXISTS world_logs (
                    name   TEXT PRIMARY KEY,   -- a log's path under the scratch folder
                    length INTEGER NOT NULL    -- its bytes at the last commit
                )
                """)
            open.world = mark
            try flushPending(&open, force: true)
            adjustEventBuffer(&open)
        }
        return true
    }

    /// The lengths of the world's logs at the last commit (empty when no
    /// world was ever attached).
    public func worldLengths() throws -> [String: Int] {
        try read { db in
            let tables = try db.query("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'world_logs'") { row in
                row.int64(0)
            }
            guard tables.first == 1 else { return [:] }
            var lengths: [String: Int] = [:]
            let rows = try db.query("SELECT name, length FROM world_logs") { row in (row.string(0) ?? "", row.int64(1)) }
            for (name, length) in rows { lengths[name] = Int(length) }
            return lengths
        }
    }

    /// Holding everything, the events are written with the rest (at
    /// `heldLimit`, or their interval), not every `eventBatchSize`.
    /// Holding everything, a thread of its own makes the commits.
    private func adjustEventBuffer(_ open: inout Session) {
        guard open.holdsAll else { return }
        if open.committer == nil { open.committer = Committer(db: open.db) }
        guard open.pending.isEmpty else { return }
        open.pending = EventBuffer(batchSize: Self.heldLimit, flushInterval: eventFlushInterval)
    }

    private static func mark(_ world: (@Sendable () throws -> [(name: String, length: Int)])?, in db: Database) throws {
        guard let world else { return }
        try writeMarks(try world(), in: db)
    }

    private static func writeMarks(_ marks: [(name: String, length: Int)], in db: Database) throws {
        for (name, length) in marks {
            try db.run("""
                INSERT INTO world_logs (name, length) VALUES (?1, ?2)
                ON CONFLICT (name) DO UPDATE SET length = excluded.length
                """, [.text(name), .integer(Int64(length))])
        }
    }

    /// With `.process`, sets marked `running` (a pipeline starting) are
    /// written by the next write's transaction, which is the intent of
    /// their first step: a set found `pending` with step records is resumed
    /// as a `running` one is. True when held.
    private func holdRunning(_ states: [(set: String?, state: SetState, detail: String?)], phase: String) throws -> Bool {
        guard durability == .process, !states.isEmpty, states.allSatisfy({ $0.state == .running }) else { return false }
        for state in states { _ = try Self.setKey(state.set) }
        let now = Date().timeIntervalSinceReferenceDate
        try locked { open in
            for state in states { open.deferred.append(.running(phase: phase, set: state.set, detail: state.detail, now)) }
            try flushIfFull(&open)
        }
        return true
    }

    /// With a world attached and intents held (`holdsAll`), a set's other
    /// states are held too: the world's logs are cut back to the journal's
    /// last commit on resume, so the end of a set need not be committed
    /// before the run goes on (see `attachWorld`). True when held.
    private func holdState(phase: String, set: String?, _ state: SetState, detail: String?) throws -> Bool {
        guard durability == .process else { return false }
        _ = try Self.setKey(set)
        let now = Date().timeIntervalSinceReferenceDate
        return try locked { open in
            guard open.holdsAll else { return false }
            open.deferred.append(.state(phase: phase, set: set, state, detail: detail, now))
            try flushIfFull(&open)
            return true
        }
    }

    /// Commits what is held once it reaches `heldLimit` (a world attached).
    private func flushIfFull(_ open: inout Session) throws {
        guard open.holdsAll, open.deferred.count + open.pending.events.count >= Self.heldLimit else { return }
        try handOff(&open)
    }

    /// Hands what is held to the committer (with the world's marks taken
    /// now, so that they cover every effect of it), or commits it here
    /// without one. The committer's commits are made in the order they
    /// are handed over; anything else that uses the database waits for
    /// them first (`flushPending`, `read`, `write`).
    private func handOff(_ open: inout Session) throws {
        guard let committer = open.committer else { return try flushPending(&open) }
        guard !open.pending.isEmpty || !open.deferred.isEmpty else { return }
        let events = open.pending.events
        let deferred = open.deferred
        let marks = try open.world?() ?? []
        try committer.enqueue { db in
            try db.transaction {
                try Self.insert(events, in: db)
                try Self.write(deferred, in: db)
                try Self.writeMarks(marks, in: db)
            }
        }
        open.pending.clear()
        open.deferred.removeAll()
    }

    /// A held `running` state that the write about to be made replaces in
    /// the same transaction is not written at all.
    private func dropHeldRunning(phase: String, sets: [String?]) throws {
        guard durability == .process else { return }
        try locked { open in
            guard !open.deferred.isEmpty else { return }
            let replaced = Set(sets.map { $0 ?? "" })
            open.deferred.removeAll { write in
                if case .running(let p, let set, _, _) = write { return p == phase && replaced.contains(set ?? "") }
                return false
            }
        }
    }

    private static func writeState(phase: String, set: String?, _ state: SetState, detail: String?, now: Double,
                                   in db: Database) throws {
        try db.run("""
            INSERT INTO sets (phase, set_key, state, detail, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (phase, set_key) DO UPDATE
            SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at
            """, [.text(phase), .text(try setKey(set)), .text(state.rawValue), .text(detail), .real(now)])
    }

    /// In the order in which each set was first given a state.
    public func setStates(phase: String) throws -> [(set: String?, state: SetState, detail: String?)] {
        try read { db in
            try db.query("SELECT set_key, state, detail FROM sets WHERE phase = ?1 ORDER BY id",
                         [.text(phase)]) { row in
                try JournalRules.setState(phase: phase, key: row.string(0), state: row.string(1), detail: row.string(2))
            }
        }
    }

    // MARK: Events

    public func append(_ event: EngineEvent) throws {
        try locked { open in
            if open.pending.append(event) { try handOff(&open) }
        }
    }

    /// The whole log, in `append` order (buffered events are written first).
    public func events() throws -> [EngineEvent] {
        try locked { open in
            try flushPending(&open)
            return try Self.events(in: open.db)
        }
    }

    /// Every event of the journal `db`, in log order.
    static func events(in db: Database) throws -> [EngineEvent] {
        try db.query("""
            SELECT seq, kind, at, phase, set_key, operation, message, bytes FROM events ORDER BY seq
            """) { row in
            try JournalRules.event(seq: row.int64(0), kind: row.string(1), at: row.double(2), phase: row.string(3),
                                   set: row.string(4), operation: row.string(5), message: row.string(6), bytes: row.int64(7))
        }
    }

    // MARK: Approvals

    /// The first approval of a name is kept; later ones are ignored.
    public func recordApproval(name: String, by: String) throws {
        try write { db in
            try db.run("""
                INSERT INTO approvals (name, approved_by, approved_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (name) DO NOTHING
                """, [.text(name), .text(by), .real(Date().timeIntervalSinceReferenceDate)])
        }
    }

    /// Approved names, in the order given.
    public func approvals() throws -> [String] {
        try read { db in try db.query("SELECT name FROM approvals ORDER BY id") { $0.string(0) ?? "" } }
    }

    // MARK: Serialization and transactions

    /// Waits for the committer's commits (tests: what a kill leaves once
    /// they are made).
    func waitForCommits() throws {
        try locked { open in try open.committer?.drain() }
    }

    /// Turns the one-step fast paths of held intents and results off (tests).
    func useGeneralHoldingCode() throws {
        try locked { open in open.singleFastPath = false }
    }

    /// Whether a committer thread makes the held commits (tests).
    var hasCommitter: Bool { mutex.withLock { session?.committer != nil } }

    /// `PRAGMA synchronous` of the open connection (1 is NORMAL), for tests.
    func synchronousMode() throws -> Int64 {
        try read { try $0.pragmaInteger("synchronous") }
    }

    /// Runs `body` on the open session, under the lock; every error leaves as a `JournalError`.
    private func locked<T>(_ body: (inout Session) throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        guard session != nil else { throw JournalError.storage("\(path) is not open") }
        do {
            // A commit the committer could not make fails every later call.
            try session!.committer?.check()
            return try body(&session!)
        } catch {
            throw Self.journalError(error)
        }
    }

    /// Under the lock, after writing what `.process` holds (a read sees
    /// every write made before it).
    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        try locked { open in
            try open.committer?.drain()
            if !open.deferred.isEmpty { try flushPending(&open) }
            return try body(open.db)
        }
    }

    /// One durable transaction: the buffered events, then `body`. The buffer
    /// is emptied only once the transaction has committed.
    /// One transaction: buffered events, then `body`. With `synced: false`
    /// it is committed (atomic, and kept if the process dies) but the WAL is
    /// not synced to disk until the next synced write (see `recordResult`).
    ///
    /// A synced write commits under the journal's lock, then `fsync`s the WAL
    /// (through its own duplicate of the descriptor) after releasing it: the
    /// sync covers this commit and every one before it, and lanes writing at
    /// the same time commit while another's sync is under way, so their
    /// syncs overlap instead of queueing (a group commit). This is what
    /// `synchronous=FULL` does in WAL mode (sync the WAL at each commit),
    /// without holding the lock through the sync.
    ///
    /// The transaction also writes what `.process` held (results, `running`
    /// states), first. `started`: the intents it records (in flight once
    /// committed); `finished`: the results (no longer in flight), whose
    /// body is given the steps in flight before it.
    private func write(synced: Bool = true, started: [StepKey] = [], finished: [StepKey] = [],
                       _ body: (Database, Set<StepKey>) throws -> Void) throws {
        let synced = synced && durability == .disk
        let wal: Int32 = try locked { open in
            let events = open.pending.events
            let deferred = open.deferred
            let inFlight = open.inFlight
            try open.committer?.drain()
            try open.db.transaction {
                try Self.insert(events, in: open.db)
                try Self.write(deferred, in: open.db)
                try body(open.db, inFlight)
                try Self.mark(open.world, in: open.db)
            }
            open.pending.clear()
            open.deferred.removeAll()
            for key in finished { open.inFlight.remove(key) }
            open.inFlight.formUnion(started)
            for key in started { open.recorded[Scope(phase: key.phase, set: key.set), default: []].insert(Self.slot(key)) }
            // Close-on-exec like the original (a plain dup is not).
            return synced ? fcntl(open.wal, F_DUPFD_CLOEXEC, 0) : -1
        }
        guard synced else { return }
        mutex.withLock { syncs += 1 }
        guard wal >= 0 else { throw JournalError.storage("dup \(path)-wal: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(wal) }
        guard fsync(wal) == 0 else { throw JournalError.storage("fsync \(path)-wal: \(String(cString: strerror(errno)))") }
    }

    private func write(synced: Bool = true, started: [StepKey] = [], _ body: (Database) throws -> Void) throws {
        try write(synced: synced, started: started, finished: []) { db, _ in try body(db) }
    }

    /// Writes the buffered events and what `.process` held, in one
    /// transaction (nothing if none, unless `force`), with the world's
    /// marks when one is attached.
    private func flushPending(_ open: inout Session, force: Bool = false) throws {
        try open.committer?.drain()
        guard force || !open.pending.isEmpty || !open.deferred.isEmpty else { return }
        let events = open.pending.events
        let deferred = open.deferred
        let world = open.world
        try open.db.transaction {
            try Self.insert(events, in: open.db)
            try Self.write(deferred, in: open.db)
            try Self.mark(world, in: open.db)
        }
        open.pending.clear()
        open.deferred.removeAll()
    }

    private static func write(_ deferred: [Deferred], in db: Database) throws {
        // A step whose intent and result are both held is one row written
        // once, as the two writes would leave it.
        var held = Set<StepKey>()
        var done: [StepKey: (StepOutcome, Double)] = [:]
        // A held `running` state that a later held state of the same set
        // replaces is not written (as `dropHeldRunning` does).
        var replaced = Set<Int>()
        var ended = Set<Scope>()
        for (index, write) in deferred.enumerated().reversed() {
            if case .state(let phase, let set, _, _, _) = write { ended.insert(Scope(phase: phase, set: set ?? "")) }
            if case .running(let phase, let set, _, _) = write, ended.contains(Scope(phase: phase, set: set ?? "")) {
                replaced.insert(index)
            }
        }
        for write in deferred {
            if case .intent(let key, _, _) = write { held.insert(key) }
            if case .result(let key, let outcome, let now) = write, held.contains(key) { done[key] = (outcome, now) }
        }
        // Consecutive new rows are written by multi-row INSERTs, in order:
        // the rows (and their ids) one INSERT each would write.
        var rows: [SQLValue] = []
        var count = 0
        func writeRows() throws {
            guard count > 0 else { return }
            try db.run(stepInserts[count], rows)
            rows.removeAll(keepingCapacity: true)
            count = 0
        }
        for (index, write) in deferred.enumerated() {
            switch write {
            case .intent(let key, let detail, let now):
                if let (outcome, finished) = done[key] {
                    rows += try stepValues(key, detail: detail, intentAt: now, outcome: outcome, resultAt: finished)
                    count += 1
                    if count == rowsPerInsert { try writeRows() }
                } else {
                    try writeRows()
                    try intent(key, detail: detail, now: now, in: db)
                }
            case .result(let key, _, _) where done[key] != nil:
                continue
            case .result(let key, let outcome, let now):
                try writeRows()
                try result(key, outcome: outcome, now: now, checked: true, in: db)
            case .running where replaced.contains(index):
                continue
            case .running(let phase, let set, let detail, let now):
                try writeRows()
                try writeState(phase: phase, set: set, .running, detail: detail, now: now, in: db)
            case .state(let phase, let set, let state, let detail, let now):
                try writeRows()
                try writeState(phase: phase, set: set, state, detail: detail, now: now, in: db)
            }
        }
        try writeRows()
    }

    private static func insert(_ events: [EngineEvent], in db: Database) throws {
        let now = Date().timeIntervalSinceReferenceDate
        // Up to `rowsPerInsert` events per statement, in order (their
        // sequence numbers as one statement each would give them).
        var start = 0
        while start < events.count {
            let chunk = events[start..<min(start + rowsPerInsert, events.count)]
            var values: [SQLValue] = []
            values.reserveCapacity(chunk.count * 8)
            for event in chunk {
                values += [.text(event.kind.rawValue), .real(event.at), .text(event.phase), .text(event.set),
                           .text(event.operation), .text(event.message), .integer(event.bytes), .real(now)]
            }
            try db.run(eventInserts[chunk.count], values)
            start += chunk.count
        }
    }

    /// The most rows one multi-row INSERT writes (events, held steps).
    static let rowsPerInsert = 16

    /// `INSERT INTO table (columns) VALUES (...), (...)` with `rows` rows
    /// of numbered parameters, for 0 (unused) to `rowsPerInsert` rows.
    static func multiRowInserts(_ head: String, columns: Int) -> [String] {
        (0...rowsPerInsert).map { rows in
            head + " VALUES " + (0..<rows).map { row in
                "(" + (1...columns).map { "?\(row * columns + $0)" }.joined(separator: ", ") + ")"
            }.joined(separator: ", ")
        }
    }

    static let eventInserts = multiRowInserts(
        "INSERT INTO events (kind, at, phase, set_key, operation, message, bytes, recorded_at)", columns: 8)

    static let stepInserts = multiRowInserts("""
        INSERT INTO steps (phase, set_key, idx, undo, operation, detail, intent_at,
                           status, undo_json, evidence, bytes, messages, seconds, result_at)
        """, columns: 14)

    /// Every failure as a `JournalError`.
    private static func journalError(_ error: any Error) -> JournalError {
        switch error {
        case let error as JournalError: error
        case let error as SQLiteError: .storage(error.description)
        case let error as SchemaError: .storage(error.description)
        default: .storage(String(describing: error))
        }
    }
}

/// The thread that makes a dry run's held commits (`SQLiteJournal`, with
/// a world attached and intents held), one after another in the order they
/// are handed over, while the run goes on. The journal's other uses of the
/// database wait until it is idle (`drain`), and nothing is handed over
/// meanwhile (both happen under the journal's lock), so the connection is
/// never used by two threads at once. After a failed commit it makes no
/// other (a later one would leave a gap) and every call throws the error.
final class Committer: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [(Database) throws -> Void] = []
    private var busy = false
    private var failure: (any Error)?
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)
    private let db: Database
    /// At most this many commits wait; the next hand-over waits for one.
    static let queueLimit = 2

    init(db: Database) {
        self.db = db
        let thread = Thread { [self] in self.loop() }
        thread.name = "relevo-journal-commits"
        thread.start()
    }

    private func loop() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            let job = jobs.removeFirst()
            busy = true
            let skip = failure != nil
            condition.unlock()
            var error: (any Error)?
            if !skip {
                do { try job(db) } catch let thrown { error = thrown }
            }
            condition.lock()
            busy = false
            if let error, failure == nil { failure = error }
            condition.broadcast()
        }
        condition.unlock()
        stopped.signal()
    }

    /// Queues a commit (waiting while `queueLimit` are queued).
    func enqueue(_ job: @escaping (Database) throws -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        while failure == nil && jobs.count >= Self.queueLimit { condition.wait() }
        if let failure { throw failure }
        jobs.append(job)
        condition.broadcast()
    }

    /// Waits until every queued commit is made; throws the first failure.
    func drain() throws {
        condition.lock()
        defer { condition.unlock() }
        while busy || !jobs.isEmpty { condition.wait() }
        if let failure { throw failure }
    }

    /// Throws the failure of a commit, if one failed.
    func check() throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }

    /// Makes what is queued, then ends the thread.
    func stop() {
        condition.lock()
        let running = !stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if running { stopped.wait() }
    }
}
