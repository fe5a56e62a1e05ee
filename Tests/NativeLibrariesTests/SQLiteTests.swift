// Link-and-call smoke tests for SQLite (module CSQLite).
import CSQLite
import XCTest

/// SQLITE_TRANSIENT is a cast macro Swift cannot import: ((sqlite3_destructor_type)-1).
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

final class SQLiteTests: XCTestCase {
    func testLibraryVersion() {
        XCTAssertEqual(String(cString: sqlite3_libversion()), SQLITE_VERSION)
        XCTAssertGreaterThanOrEqual(sqlite3_libversion_number(), 3_031_000)
    }

    func testInMemoryCreateInsertSelect() throws {
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(":memory:", &db), SQLITE_OK)
        defer { sqlite3_close(db) }

        XCTAssertEqual(sqlite3_exec(db, "CREATE TABLE step (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
                                    nil, nil, nil), SQLITE_OK)

        var insert: OpaquePointer?
        XCTAssertEqual(sqlite3_prepare_v2(db, "INSERT INTO step (name) VALUES (?1)", -1, &insert, nil),
                       SQLITE_OK)
        for name in ["expand", "migrate", "contract"] {
            XCTAssertEqual(sqlite3_bind_text(insert, 1, name, -1, sqliteTransient), SQLITE_OK)
            XCTAssertEqual(sqlite3_step(insert), SQLITE_DONE)
            XCTAssertEqual(sqlite3_reset(insert), SQLITE_OK)
        }
        XCTAssertEqual(sqlite3_finalize(insert), SQLITE_OK)
        XCTAssertEqual(sqlite3_last_insert_rowid(db), 3)

        var select: OpaquePointer?
        XCTAssertEqual(sqlite3_prepare_v2(db, "SELECT id, name FROM step ORDER BY id", -1, &select, nil),
                       SQLITE_OK)
        var rows: [String] = []
        while sqlite3_step(select) == SQLITE_ROW {
            let id = sqlite3_column_int64(select, 0)
            let name = try String(cString: XCTUnwrap(sqlite3_column_text(select, 1)))
            rows.append("\(id):\(name)")
        }
        XCTAssertEqual(sqlite3_finalize(select), SQLITE_OK)
        XCTAssertEqual(rows, ["1:expand", "2:migrate", "3:contract"])
    }

    func testConstraintViolationIsReported() {
        var db: OpaquePointer?
        XCTAssertEqual(sqlite3_open(":memory:", &db), SQLITE_OK)
        defer { sqlite3_close(db) }
        XCTAssertEqual(sqlite3_exec(db, "CREATE TABLE t (name TEXT NOT NULL)", nil, nil, nil), SQLITE_OK)
        XCTAssertEqual(sqlite3_exec(db, "INSERT INTO t VALUES (NULL)", nil, nil, nil), SQLITE_CONSTRAINT)
        XCTAssertTrue(String(cString: sqlite3_errmsg(db)).contains("NOT NULL"))
    }
}
