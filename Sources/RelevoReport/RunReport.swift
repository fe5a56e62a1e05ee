import Foundation
import RelevoEngine
import RelevoPlan

/// The run report, the validation after a cutover (or after its rehearsal):
/// per journal, the totals, each set with its gates' evidence, the failures
/// and what their contingency did, a timeline and the bytes copied over
/// time; with a simulation and a live journal, where the live run differed
/// from the rehearsal.
struct RunReport {
    typealias I = ReportDocument.Inline

    let input: ReportInput
    let plan: Plan

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    func kind(_ r: RunFacts) -> String { r.isSimulation ? "simulation" : "live run" }

    func digestText(_ r: RunFacts) -> String {
        guard let digest = input.planDigest else { return "not compared" }
        return r.planDigest == digest ? "matches this plan"
            : "written for another version of the plan (digest \(r.planDigest.prefix(12)), this plan \(digest.prefix(12)))"
    }

    func outcome(_ r: RunFacts) -> String {
        if let reason = r.haltReason { return "halted: \(reason)" }
        if r.finished { return "finished" }
        if r.inFlight > 0 { return "stopped with \(r.inFlight) step\(r.inFlight == 1 ? "" : "s") in flight (resume reads them back)" }
        return "not finished (waiting for an approval, or stopped)"
    }

    func toMigrate(_ r: RunFacts) -> String {
        let (total, unrecorded) = r.bytesToMigrate
        if r.sets.isEmpty { return "no set was selected" }
        return Units.bytes(total) + (unrecorded > 0 ? " (\(unrecorded) sets with no size recorded)" : "")
            + ", the sets' sizes when they were selected"
    }

    func messagesToMigrate(_ r: RunFacts) -> String {
        let (total, unrecorded) = r.messagesToMigrate
        if r.sets.isEmpty { return "no set was selected" }
        if unrecorded == r.sets.count { return "not recorded (a journal written before Relevo counted messages at selection)" }
        return "\(total) messages" + (unrecorded > 0 ? " (\(unrecorded) sets with no count recorded)" : "")
            + ", the sets' message counts when they were selected"
    }

    func gatesText(_ s: RunFacts.SetRun) -> String {
        s.gates.isEmpty ? "no gate ran" : s.gates.map { "\($0.operation) \($0.status == "done" ? "passed" : $0.status): \($0.evidence)" }.joined(separator: "; ")
    }

    // MARK: Document

    func document() -> ReportDocument {
        var d = ReportDocument(title: "Run report: \(plan.name)")
        d.paragraph(.text("Plan file "), .code(input.planPath), .text(". Times are seconds since each run started, as its journal records them: "
                    + "virtual (charged from the plan's fixture timing) in a simulation, measured in a live run."))
        d.table("Journals", ["journal", "kind", "started (UTC)", "opened", "plan", "outcome"], input.runs.map { r in
            [I.c(r.path), I.t(kind(r)), I.t(Self.timestamp(r.startedAt)), I.t(r.opens == 1 ? "once" : "\(r.opens) times (resumed)"),
             I.t(digestText(r)), I.t(outcome(r))]
        })
        for (n, r) in input.runs.enumerated() {
            section(&d, r, number: n + 1)
        }
        if let sim = input.runs.first(where: { $0.isSimulation }), let live = input.runs.first(where: { !$0.isSimulation }) {
            comparison(&d, sim, live)
        }
        return d
    }

    private func section(_ d: inout ReportDocument, _ r: RunFacts, number: Int) {
        d.heading(2, "\(number). The \(kind(r)) of journal \((r.path as NSString).lastPathComponent)")
        let failedSets = Set(r.failures.compactMap { f in f.set.map { f.phase + "/" + $0 } })
        d.table("Totals", ["", "value"], [
            [I.t("sets"), I.t("\(r.sets.count): \(r.count(.migrated)) migrated, \(r.count(.failed)) failed, \(r.count(.undone)) undone, "
                              + "\(r.sets.count - r.count(.migrated) - r.count(.failed) - r.count(.undone)) other (pending, running, skipped)")],
            [I.t("sets with a failed step or gate"), I.t("\(failedSets.count)")],
            [I.t("messages to migrate"), I.t(messagesToMigrate(r))],
            [I.t("messages migrated"), I.t("\(r.messagesMigrated) files copied")],
            [I.t("bytes to migrate"), I.t(toMigrate(r))],
            [I.t("bytes migrated"), I.t(Units.bytes(r.bytesMigrated) + " copied (\(r.bytesMigrated) bytes)")],
            [I.t(r.isSimulation ? "duration (estimate)" : "duration"), I.t(Units.duration(r.end))],
            [I.t("outcome"), I.t(outcome(r))],
            [I.t("approvals"), I.t(r.approvals.map { "\($0.name) (by \($0.by))" }.joined(separator: ", ").nonEmpty ?? "none")],
        ])
        d.table("Phases", ["phase", "state", "started at", "duration"], r.phases.map { p in
            [I.c(p.name), I.t(p.state.nonEmpty ?? "no set"), I.t(p.start.map(Units.duration) ?? "not started"),
             I.t(p.seconds.map(Units.duration) ?? "not finished")]
        })
        d.table("Sets", ["set", "phase", "state", "started at", "duration", "bytes to migrate", "copied", "gates"], r.sets.map { s in
            [I.c(s.key), I.c(s.phase), I.t(s.state.rawValue), I.t(s.start.map(Units.duration) ?? "not started"),
             I.t(s.seconds.map(Units.duration) ?? "not finished"), I.t(s.bytesToMigrate.map(Units.bytes) ?? "not recorded"),
             I.t("\(s.messages) files, \(Units.bytes(s.bytes))"), I.t(gatesText(s))]
        })
        d.heading(3, "Failures")
        if r.failures.isEmpty {
            d.paragraph(.text("No step or gate failed."))
        } else {
            d.table("Failures and what the contingency did", ["where", "failed", "evidence", "what the contingency did"], r.failures.map { f in
                [I.c(f.set.map { "\(f.phase)/\($0)" } ?? f.phase), I.t((f.isGate ? "gate " : "step ") + f.operation), I.t(f.evidence),
                 I.t(f.actions.joined(separator: "; ").nonEmpty ?? "nothing recorded after it")]
            })
        }
        d.heading(3, "Timeline")
        let timelineLabel = "Timeline of the \(kind(r)): one bar per global phase and per set, from its start to its end, "
            + "green migrated, orange undone, red failed, grey unfinished"
        d.blocks.append(.figure(.init(id: "timeline-\(number)", caption: timelineLabel, svg: Charts.timeline(r, label: timelineLabel),
                                      fallback: [.paragraph([.text("Drawn in the HTML report; the sets table above has each set's start and duration.")])])))
        let throughputLabel = "Bytes copied over time in the \(kind(r)): \(Units.bytes(r.bytesMigrated)) in \(Units.duration(r.end))"
            + (r.end > 0 ? ", \(Units.bytes(Int64(Double(r.bytesMigrated) / r.end)))/s on average" : "")
        d.blocks.append(.figure(.init(id: "throughput-\(number)", caption: throughputLabel, svg: Charts.throughput(r, label: throughputLabel),
                                      fallback: [])))
    }

    // MARK: Rehearsal against the live run

    struct SetComparison {
        var phase: String
        var key: String
        var rehearsal: RunFacts.SetRun?
        var live: RunFacts.SetRun?
        var difference: Double? {
            guard let a = rehearsal?.seconds, let b = live?.seconds else { return nil }
            return b - a
        }
    }

    func compare(_ sim: RunFacts, _ live: RunFacts) -> [SetComparison] {
        var out: [SetComparison] = []
        for s in sim.sets { out.append(SetComparison(phase: s.phase, key: s.key, rehearsal: s, live: nil)) }
        for s in live.sets {
            if let i = out.firstIndex(where: { $0.phase == s.phase && $0.key == s.key }) { out[i].live = s } else {
                out.append(SetComparison(phase: s.phase, key: s.key, rehearsal: nil, live: s))
            }
        }
        return out
    }

    static func quantile(_ values: [Double], _ q: Double) -> Double? {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
    }

    /// Failed in one run and not in the other.
    func failureDifferences(_ sim: RunFacts, _ live: RunFacts) -> [(scope: String, rehearsal: String, live: String)] {
        func scope(_ f: RunFacts.Failure) -> String { f.set.map { "\(f.phase)/\($0)" } ?? f.phase }
        func failed(_ r: RunFacts) -> [String: String] {
            Dictionary(r.failures.map { (scope($0), "\($0.operation): \($0.evidence)") }, uniquingKeysWith: { a, _ in a })
        }
        let a = failed(sim), b = failed(live)
        var scopes: [String] = []
        for f in sim.failures + live.failures where !scopes.contains(scope(f)) { scopes.append(scope(f)) }
        return scopes.compactMap { s in
            a[s] == nil || b[s] == nil ? (s, a[s] ?? "did not fail", b[s] ?? "did not fail") : nil
        }
    }

    private func comparison(_ d: inout ReportDocument, _ sim: RunFacts, _ live: RunFacts) {
        d.heading(2, "The live run against its rehearsal")
        d.paragraph(.text("Rehearsal "), .code(sim.path), .text(", live run "), .code(live.path),
                    .text(". The rehearsal's times are virtual, charged from the plan's fixture timing; the live run's are measured."))
        let pairs = compare(sim, live)
        let simSeconds = sim.sets.compactMap(\.seconds), liveSeconds = live.sets.compactMap(\.seconds)
        func q(_ v: [Double], _ x: Double) -> String { Self.quantile(v, x).map(Units.duration) ?? "—" }
        d.table("Rehearsal and live run", ["", "rehearsal", "live run"], [
            [I.t("duration"), I.t(Units.duration(sim.end)), I.t(Units.duration(live.end))],
            [I.t("sets migrated"), I.t("\(sim.count(.migrated)) of \(sim.sets.count)"), I.t("\(live.count(.migrated)) of \(live.sets.count)")],
            [I.t("sets failed or undone"), I.t("\(sim.count(.failed) + sim.count(.undone))"), I.t("\(live.count(.failed) + live.count(.undone))")],
            [I.t("bytes copied"), I.t(Units.bytes(sim.bytesMigrated)), I.t(Units.bytes(live.bytesMigrated))],
            [I.t("per set, median"), I.t(q(simSeconds, 0.5)), I.t(q(liveSeconds, 0.5))],
            [I.t("per set, 90th percentile"), I.t(q(simSeconds, 0.9)), I.t(q(liveSeconds, 0.9))],
            [I.t("per set, longest"), I.t(q(simSeconds, 1)), I.t(q(liveSeconds, 1))],
        ])
        let differing = pairs.filter { $0.difference != nil }
            .sorted { abs($0.difference!) > abs($1.difference!) || abs($0.difference!) == abs($1.difference!) && $0.key < $1.key }
            .prefix(10)
        if !differing.isEmpty {
            d.table("The sets whose live duration differed most from the rehearsal's", ["set", "phase", "rehearsal", "live run", "difference"],
                    differing.map { c in
                        [I.c(c.key), I.c(c.phase), I.t(Units.duration(c.rehearsal!.seconds!)), I.t(Units.duration(c.live!.seconds!)),
                         I.t((c.difference! >= 0 ? "+" : "−") + Units.duration(abs(c.difference!)))]
                    })
        }
        let unmatched = pairs.filter { $0.rehearsal == nil || $0.live == nil }
        if !unmatched.isEmpty {
            d.paragraph(.text("Sets in only one of the runs: " + unmatched.map { "\($0.key) (\($0.rehearsal == nil ? "live only" : "rehearsal only"))" }
                .joined(separator: ", ") + "."))
        }
        let failures = failureDifferences(sim, live)
        if failures.isEmpty {
            d.paragraph(.text("Both runs failed in the same places" + (sim.failures.isEmpty ? " (nowhere)." : ".")))
        } else {
            d.table("Failures in one run and not the other", ["where", "rehearsal", "live run"], failures.map { f in
                [I.c(f.scope), I.t(f.rehearsal), I.t(f.live)]
            })
        }
    }

    // MARK: JSON

    func json() -> JSON {
        func run(_ r: RunFacts) -> JSON {
            .object([
                ("journal", .string(r.path)),
                ("mode", .string(r.mode)),
                ("started_at", .string(Self.timestamp(r.startedAt))),
                ("opens", .int(r.opens)),
                ("plan", .string(digestText(r))),
                ("outcome", .string(outcome(r))),
                ("halt_reason", .optional(r.haltReason)),
                ("seconds", .double(r.end)),
                ("totals", .object([
                    ("sets", .int(r.sets.count)), ("migrated", .int(r.count(.migrated))), ("failed", .int(r.count(.failed))),
                    ("undone", .int(r.count(.undone))),
                    ("messages_to_migrate", r.messagesToMigrate.unrecorded == r.sets.count ? .null : .int(r.messagesToMigrate.total)),
                    ("messages_migrated", .int(r.messagesMigrated)),
                    ("bytes_to_migrate", .int(Int(r.bytesToMigrate.total))), ("sets_without_size", .int(r.bytesToMigrate.unrecorded)),
                    ("bytes_migrated", .int(Int(r.bytesMigrated))),
                ])),
                ("phases", .array(r.phases.map { p in
                    .object([("name", .string(p.name)), ("per_set", .bool(p.perSet)), ("state", .string(p.state)),
                             ("start", p.start.map(JSON.double) ?? .null), ("seconds", p.seconds.map(JSON.double) ?? .null)])
                })),
                ("sets", .array(r.sets.map { s in
                    .object([("key", .string(s.key)), ("phase", .string(s.phase)), ("state", .string(s.state.rawValue)),
                             ("start", s.start.map(JSON.double) ?? .null), ("seconds", s.seconds.map(JSON.double) ?? .null),
                             ("bytes_to_migrate", s.bytesToMigrate.map { .int(Int($0)) } ?? .null),
                             ("bytes", .int(Int(s.bytes))), ("files", .int(s.messages)),
                             ("gates", .array(s.gates.map { g in
                                 .object([("operation", .string(g.operation)), ("status", .string(g.status)), ("evidence", .string(g.evidence))])
                             }))])
                })),
                ("failures", .array(r.failures.map { f in
                    .object([("phase", .string(f.phase)), ("set", .optional(f.set)), ("operation", .string(f.operation)),
                             ("gate", .bool(f.isGate)), ("evidence", .string(f.evidence)),
                             ("contingency", .array(f.actions.map(JSON.string)))])
                })),
                ("approvals", .array(r.approvals.map { .object([("name", .string($0.name)), ("by", .string($0.by))]) })),
            ])
        }
        var comparison: JSON = .null
        if let sim = input.runs.first(where: { $0.isSimulation }), let live = input.runs.first(where: { !$0.isSimulation }) {
            comparison = .object([
                ("rehearsal", .string(sim.path)), ("live", .string(live.path)),
                ("seconds", .object([("rehearsal", .double(sim.end)), ("live", .double(live.end))])),
                ("sets", .array(compare(sim, live).map { c in
                    .object([("key", .string(c.key)), ("phase", .string(c.phase)),
                             ("rehearsal_seconds", c.rehearsal?.seconds.map(JSON.double) ?? .null),
                             ("live_seconds", c.live?.seconds.map(JSON.double) ?? .null),
                             ("rehearsal_state", .optional(c.rehearsal?.state.rawValue)), ("live_state", .optional(c.live?.state.rawValue))])
                })),
                ("failure_differences", .array(failureDifferences(sim, live).map { f in
                    .object([("where", .string(f.scope)), ("rehearsal", .string(f.rehearsal)), ("live", .string(f.live))])
                })),
            ])
        }
        return .object([
            ("report", .string("run")),
            ("version", .int(1)),
            ("plan", .object([("name", .string(plan.name)), ("file", .string(input.planPath))])),
            ("runs", .array(input.runs.map(run))),
            ("comparison", comparison),
        ])
    }
}
