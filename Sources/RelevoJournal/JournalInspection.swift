import Foundation
import RelevoEngine

/// What a journal says, read without taking the run's lock and without
/// changing anything: for `relevo status` while the run goes on or after,
/// and for `relevo render`'s run report.
public struct JournalSnapshot: Sendable {
    public struct SetRow: Sendable {
        public var phase: String
        public var set: String?
        public var state: SetState
        public var detail: String?

        public init(phase: String, set: String?, state: SetState, detail: String?) {
            (self.phase, self.set, self.state, self.detail) = (phase, set, state, detail)
        }
    }

    public struct StepRow: Sendable {
        public var phase: String
        public var set: String?
        public var record: StepRecord

        public init(phase: String, set: String?, record: StepRecord) {
            (self.phase, self.set, self.record) = (phase, set, record)
        }
    }

    public var run: RunInfo
    /// 1 + the number of resumes.
    public var opens: Int
    /// The process holding the run now, or nil when none does.
    public var activeHolder: String?
    /// Every set and global phase with a state, in the order first recorded.
    public var sets: [SetRow]
    /// Steps with an intent and no result: in flight, or interrupted.
    public var inFlight: [StepRow]
    /// Steps and gates that failed, with their evidence.
    public var failures: [StepRow]
    /// Every step, gate and undo record, in the order first recorded.
    public var steps: [StepRow]
    /// The run's event log, in order (`at`: seconds since the run started,
    /// virtual in a simulation), for reports.
    public var events: [EngineEvent]
    public var approvals: [(name: String, by: String)]
    /// Files and bytes the completed copy steps moved.
    public var messages: Int
    public var bytes: Int64

    /// Count of sets per state, per phase.
    public func counts(phase: String) -> [SetState: Int] {
        var out: [SetState: Int] = [:]
        for row in sets where row.phase == phase && row.set != nil { out[row.state, default: 0] += 1 }
        return out
    }
}

public enum JournalInspection {
    /// Reads the journal at `path`. Throws when it is missing or not a journal.
    public static func inspect(path: String) throws -> JournalSnapshot {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalError.storage("no journal at \(path)")
        }
        let db: Database
        do { db = try Database(path: path, readOnly: true) } catch {
            throw JournalError.storage("\(path): \(error)")
        }
        defer { db.close() }
        do {
            guard let (run, opens) = try db.query("""
                SELECT mode, plan_name, plan_digest, started_at, seed, holder, opens FROM run WHERE id = 1
                """, row: { row in
                (RunInfo(mode: row.string(0) ?? "", planName: row.string(1) ?? "", planDigest: row.string(2) ?? "",
                         startedAt: Date(timeIntervalSinceReferenceDate: row.double(3)),
                         seed: UInt64(bitPattern: row.int64(4)), holder: row.string(5) ?? ""), Int(row.int64(6)))
            }).first else {
                throw JournalError.storage("\(path) holds no run")
            }
            let sets = try db.query("SELECT phase, set_key, state, detail FROM sets ORDER BY id") { row in
                let key = row.string(1) ?? ""
                return JournalSnapshot.SetRow(phase: row.string(0) ?? "", set: key.isEmpty ? nil : key,
                                              state: SetState(rawValue: row.string(2) ?? "") ?? .pending, detail: row.string(3))
            }
            // One pass over the steps, in the order they were first recorded.
            // The step columns come first, as the journal's row decoding reads them.
            let steps = try db.query("SELECT \(SQLiteJournal.stepColumns), phase, set_key FROM steps ORDER BY id") { row in
                let phase = row.string(10) ?? "", key = row.string(11) ?? ""
                let set = key.isEmpty ? nil : key
                return JournalSnapshot.StepRow(phase: phase, set: set,
                                               record: try SQLiteJournal.stepRecord(row, phase: phase, set: set))
            }
            let approvals = try db.query("SELECT name, approved_by FROM approvals ORDER BY id") {
                (name: $0.string(0) ?? "", by: $0.string(1) ?? "")
            }
            let events = try SQLiteJournal.events(in: db)
            return JournalSnapshot.build(run: run, opens: opens, activeHolder: holder(lockPath: path + ".lock"), sets: sets,
                                         steps: steps, events: events, approvals: approvals)
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError.storage("\(path): \(error)")
        }
    }

    /// The holder named in the lock file when a process holds the lock
    /// (tested with a shared, non-blocking flock that is released at once).
    static func holder(lockPath: String) -> String? {
        let fd = open(lockPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        let line = RunLock.firstLine(fd)
        return line.isEmpty ? "unknown holder" : line
    }
}
