// A small owner of one SQLite connection.
internal import CSQLite

/// One SQLite connection (`sqlite3*`), closed in `deinit`.
///
/// Not thread-safe by itself: its owner serializes calls (`SQLiteJournal`
/// does so with a lock). Prepared statements are cached by SQL text, so a
/// statement run in a loop is compiled once.
final class Database {
    let path: String
    private let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    private var isClosed = false

    /// Opens (creating unless `readOnly`) the database file at `path`.
    init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        var db: OpaquePointer?
        // NOMUTEX: the owner serializes; EXRESCODE: extended codes everywhere.
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        do {
            // A handle is usually allocated even on failure: it holds the message.
            try sqliteCheck(rc, db, "open \(path)")
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        guard let db else {
            throw SQLiteError(code: SQLITE_NOMEM, extendedCode: SQLITE_NOMEM, message: "out of memory",
                              context: "open \(path)")
        }
        self.handle = db
        self.path = path
        try sqliteCheck(sqlite3_busy_timeout(db, busyTimeoutMilliseconds), db, "busy_timeout")
    }

    deinit { close() }

    /// Finalizes the cached statements and closes the connection (the last
    /// connection to a WAL file checkpoints it). Idempotent; the `Database`
    /// must not be used afterwards.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters (DDL, pragmas).
    func execute(_ sql: String) throws {
        try sqliteCheck(sqlite3_exec(handle, sql, nil, nil, nil), handle, sql)
    }

    /// A new prepared statement (not cached).
    func prepare(_ sql: String) throws -> Statement {
        try Statement(db: handle, sql: sql)
    }

    /// The cached prepared statement for `sql`, prepared on first use.
    func statement(_ sql: String) throws -> Statement {
        if let cached = cache[sql] { return cached }
        let statement = try prepare(sql)
        cache[sql] = statement
        return statement
    }

    /// Runs `sql` with `values`, ignoring any rows.
    func run(_ sql: String, _ values: [SQLValue] = []) throws {
        try statement(sql).run(values)
    }

    /// Runs `sql` with `values` and maps each row.
    func query<T>(_ sql: String, _ values: [SQLValue] = [], row: (Statement) throws -> T) throws -> [T] {
        try statement(sql).query(values, row: row)
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE.
    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// Whether no transaction is open.
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is taken
    /// at once) and commits; rolls back if `body` or the commit throws. When
    /// this returns, the transaction is committed (on disk only as the
    /// connection's `synchronous` setting, or the caller's own sync, makes it).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        precondition(isAutocommit, "nested transaction")
        // Prepared once (cached), not parsed again at every transaction.
        try run("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try run("COMMIT")
            return value
        } catch {
            // A failed COMMIT may already have rolled back (I/O error, disk full).
            if !isAutocommit { _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
    }

    /// The value of an integer pragma (`user_version`, `application_id`).
    func pragmaInteger(_ name: String) throws -> Int64 {
        try query("PRAGMA \(name)") { $0.int64(0) }.first ?? 0
    }

    /// The value of a pragma that answers with text (`journal_mode`).
    func pragmaText(_ name: String) throws -> String {
        try query("PRAGMA \(name)") { $0.string(0) ?? "" }.first ?? ""
    }
}
