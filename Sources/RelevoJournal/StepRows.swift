// How steps are stored in rows, and named in messages.
import Foundation
import RelevoEngine

extension SQLiteJournal {
    static let stepColumns =
        "idx, operation, undo, detail, status, undo_json, evidence, bytes, messages, seconds"

    /// The stored record of `key`, if any.
    static func step(_ key: StepKey, in db: Database) throws -> StepRecord? {
        try db.query("""
            SELECT \(stepColumns) FROM steps WHERE phase = ?1 AND set_key = ?2 AND idx = ?3 AND undo = ?4
            """, keyValues(key)) { row in
            try stepRecord(row, phase: key.phase, set: key.set)
        }.first
    }

    static func stepRecord(_ row: Statement, phase: String, set: String?) throws -> StepRecord {
        let key = StepKey(phase: phase, set: set, index: Int(row.int64(0)), operation: row.string(1) ?? "",
                          undo: row.int64(2) != 0)
        var outcome: StepOutcome?
        if let name = row.string(4) {
            guard let status = StepOutcome.Status(rawValue: name) else {
                throw JournalError.storage("unknown step status '\(name)' for \(describe(key))")
            }
            outcome = StepOutcome(status: status, undo: try decodeUndo(row.string(5) ?? "{}", key: key),
                                  evidence: row.string(6) ?? "", bytes: row.int64(7),
                                  messages: Int(row.int64(8)), seconds: row.double(9))
        }
        return StepRecord(key: key, detail: row.string(3) ?? "", outcome: outcome)
    }

    /// ?1 phase, ?2 set_key, ?3 idx, ?4 undo.
    static func keyValues(_ key: StepKey) throws -> [SQLValue] {
        [.text(key.phase), .text(try setKey(key.set)), .integer(Int64(key.index)), .integer(key.undo ? 1 : 0)]
    }

    static func setKey(_ set: String?) throws -> String { try JournalRules.setKey(set) }
    static func checkOperation(_ key: StepKey, _ recorded: String) throws { try JournalRules.checkOperation(key, recorded) }
    static func encodeUndo(_ undo: [String: String]) throws -> String { try JournalRules.encodeUndo(undo) }
    static func decodeUndo(_ json: String, key: StepKey) throws -> [String: String] { try JournalRules.decodeUndo(json, key: key) }
    static func describe(_ key: StepKey) -> String { JournalRules.describe(key) }
}
