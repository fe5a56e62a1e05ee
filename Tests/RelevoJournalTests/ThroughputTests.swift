import Foundation
import Testing
import RelevoEngine
@testable import RelevoJournal

/// A measurement, not an assertion: how long N intent+result pairs take with
/// the journal's durability rule (a synced intent, an unsynced result). Off by default; run with
/// `RELEVO_JOURNAL_BENCH=10000 swift test --filter ThroughputTests`.
@Suite struct ThroughputTests {
    static let pairs = Int(ProcessInfo.processInfo.environment["RELEVO_JOURNAL_BENCH"] ?? "") ?? 0

    @Test(.enabled(if: pairs > 0)) func intentAndResultPairs() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (journal, _) = try openJournal(dir)
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for i in 0..<Self.pairs {
                let key = StepKey(phase: "migrate", set: "user\(i / 4)@example.org", index: i % 4, operation: "copy")
                try journal.recordIntent(key, detail: "copy mailbox")
                try journal.recordResult(key, outcome: StepOutcome(status: .done, undo: ["mailHost": "old.example"],
                                                                   bytes: 1_000, messages: 3, seconds: 0.5))
            }
        }
        try journal.close()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("journal throughput: \(Self.pairs) intent+result pairs in \(seconds) s "
              + "(\(Int(Double(Self.pairs) / seconds)) pairs/s, \(seconds / Double(Self.pairs) * 1e6) µs/pair)")
    }
}
