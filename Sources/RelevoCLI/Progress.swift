import Foundation
import RelevoEngine

/// Progress of a run on stderr: on a terminal, one line rewritten in place
/// (sets done of total, bytes, throughput, ETA); otherwise one plain line per
/// set finished and per phase, which logs and CI keep well.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let live: (@Sendable (String) -> Void)?
    private let tty: Bool
    private var lines = ""
    private var done = 0
    private var total: Int
    private var bytes: Int64 = 0
    private var phase = ""
    private let started = Date()
    private var phaseStart = Date()
    private var finishedBefore = 0
    private var drewLine = false

    init(live: (@Sendable (String) -> Void)?, tty: Bool, total: Int) {
        self.live = live
        self.tty = tty && live != nil
        self.total = total
    }

    /// What was written while not live (tests, pipes without a live sink).
    var buffered: String? { live == nil ? lines : nil }

    func observe(_ event: EngineEvent) {
        lock.withLock {
            bytes += event.bytes
            switch event.kind {
            case .phaseStarted:
                phase = event.phase ?? ""
                done = 0
                total = 0
                finishedBefore = 0
                phaseStart = Date()
                emit("\(phase): started")
            case .setsSelected:
                if let selection = event.selection {
                    total = selection.total
                    finishedBefore = selection.finishedBefore
                }
            case .setSkipped:
                emit("\(phase): \(event.set ?? "") skipped: \(event.message)")
            case .setMigrated where event.set != nil:
                done += 1
                emit("\(phase): \(event.set!) migrated (\(done) done)")
            case .setUndone, .setFailed:
                done += 1
                emit("\(phase): \(event.set ?? "phase") \(event.kind == .setUndone ? "undone" : "failed"): \(event.message)")
            case .halted:
                emit("halted: \(event.message)")
            default:
                break
            }
        }
    }

    private func emit(_ line: String) {
        guard tty, let live else {
            let text = "relevo: \(line)\n"
            if let live { live(text) } else { lines += text }
            return
        }
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(bytes) / elapsed : 0
        var sets = "\(done + finishedBefore) sets done"
        if total > 0 {
            sets = "\(done + finishedBefore)/\(total) sets"
            let inPhase = Date().timeIntervalSince(phaseStart)
            if done > 0 && done + finishedBefore < total {
                let eta = inPhase / Double(done) * Double(total - done - finishedBefore)
                sets += ", ETA \(Duration.text(eta))"
            }
        }
        let status = "\u{1B}[2K\r\(phase): \(sets), \(Bytes.text(bytes)), \(Bytes.text(Int64(rate)))/s  \(line)"
        live(status)
        drewLine = true
    }

    func finish() {
        lock.withLock {
            if drewLine, let live { live("\n") }
        }
    }
}
