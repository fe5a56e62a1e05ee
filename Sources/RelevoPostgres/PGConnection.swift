// One libpq connection: connect with keyword/value parameters (a password
// never in a connection string), run parameterised statements, read text
// results, tell a lost connection from a refused statement.
internal import CPQ
import Foundation
import RelevoBasics

/// A PostgreSQL error: the server's SQLSTATE (empty when the connection
/// failed or was lost) and its message.
struct PGError: Error, CustomStringConvertible {
    var sqlState: String
    var message: String
    /// The connection is gone: nothing more can be sent on it.
    var connectionLost: Bool
    var description: String { sqlState.isEmpty ? message : "\(message) (SQLSTATE \(sqlState))" }
}

/// A parameter of a statement, in libpq's text format.
enum PGValue {
    case text(String)
    /// Stored in a `bytea` column: any string, NUL bytes included.
    case bytes(String)
    case null

    static func int(_ n: Int64) -> PGValue { .text(String(n)) }
    static func double(_ d: Double) -> PGValue { .text("\(d)") }
    static func optional(_ s: String?) -> PGValue { s.map(PGValue.text) ?? .null }

    var wire: String? {
        switch self {
        case .text(let s): s
        case .bytes(let s): "\\x" + s.utf8.map { String(format: "%02x", $0) }.joined()
        case .null: nil
        }
    }
}

/// The rows of a result, copied out of libpq's result (then freed).
struct PGRow {
    let values: [String?]
    func string(_ i: Int) -> String? { values[i] }
    func int64(_ i: Int) -> Int64 { values[i].flatMap { Int64($0) } ?? 0 }
    func double(_ i: Int) -> Double { values[i].flatMap { Double($0) } ?? 0 }
    func bool(_ i: Int) -> Bool { values[i] == "t" }
    /// A `bytea` column (hex output) as a string.
    func bytes(_ i: Int) -> String? {
        guard let hex = values[i] else { return nil }
        let digits = Array(hex.utf8.dropFirst(2))  // "\x"
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        var i = 0
        while i + 1 < digits.count {
            out.append(nibble(digits[i]) << 4 | nibble(digits[i + 1]))
            i += 2
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Not thread-safe: its owner serializes every call.
final class PGConnection {
    private var conn: OpaquePointer?

    /// Connects; `password` (when given) is copied into libpq's call only.
    /// Without one, libpq looks in `PGPASSFILE` (or ~/.pgpass) itself.
    init(_ location: PostgresLocation, password: Secret?, applicationName: String) throws {
        var pairs: [(String, String)] = [
            ("host", location.host), ("port", String(location.port)), ("dbname", location.database),
            ("user", location.user), ("application_name", String(applicationName.prefix(63))),
            ("connect_timeout", "10"),
            // A cut network is noticed in about 20 s, not hours.
            ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "2"),
            ("client_encoding", "UTF8"),
        ]
        if let mode = location.sslMode { pairs.append(("sslmode", mode)) }
        let keywords = pairs.map { strdup($0.0) } + [nil]
        let values = pairs.map { strdup($0.1) } + [nil]
        defer { for p in keywords + values { free(p) } }
        let made: OpaquePointer? = if let password {
            password.withCString { pw in
                var k = keywords.map { UnsafePointer($0) }
                var v = values.map { UnsafePointer($0) }
                k.insert(UnsafePointer(strdup("password")), at: 0)
                v.insert(pw, at: 0)
                defer { free(UnsafeMutablePointer(mutating: k[0])) }
                return PQconnectdbParams(k, v, 0)
            }
        } else {
            PQconnectdbParams(keywords.map { UnsafePointer($0) }, values.map { UnsafePointer($0) }, 0)
        }
        guard let made else { throw PGError(sqlState: "", message: "out of memory", connectionLost: true) }
        guard PQstatus(made) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(made)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(made)
            throw PGError(sqlState: "", message: "cannot connect to \(location.display): \(message)", connectionLost: true)
        }
        // Notices ("schema already exists, skipping") are not for the operator.
        PQsetNoticeProcessor(made, { _, _ in }, nil)
        conn = made
    }

    deinit { close() }

    func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    var isOpen: Bool { conn.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// The server process serving this connection (for pg_terminate_backend in tests).
    var backendPID: Int32 { conn.map { PQbackendPID($0) } ?? 0 }

    /// Runs one statement (or, without parameters, several) and returns its rows.
    @discardableResult
    func exec(_ sql: String, _ params: [PGValue] = []) throws -> [PGRow] {
        guard let conn else { throw PGError(sqlState: "", message: "the connection is closed", connectionLost: true) }
        let wire = params.map { $0.wire.map { strdup($0) } ?? nil }
        defer { for p in wire { free(p) } }
        let result: OpaquePointer? = params.isEmpty
            ? PQexec(conn, sql)
            : PQexecParams(conn, sql, Int32(params.count), nil, wire.map { UnsafePointer($0) }, nil, nil, 0)
        defer { PQclear(result) }
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
            let message = (result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) }
                .flatMap { $0.isEmpty ? nil : $0 } ?? String(cString: PQerrorMessage(conn)))
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw PGError(sqlState: state, message: message, connectionLost: PQstatus(conn) != CONNECTION_OK)
        }
        guard let result, status == PGRES_TUPLES_OK else { return [] }
        let rows = Int(PQntuples(result)), columns = Int(PQnfields(result))
        var out: [PGRow] = []
        out.reserveCapacity(rows)
        for r in 0..<rows {
            var values: [String?] = []
            values.reserveCapacity(columns)
            for c in 0..<columns {
                values.append(PQgetisnull(result, Int32(r), Int32(c)) != 0
                              ? nil : String(cString: PQgetvalue(result, Int32(r), Int32(c))))
            }
            out.append(PGRow(values: values))
        }
        return out
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws (if the connection still stands).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN")
        do {
            let value = try body()
            try exec("COMMIT")
            return value
        } catch {
            if isOpen { _ = try? exec("ROLLBACK") }
            throw error
        }
    }
}
