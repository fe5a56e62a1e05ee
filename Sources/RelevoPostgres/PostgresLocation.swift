// Where a PostgreSQL journal lives: `postgresql://USER@HOST:PORT/DB?run=NAME`.
import Foundation
import RelevoBasics
import RelevoPlan

/// A parsed journal URL. One database holds any number of runs, each in a
/// schema of its own, `relevo_<run>`.
///
/// `postgresql://USER@HOST[:PORT]/DATABASE?run=NAME[&password=REF][&sslmode=MODE]`
///
/// - `run`: lower-case letters, digits and `_`, starting with a letter, at
///   most 48 characters (it names the schema).
/// - `password`: a secret reference, `env:NAME` or `file:PATH` (a file of
///   mode 0600). Without it, libpq reads `PGPASSFILE` (or `~/.pgpass`).
///   A password written in the URL itself (`USER:PASSWORD@`) is refused: a
///   URL is an argument, and arguments are visible to every local user.
/// - `sslmode`: passed to libpq (`disable`, `require`, `verify-full`...).
public struct PostgresLocation: Sendable, Equatable {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var run: String
    public var password: SecretRef?
    public var sslMode: String?

    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// The schema holding the run.
    public var schema: String { "relevo_" + run }

    /// The URL without secrets (there are none in it, only a reference), for messages.
    public var display: String {
        var query = "run=\(run)"
        if let password { query += "&password=\(password)" }
        if let sslMode { query += "&sslmode=\(sslMode)" }
        return "postgresql://\(user)@\(host):\(port)/\(database)?\(query)"
    }

    public init(parsing text: String) throws {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw JournalLocationError("not a postgresql:// URL: \(text)")
        }
        guard components.password == nil else {
            throw JournalLocationError("a password in the journal URL would be visible to every local user; use "
                                       + "password=env:NAME or password=file:PATH, or PGPASSFILE")
        }
        guard let user = components.user, !user.isEmpty else {
            throw JournalLocationError("the journal URL needs a user: postgresql://USER@HOST:PORT/DB?run=NAME")
        }
        guard let host = components.host, !host.isEmpty else {
            throw JournalLocationError("the journal URL needs a host: postgresql://USER@HOST:PORT/DB?run=NAME")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw JournalLocationError("the journal URL needs a database: postgresql://USER@HOST:PORT/DB?run=NAME")
        }
        var run: String?
        var password: SecretRef?
        var sslMode: String?
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "run": run = value
            case "password":
                guard let ref = SecretRef(parsing: value) else {
                    throw JournalLocationError("password= takes a secret reference (env:NAME or file:PATH), not a password")
                }
                password = ref
            case "sslmode":
                guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(value) else {
                    throw JournalLocationError("unknown sslmode '\(value)'")
                }
                sslMode = value
            default:
                throw JournalLocationError("unknown journal URL parameter '\(item.name)' (run, password, sslmode)")
            }
        }
        guard let run else {
            throw JournalLocationError("the journal URL needs ?run=NAME: one database holds many runs")
        }
        guard let first = run.unicodeScalars.first, ("a"..."z").contains(first), run.count <= 48,
              run.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            throw JournalLocationError("run name '\(run)': lower-case letters, digits and _, starting with a letter, at most 48")
        }
        self.user = user
        self.host = host
        self.port = components.port ?? 5432
        self.database = database
        self.run = run
        self.password = password
        self.sslMode = sslMode
    }

    /// The password, if the URL names one (resolved now, for connecting).
    func resolvePassword(environment: [String: String]) throws -> Secret? {
        guard let password else { return nil }
        do {
            return try password.resolve(environment: environment)
        } catch {
            throw JournalLocationError("\(error)")
        }
    }
}

public struct JournalLocationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
