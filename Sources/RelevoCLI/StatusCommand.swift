import Foundation
import RelevoEngine
import RelevoJournal
import RelevoPostgres
import RelevoReport

/// `relevo status JOURNAL`: what a run's journal says, read without taking
/// its lock, so it works while the run goes on.
enum StatusCommand {
    static let spec = CommandSpec(
        name: "status", summary: "show what a run's journal says: phases, sets, failures, steps in flight",
        usage: ["status JOURNAL [--format text|json]"],
        description: [
            """
              Reads the journal of a simulation or a live run (it never changes it and
              does not take the run's lock): whether a process holds the run now, the
              state of each phase and the count of sets per state, the steps and gates
              that failed with their evidence, the steps in flight (an intent with no
              result: what --resume will read back), and the approvals given.
            """,
            """
              Over a PostgreSQL journal (postgresql://...?run=NAME, docs/scale.md) it
              also shows every worker (its state, sets done and failed, sets per
              second, last sign of life) and every lease (set, owner, time left).
            """,
        ],
        arguments: [("JOURNAL", "the journal file of a run, or its postgresql:// URL")],
        options: [
            OptionSpec(name: "format", valueName: "FORMAT", choices: ["text", "json"],
                       help: "text (default) or json (one document on stdout)"),
            .help,
        ],
        output: ["The report goes to stdout."],
        examples: [
            ("relevo status .relevo/runs/exalumno-mail-20261204T010000.journal", "where a run stands"),
            ("relevo status j --format json", "the same, for a script"),
        ],
        exits: [.success, .usage, .unreadable])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo status") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard parsed.positionals.count == 1, let path = parsed.positionals.first else {
            console.error(parsed.positionals.isEmpty ? "missing JOURNAL" : "status takes one JOURNAL")
            console.err(Help.usageHint(spec))
            return .usage
        }
        let snapshot: JournalSnapshot
        let queue: WorkQueueSnapshot?
        do { (snapshot, queue) = try JournalLocator.inspect(path) } catch {
            console.error("\(error)")
            return .unreadable
        }
        if parsed.value("format") == "json" {
            console.out(json(snapshot, path: path, queue: queue))
        } else {
            console.out(text(snapshot, path: path) + (queue.map(text) ?? ""))
        }
        return .success
    }

    static func phases(_ s: JournalSnapshot) -> [String] {
        var order: [String] = []
        for row in s.sets where !order.contains(row.phase) { order.append(row.phase) }
        return order
    }

    static func where_(_ phase: String, _ set: String?) -> String {
        set.map { "\(phase)/\($0)" } ?? phase
    }

    static func text(_ s: JournalSnapshot, path: String) -> String {
        var out = "relevo status \(path)\n"
        let started = ISO8601DateFormatter().string(from: s.run.startedAt)
        out += "  run       \(s.run.planName), \(s.run.mode == "run" ? "live run" : "simulation"), started \(started)"
            + (s.opens > 1 ? ", resumed \(s.opens - 1) time\(s.opens == 2 ? "" : "s")" : "") + "\n"
        out += "  now       " + (s.activeHolder.map { "running (held by \($0))" } ?? "not running") + "\n"
        for phase in phases(s) {
            let counts = s.counts(phase: phase)
            if counts.isEmpty, let row = s.sets.first(where: { $0.phase == phase && $0.set == nil }) {
                out += "  phase     \(phase): \(row.state.rawValue)\n"
            } else {
                let parts = SetState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
                out += "  phase     \(phase): \(parts.joined(separator: ", "))\n"
            }
        }
        for row in s.failures {
            let what = row.record.key.undo ? "undo of \(row.record.key.operation)" : row.record.key.operation
            out += "  failed    \(where_(row.phase, row.set)) \(what): \(row.record.outcome?.evidence ?? "")\n"
        }
        for row in s.inFlight {
            out += "  in flight \(where_(row.phase, row.set)) \(row.record.key.operation): \(row.record.detail)"
                + (s.activeHolder == nil ? " (a resume reads its effect back)" : "") + "\n"
        }
        for approval in s.approvals {
            out += "  approved  \(approval.name) (by \(approval.by))\n"
        }
        out += "  copied    \(s.messages) files, \(Bytes.text(s.bytes))\n"
        return out
    }

    /// The work queue's lines: one per worker, one per lease.
    static func text(_ q: WorkQueueSnapshot) -> String {
        var out = ""
        for w in q.workers {
            out += "  worker    \(w.owner): \(w.state), \(w.setsDone) done, \(w.setsFailed) failed, "
                + String(format: "%.2f sets/s", w.setsPerSecond) + ", seen \(Duration.text(max(0, w.silentFor))) ago\n"
        }
        for l in q.leases {
            let time = l.expiresIn >= 0 ? "expires in \(Duration.text(l.expiresIn))" : "expired \(Duration.text(-l.expiresIn)) ago"
            out += "  lease     \(l.phase)/\(l.set) by \(l.owner), \(time)"
                + (l.hosts.isEmpty ? "" : " (hosts \(l.hosts.joined(separator: ", ")))")
                + (l.claims > 1 ? ", claimed \(l.claims) times" : "") + "\n"
        }
        return out
    }

    static func json(_ s: JournalSnapshot, path: String, queue: WorkQueueSnapshot? = nil) -> String {
        func step(_ row: JournalSnapshot.StepRow) -> JSON {
            .object([("phase", .string(row.phase)), ("set", row.set.map(JSON.string) ?? .null),
                     ("operation", .string(row.record.key.operation)), ("undo", .bool(row.record.key.undo)),
                     ("detail", .string(row.record.detail)),
                     ("evidence", row.record.outcome.map { .string($0.evidence) } ?? .null)])
        }
        let document: JSON = .object([
            ("journal", .string(path)),
            ("mode", .string(s.run.mode)),
            ("plan", .string(s.run.planName)),
            ("plan_digest", .string(s.run.planDigest)),
            ("started_at", .string(ISO8601DateFormatter().string(from: s.run.startedAt))),
            ("opens", .int(s.opens)),
            ("running", .bool(s.activeHolder != nil)),
            ("holder", s.activeHolder.map(JSON.string) ?? .null),
            ("phases", .array(phases(s).map { phase in
                let counts = s.counts(phase: phase)
                let global = s.sets.first { $0.phase == phase && $0.set == nil }
                return .object([("name", .string(phase)),
                                ("state", global.map { .string($0.state.rawValue) } ?? .null),
                                ("sets", .object(SetState.allCases.map { ($0.rawValue, .int(counts[$0] ?? 0)) }))])
            })),
            ("failures", .array(s.failures.map(step))),
            ("in_flight", .array(s.inFlight.map(step))),
            ("approvals", .array(s.approvals.map { .object([("name", .string($0.name)), ("by", .string($0.by))]) })),
            ("files", .int(s.messages)),
            ("bytes", .int(Int(s.bytes))),
        ] + (queue.map { q in [
            ("workers", JSON.array(q.workers.map { w in
                .object([("owner", .string(w.owner)), ("state", .string(w.state)), ("sets_done", .int(w.setsDone)),
                         ("sets_failed", .int(w.setsFailed)), ("sets_per_second", .double(w.setsPerSecond)),
                         ("silent_seconds", .double(w.silentFor))])
            })),
            ("leases", JSON.array(q.leases.map { l in
                .object([("phase", .string(l.phase)), ("set", .string(l.set)), ("owner", .string(l.owner)),
                         ("hosts", .array(l.hosts.map(JSON.string))), ("expires_in_seconds", .double(l.expiresIn)),
                         ("claims", .int(l.claims))])
            })),
        ] } ?? []))
        return document.serialized()
    }
}
