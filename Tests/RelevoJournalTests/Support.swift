import Foundation
import RelevoEngine
@testable import RelevoJournal

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

/// Opens a journal in `dir` (file `run.journal`) and returns it with the RunInfo it answered.
func openJournal(_ dir: TempDir, run: RunInfo = sampleRun(), eventBatchSize: Int = 64,
                 eventFlushInterval: Duration = .milliseconds(200)) throws -> (SQLiteJournal, RunInfo) {
    let journal = try SQLiteJournal(path: dir.path("run.journal"), eventBatchSize: eventBatchSize,
                                    eventFlushInterval: eventFlushInterval)
    let info = try journal.open(run: run)
    return (journal, info)
}
