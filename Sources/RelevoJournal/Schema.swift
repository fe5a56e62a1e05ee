// The tables of a run journal, and how a file is checked and created.

/// The layout of a journal file. Its version is `PRAGMA user_version`; its
/// `PRAGMA application_id` marks the file as a Relevo journal.
///
/// Conventions:
/// - Times are REAL seconds since 2001-01-01T00:00:00Z (Foundation's
///   reference date), so that a `Date` round-trips exactly. In sqlite3:
///   `datetime(started_at + 978307200, 'unixepoch')`.
/// - `set_key` is `''` for a global phase (the protocol's nil set): SQLite
///   treats NULLs as distinct in UNIQUE constraints. Set names are never
///   empty, and the store refuses an empty one.
/// - `seed` is the UInt64 seed's bit pattern as a signed INTEGER.
/// - `undo_json` is a JSON object of strings, keys sorted.
/// - A dry run with its world attached (`SQLiteJournal.attachWorld`) adds
///   `world_logs (name TEXT PRIMARY KEY, length INTEGER NOT NULL)`, the
///   lengths of its scratch folder's logs at the last commit; no other
///   reader needs it, so the schema's version is unchanged.
enum Schema {
    /// 'RELV'.
    static let applicationID: Int64 = 0x5245_4C56
    static let version: Int64 = 1

    static let create = """
        CREATE TABLE run (
            id          INTEGER PRIMARY KEY CHECK (id = 1),  -- one run per file
            mode        TEXT NOT NULL,
            plan_name   TEXT NOT NULL,
            plan_digest TEXT NOT NULL,
            started_at  REAL NOT NULL,
            seed        INTEGER NOT NULL,
            holder      TEXT NOT NULL,                       -- last process to open the run
            opened_at   REAL NOT NULL,
            opens       INTEGER NOT NULL DEFAULT 1           -- 1 + number of resumes
        );
        CREATE TABLE steps (
            id          INTEGER PRIMARY KEY,
            phase       TEXT NOT NULL,
            set_key     TEXT NOT NULL,                       -- '' for a global phase
            idx         INTEGER NOT NULL,
            operation   TEXT NOT NULL,
            undo        INTEGER NOT NULL CHECK (undo IN (0, 1)),
            detail      TEXT NOT NULL,
            intent_at   REAL NOT NULL,                       -- latest intent
            intents     INTEGER NOT NULL DEFAULT 1,          -- >1: re-recorded on resume
            status      TEXT CHECK (status IN ('done', 'failed', 'skipped')),  -- NULL: in flight
            undo_json   TEXT,
            evidence    TEXT,
            bytes       INTEGER,
            messages    INTEGER,
            seconds     REAL,
            result_at   REAL,
            UNIQUE (phase, set_key, idx, undo)
        );
        CREATE TABLE sets (
            id          INTEGER PRIMARY KEY,                 -- order of first record
            phase       TEXT NOT NULL,
            set_key     TEXT NOT NULL,                       -- '' for a global phase
            state       TEXT NOT NULL CHECK (state IN
                            ('pending', 'running', 'migrated', 'failed', 'undone', 'skipped')),
            detail      TEXT,
            updated_at  REAL NOT NULL,
            UNIQUE (phase, set_key)
        );
        CREATE TABLE events (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,   -- log order
            kind        TEXT NOT NULL,
            at          REAL NOT NULL,                       -- seconds since the run started
            phase       TEXT,
            set_key     TEXT,                                -- NULL when the event has no set
            operation   TEXT,
            message     TEXT NOT NULL,
            bytes       INTEGER NOT NULL,
            recorded_at REAL NOT NULL
        );
        CREATE TABLE approvals (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,                -- the first approval of a name counts
            approved_by TEXT NOT NULL,
            approved_at REAL NOT NULL
        );
        """

    /// Creates the tables in an empty file, or checks that an existing file
    /// is a journal this version can read. Runs in a write transaction.
    static func prepare(_ db: Database) throws {
        try db.transaction {
            let found = try db.pragmaInteger("user_version")
            let application = try db.pragmaInteger("application_id")
            let tables = try db.query("SELECT count(*) FROM sqlite_schema") { $0.int64(0) }.first ?? 0
            if found == 0 && application == 0 && tables == 0 {
                try db.execute(create)
                try db.execute("PRAGMA application_id = \(applicationID)")
                try db.execute("PRAGMA user_version = \(version)")
                return
            }
            guard application == applicationID else {
                throw SchemaError("\(db.path) is an SQLite file but not a relevo journal")
            }
            guard found <= version else {
                throw SchemaError("\(db.path) was written by a newer relevo (journal schema \(found), this relevo reads \(version))")
            }
            guard found == version else {
                throw SchemaError("\(db.path) has journal schema \(found), which this relevo cannot read")
            }
        }
    }
}

/// A journal file that cannot be used (not a journal, newer schema).
struct SchemaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
