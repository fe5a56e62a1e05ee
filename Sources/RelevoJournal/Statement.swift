// A prepared SQLite statement: binding, stepping, reading columns.
internal import CSQLite

/// A value bound to a `?N` parameter.
enum SQLValue: Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null

    /// `.text(s)`, or `.null` for nil.
    static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
}

/// `SQLITE_TRANSIENT` (a cast macro Swift cannot import): SQLite copies the
/// bound bytes before the bind call returns.
var sqliteTransient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

/// One prepared statement, finalized in `deinit`.
///
/// It keeps the raw connection handle (for error messages), not the
/// `Database`: `Database` closes with `sqlite3_close_v2`, which keeps the
/// connection alive until its last statement is finalized, so the order in
/// which the two are released does not matter.
final class Statement {
    let sql: String
    private let handle: OpaquePointer
    private let db: OpaquePointer

    init(db: OpaquePointer, sql: String) throws {
        var stmt: OpaquePointer?
        try sqliteCheck(sqlite3_prepare_v2(db, sql, -1, &stmt, nil), db, "prepare \(sql)")
        guard let stmt else {
            // Only whitespace or a comment: not a statement.
            throw SQLiteError(code: SQLITE_MISUSE, extendedCode: SQLITE_MISUSE,
                              message: "empty statement", context: sql)
        }
        self.handle = stmt
        self.db = db
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds `values` to `?1`, `?2`...
    func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let i = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .integer(let v): rc = sqlite3_bind_int64(handle, i, v)
            case .real(let v): rc = sqlite3_bind_double(handle, i, v)
            case .null: rc = sqlite3_bind_null(handle, i)
            case .text(let s):
                // Explicit byte count: a String may contain NUL characters.
                // An empty one binds a non-nil pointer (nil binds NULL).
                var text = s
                rc = text.withUTF8 { buf in
                    buf.withMemoryRebound(to: CChar.self) { chars in
                        guard let base = chars.baseAddress, chars.count > 0 else {
                            return sqlite3_bind_text64(handle, i, "", 0, sqliteTransient, UInt8(SQLITE_UTF8))
                        }
                        return sqlite3_bind_text64(handle, i, base, UInt64(chars.count), sqliteTransient, UInt8(SQLITE_UTF8))
                    }
                }
            case .blob(let bytes):
                if bytes.isEmpty {
                    // A nil pointer would bind NULL, not an empty blob.
                    rc = sqlite3_bind_zeroblob(handle, i, 0)
                } else {
                    rc = bytes.withUnsafeBytes { buf in
                        sqlite3_bind_blob64(handle, i, buf.baseAddress, UInt64(buf.count), sqliteTransient)
                    }
                }
            }
            try sqliteCheck(rc, db, "bind ?\(i) of \(sql)")
        }
    }

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws -> Bool {
        let rc = try sqliteCheck(sqlite3_step(handle), db, allowing: [SQLITE_ROW, SQLITE_DONE], sql)
        return rc == SQLITE_ROW
    }

    /// Resets the statement so that it can run again (keeps the bindings).
    func reset() { sqlite3_reset(handle) }

    /// Binds, runs to completion (ignoring rows) and resets.
    func run(_ values: [SQLValue] = []) throws {
        try bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Binds, collects one value per row with `row`, and resets.
    func query<T>(_ values: [SQLValue] = [], row: (Statement) throws -> T) throws -> [T] {
        try bind(values)
        defer { reset() }
        var rows: [T] = []
        while try step() { rows.append(try row(self)) }
        return rows
    }

    // MARK: Columns of the current row (0-based)

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    /// The column as text (embedded NULs kept), nil for NULL.
    func string(_ column: Int32) -> String? {
        guard !isNull(column) else { return nil }
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// The column as bytes, nil for NULL.
    func blob(_ column: Int32) -> [UInt8]? {
        guard !isNull(column) else { return nil }
        guard let bytes = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
