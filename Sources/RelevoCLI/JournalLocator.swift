import Foundation
import RelevoEngine
import RelevoJournal
import RelevoPostgres

/// What `--journal` names: an SQLite file, or a run in PostgreSQL
/// (`postgresql://USER@HOST:PORT/DB?run=NAME`, docs/scale.md).
enum JournalLocator {
    static func isPostgres(_ journal: String) -> Bool { PostgresLocation.isPostgresURL(journal) }

    /// Whether a run is recorded there already.
    static func exists(_ journal: String) throws -> Bool {
        isPostgres(journal) ? try PostgresJournal.exists(url: journal) : FileManager.default.fileExists(atPath: journal)
    }

    /// A store for the run (not opened).
    /// `durability` applies to an SQLite journal (a PostgreSQL server keeps
    /// its own).
    static func store(_ journal: String, durability: SQLiteJournal.Durability = .disk) throws -> any JournalStore {
        isPostgres(journal) ? try PostgresJournal(url: journal) : try SQLiteJournal(path: journal, durability: durability)
    }

    /// Where a run's local files go (a live run's work files, a dry run's
    /// scratch copy): beside an SQLite journal; for a PostgreSQL journal,
    /// `.relevo/runs/RUN` in the current folder.
    static func localBase(_ journal: String) throws -> String {
        guard isPostgres(journal) else { return journal }
        return ".relevo/runs/" + (try PostgresLocation(parsing: journal)).run
    }

    /// The journal read without its lock; the work queue too for PostgreSQL.
    static func inspect(_ journal: String) throws -> (JournalSnapshot, WorkQueueSnapshot?) {
        if isPostgres(journal) {
            let (snapshot, queue) = try PostgresInspection.inspect(url: journal)
            return (snapshot, queue)
        }
        return (try JournalInspection.inspect(path: journal), nil)
    }
}
