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

    /// The stored form of a set: '' for nil (a global phase).
    static func setKey(_ set: String?) throws -> String {
        guard let set else { return "" }
        guard !set.isEmpty else {
            throw JournalError.storage("a set name cannot be empty (nil is the global scope)")
        }
        return set
    }

    static func checkOperation(_ key: StepKey, _ recorded: String) throws {
        guard recorded == key.operation else {
            throw JournalError.storage("\(describe(key)) was recorded as '\(recorded)', not '\(key.operation)'")
        }
    }

    static func encodeUndo(_ undo: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(undo), as: UTF8.self)
    }

    static func decodeUndo(_ json: String, key: StepKey) throws -> [String: String] {
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        } catch {
            throw JournalError.storage("unreadable undo values for \(describe(key)): \(error)")
        }
    }

    /// `phase 'p' set 's' step 2 'copy' (undo)`, for messages.
    static func describe(_ key: StepKey) -> String {
        let scope = key.set.map { "phase '\(key.phase)' set '\($0)'" } ?? "global phase '\(key.phase)'"
        return "\(scope) step \(key.index) '\(key.operation)'\(key.undo ? " (undo)" : "")"
    }
}
