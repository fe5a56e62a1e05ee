// A snapshot built from a journal's rows, whichever store kept them.
import Foundation
import RelevoEngine

extension JournalSnapshot {
    /// The snapshot of these rows: the steps in flight (an intent, no
    /// result), the failures, and what the completed copies moved are
    /// derived from `steps` (in the order first recorded).
    public static func build(run: RunInfo, opens: Int, activeHolder: String?, sets: [SetRow], steps: [StepRow],
                             events: [EngineEvent], approvals: [(name: String, by: String)]) -> JournalSnapshot {
        var inFlight: [StepRow] = []
        var failures: [StepRow] = []
        var messages = 0
        var bytes: Int64 = 0
        for step in steps {
            switch step.record.outcome?.status {
            case nil: inFlight.append(step)
            case .failed?: failures.append(step)
            case .done? where step.record.key.operation == "copy" && !step.record.key.undo:
                messages += step.record.outcome?.messages ?? 0
                bytes += step.record.outcome?.bytes ?? 0
            default: break
            }
        }
        return JournalSnapshot(run: run, opens: opens, activeHolder: activeHolder, sets: sets, inFlight: inFlight,
                               failures: failures, steps: steps, events: events, approvals: approvals,
                               messages: messages, bytes: bytes)
    }
}
