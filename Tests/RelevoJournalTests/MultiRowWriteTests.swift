import Foundation
import RelevoEngine
@testable import RelevoJournal
import Testing

/// Member lists and held rows are written by multi-row statements: the
/// rows, their order and the all-or-nothing of a write are those of one
/// statement per row.
@Suite struct MultiRowWriteTests {
    @Test func aMemberListIsWrittenInOrderAndUpdatedInPlace() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        // 16 + 16 + 5 rows: every chunk size path.
        let members = (0..<37).map { (set: "user\($0)", state: SetState.pending, detail: Optional("{\"i\":\($0)}")) }
        try journal.setStates(phase: "users", members)
        var written = try journal.setStates(phase: "users")
        #expect(written.map(\.set) == members.map(\.set))
        #expect(written.map(\.detail) == members.map(\.detail))
        // Updating some (in another order) keeps each set's first place.
        let changed = members.reversed().prefix(20).map { (set: $0.set, state: SetState.migrated, detail: Optional<String>.none) }
        try journal.setStates(phase: "users", Array(changed))
        written = try journal.setStates(phase: "users")
        #expect(written.map(\.set) == members.map(\.set))
        #expect(written.filter { $0.state == .migrated }.count == 20)
        #expect(written.suffix(20).allSatisfy { $0.state == .migrated && $0.detail == nil })
    }

    @Test func aDistinctListWithABadNameWritesNothing() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let members = (0..<40).map { (set: "user\($0)", state: SetState.pending, detail: Optional("{}")) }
        #expect(throws: (any Error).self) {
            try journal.setStates(phase: "users", Array(members.prefix(20)) + [(set: "", state: .pending, detail: nil)]
                                  + Array(members.suffix(20)))
        }
        #expect(try journal.setStates(phase: "users").isEmpty)
    }

    @Test func eventsKeepTheirOrderAcrossChunks() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        defer { try? journal.close() }
        let events = (0..<50).map { EngineEvent(.stepDone, at: Double($0), phase: "users", set: "s\($0 % 7)", operation: "copy",
                                                  message: "event \($0)", bytes: Int64($0)) }
        for event in events { try journal.append(event) }
        let read = try journal.events()
        #expect(read.map(\.message) == events.map(\.message))
        #expect(read.map(\.at) == events.map(\.at))
        #expect(read.map(\.set) == events.map(\.set))
    }
}
