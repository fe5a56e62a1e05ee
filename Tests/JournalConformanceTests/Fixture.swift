import Foundation
import Testing
import RelevoEngine
@testable import RelevoJournal
@testable import RelevoPostgres
import TestbedSupport

/// The journal stores the protocol's rules are checked against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// One journal (an SQLite file in a fresh folder, or a PostgreSQL run of its
/// own in the shared cluster), any number of stores on it, and a second
/// connection that reads its tables directly.
final class Fixture {
    let kind: StoreKind
    private let dir: TempDir?
    private let url: String?

    init(_ kind: StoreKind) throws {
        self.kind = kind
        switch kind {
        case .sqlite:
            dir = try TempDir()
            url = nil
        case .postgres:
            dir = nil
            url = try PostgresServer.shared().journalURL(run: PostgresServer.uniqueRun("conf"))
        }
    }

    /// A store on this fixture's journal, not opened.
    func store(eventBatchSize: Int = 64, eventFlushInterval: Duration = .milliseconds(200)) throws -> any JournalStore {
        switch kind {
        case .sqlite:
            try SQLiteJournal(path: dir!.path("run.journal"), eventBatchSize: eventBatchSize, eventFlushInterval: eventFlushInterval)
        case .postgres:
            try PostgresJournal(url: url!, eventBatchSize: eventBatchSize, eventFlushInterval: eventFlushInterval)
        }
    }

    /// A store, opened with `run`.
    func open(_ run: RunInfo = sampleRun(), eventBatchSize: Int = 64,
              eventFlushInterval: Duration = .milliseconds(200)) throws -> (any JournalStore, RunInfo) {
        let journal = try store(eventBatchSize: eventBatchSize, eventFlushInterval: eventFlushInterval)
        return (journal, try journal.open(run: run))
    }

    /// The first column of a query's rows, read by another connection (the
    /// tables and columns are the same in both stores).
    func strings(_ sql: String) throws -> [String?] {
        switch kind {
        case .sqlite:
            let db = try Database(path: dir!.path("run.journal"), readOnly: true)
            defer { db.close() }
            return try db.query(sql) { $0.string(0) }
        case .postgres:
            let location = try PostgresLocation(parsing: url!)
            let db = try PostgresJournal.connect(location, environment: ProcessInfo.processInfo.environment,
                                                 applicationName: "relevo test")
            defer { db.close() }
            return try db.exec(sql).map { $0.string(0) }
        }
    }

    func count(_ sql: String) throws -> Int64 {
        try strings(sql).first.flatMap { $0.flatMap { Int64($0) } } ?? -1
    }

    func remove() {
        switch kind {
        case .sqlite:
            dir?.remove()
        case .postgres:
            guard let url, let location = try? PostgresLocation(parsing: url),
                  let db = try? PostgresJournal.connect(location, environment: ProcessInfo.processInfo.environment,
                                                        applicationName: "relevo test") else { return }
            _ = try? db.exec("DROP SCHEMA IF EXISTS \(location.schema) CASCADE")
            db.close()
        }
    }
}

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("relevo-journal-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A run with fixed values, and a start time with sub-microsecond digits
/// (which must round-trip exactly).
func sampleRun(holder: String = "test-host:1", digest: String = String(repeating: "ab", count: 32),
               mode: String = "simulate", seed: UInt64 = UInt64.max - 6) -> RunInfo {
    RunInfo(mode: mode, planName: "exalumnos", planDigest: digest,
            startedAt: Date(timeIntervalSinceReferenceDate: 798_765_432.123_456_789), seed: seed, holder: holder)
}
