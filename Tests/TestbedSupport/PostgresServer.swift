import Foundation

/// The private PostgreSQL cluster the PostgreSQL journal's tests use
/// (`scripts/pg up`). When the environment already has `RELEVO_PG_URL`
/// (scripts/test started it and exported its variables, or a developer ran
/// `eval "$(scripts/pg up)"`) those are used; otherwise `scripts/pg up` runs
/// once per test process. Never skipped: a cluster that cannot start fails
/// the tests that need it.
public struct PostgresServer: Sendable {
    public let variables: [String: String]

    /// `postgresql://relevo@ADDRESS:PORT/relevo`
    public var url: String { variables["RELEVO_PG_URL"] ?? "" }
    /// The relevo role's password file (mode 0600).
    public var passwordFile: String { variables["RELEVO_PG_PASSWORD_FILE"] ?? "" }

    /// A journal URL for a run of its own: `?run=NAME&password=file:...`.
    public func journalURL(run: String) -> String {
        "\(url)?run=\(run)&password=file:\(passwordFile)"
    }

    /// A fresh run name, `PREFIX_xxxxxxxx`.
    public static func uniqueRun(_ prefix: String = "t") -> String {
        "\(prefix)_" + UUID().uuidString.prefix(8).lowercased().replacingOccurrences(of: "-", with: "")
    }

    public static func shared() throws -> PostgresServer { try cache.get() }

    private static let cache = Cache()

    private final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<PostgresServer, TestbedError>?

        func get() throws -> PostgresServer {
            lock.lock()
            defer { lock.unlock() }
            if result == nil { result = Result { try PostgresServer.start() }.mapError { $0 as? TestbedError ?? TestbedError(message: "\($0)") } }
            return try result!.get()
        }
    }

    private static func start() throws -> PostgresServer {
        let environment = ProcessInfo.processInfo.environment
        if environment["RELEVO_PG_URL"] != nil {
            return PostgresServer(variables: environment.filter { $0.key.hasPrefix("RELEVO_PG_") })
        }
        let result = try ProcessResult.run("/bin/bash", [Testbed.root.appendingPathComponent("scripts/pg").path, "up"])
        guard result.status == 0 else { throw TestbedError(message: "scripts/pg up: \(result.stderr)") }
        return PostgresServer(variables: Testbed.parseExports(result.stdout))
    }
}
