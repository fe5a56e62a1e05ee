// The one place where SQLite return codes become Swift errors.
internal import CSQLite

/// A failed SQLite call: the (extended) result code, SQLite's own message
/// (`sqlite3_errmsg`) and what we were doing.
struct SQLiteError: Error, CustomStringConvertible, Equatable {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`...).
    var code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`...).
    var extendedCode: Int32
    var message: String
    /// The statement or action that failed.
    var context: String

    var description: String {
        "\(message) (sqlite code \(extendedCode)) in \(context)"
    }
}

/// Throws `SQLiteError` unless `rc` is `SQLITE_OK` or one of `allowing`
/// (e.g. `SQLITE_ROW`, `SQLITE_DONE` for `sqlite3_step`). Returns `rc`.
///
/// `db` is the connection whose error message explains `rc`; nil when there
/// is no connection (then `sqlite3_errstr` names the code).
@discardableResult
func sqliteCheck(_ rc: Int32, _ db: OpaquePointer?, allowing: [Int32] = [],
                 _ context: @autoclosure () -> String) throws -> Int32 {
    if rc == SQLITE_OK || allowing.contains(rc) { return rc }
    let message: String
    let extended: Int32
    if let db {
        message = String(cString: sqlite3_errmsg(db))
        extended = sqlite3_extended_errcode(db)
    } else {
        message = String(cString: sqlite3_errstr(rc))
        extended = rc
    }
    throw SQLiteError(code: rc & 0xff, extendedCode: extended, message: message, context: context())
}
