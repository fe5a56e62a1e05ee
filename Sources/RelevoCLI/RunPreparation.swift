import Foundation
import RelevoBasics
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoPlan
import RelevoPostgres
import RelevoReport
import RelevoStore

/// What `simulate` and `run` share before the engine starts: the plan
/// checked clean, the journal opened (new, or the one to resume, locked),
/// the approvals given; and the summary they print after.
struct PreparedRun {
    var planPath: String
    var planFolder: String
    var plan: Plan
    var graph: PlanGraph
    var journal: any JournalStore
    var info: RunInfo
    /// The `--journal` argument: a file, or a postgresql:// URL.
    var journalPath: String
    /// Where the run's local files go (`JournalLocator.localBase`).
    var localBase: String
    var approvals: ApprovalPolicy
    var format: String
    var resume: Bool
}

enum RunPreparation {
    struct Fail: Error {
        var status: ExitStatus
        init(_ status: ExitStatus) { self.status = status }
    }

    /// `resume` forces the journal to be an existing run's (`undo`); otherwise
    /// `--resume` says so.
    static func prepare(_ parsed: ParsedArguments, mode: String, spec: CommandSpec, resume forced: Bool = false,
                        console: inout Console) -> Result<PreparedRun, Fail> {
        guard parsed.positionals.count == 1, let planPath = parsed.positionals.first else {
            console.error(parsed.positionals.isEmpty ? "missing PLAN" : "\(mode) takes one PLAN")
            console.err(Help.usageHint(spec))
            return .failure(Fail(.usage))
        }
        let format = parsed.value("format") ?? "text"
        let plan: Plan, graph: PlanGraph, digest: String
        switch checkedPlan(planPath, console: &console) {
        case .success(let checked): (plan, graph, digest) = checked
        case .failure(let fail): return .failure(fail)
        }

        var seed: UInt64 = 1
        if let s = parsed.value("seed") {
            guard let n = UInt64(s) else {
                console.error("--seed takes a non-negative integer, not '\(s)'")
                return .failure(Fail(.usage))
            }
            seed = n
        }
        let resume = forced || parsed.flag("resume")
        let journalPath: String
        if let j = parsed.value("journal") {
            journalPath = j
        } else if resume {
            console.error("--resume needs --journal FILE: the journal of the run to continue")
            return .failure(Fail(.usage))
        } else {
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!,
                                                    formatOptions: [.withYear, .withMonth, .withDay, .withTime])
            journalPath = ".relevo/runs/\(plan.name)-\(stamp).journal"
        }
        let journalExists: Bool
        do { journalExists = try JournalLocator.exists(journalPath) } catch {
            console.error("\(journalPath): \(error)")
            return .failure(Fail(.unreadable))
        }
        if resume && !journalExists {
            console.error("no journal at \(journalPath) to resume")
            return .failure(Fail(.unreadable))
        }
        if !resume && journalExists {
            console.error("\(journalPath) already holds a run", help: "continue it with --resume, or name a new --journal")
            return .failure(Fail(.usage))
        }
        let localBase: String
        do { localBase = try JournalLocator.localBase(journalPath) } catch {
            console.error("\(error)")
            return .failure(Fail(.usage))
        }
        try? FileManager.default.createDirectory(atPath: (localBase as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)

        let approvals: ApprovalPolicy = parsed.values("approve").contains("all")
            ? .all : .given(Set(parsed.values("approve")))
        let holder = "\(ProcessInfo.processInfo.hostName):\(getpid())"

        let journal: any JournalStore
        let info: RunInfo
        do {
            // A dry run's world (its scratch copy) is not synced to disk, so
            // its SQLite journal need not be either (see SQLiteJournal.Durability).
            journal = try JournalLocator.store(journalPath, durability: mode == "simulate" ? .process : .disk)
            info = try journal.open(run: RunInfo(mode: mode, planName: plan.name, planDigest: digest,
                                                 startedAt: Date(), seed: seed, holder: holder))
        } catch let error as JournalError {
            console.error("\(journalPath): \(error)")
            if case .locked = error { return .failure(Fail(.busy)) }
            return .failure(Fail(.usage))
        } catch {
            console.error("\(journalPath): \(error)")
            return .failure(Fail(.unreadable))
        }
        return .success(PreparedRun(planPath: planPath, planFolder: (planPath as NSString).deletingLastPathComponent.nonEmpty ?? ".",
                                    plan: plan, graph: graph, journal: journal, info: info, journalPath: journalPath,
                                    localBase: localBase,
                                    approvals: approvals, format: format, resume: resume))
    }

    /// The plan, checked clean (errors only; warnings are the operator's
    /// call), its graph and the digest of its text (a journal's plan check).
    static func checkedPlan(_ planPath: String, console: inout Console) -> Result<(Plan, PlanGraph, String), Fail> {
        let analysis = PlanAnalysis.analyse(planPath, lint: false)
        if let reason = analysis.readError {
            console.error("cannot read \(planPath): \(reason)")
            return .failure(Fail(.unreadable))
        }
        guard let checked = analysis.result, let plan = checked.plan, let graph = checked.graph, !checked.hasErrors else {
            console.err(TextReport.render([analysis], color: console.useColor(.auto, for: .err)))
            return .failure(Fail(.planErrors))
        }
        return .success((plan, graph, SHA256.hexHash(Array(checked.source.text.utf8))))
    }

    /// `--coordinate` and `--workers N` (a PostgreSQL journal only): who runs
    /// the per-set phases' sets, and how many local workers to start. Nil:
    /// this process, as without a work queue.
    static func dispatch(_ parsed: ParsedArguments, _ prepared: PreparedRun,
                         console: inout Console) -> Result<(dispatch: (any SetDispatch)?, workers: Int), Fail> {
        let count = parsed.value("workers")
        guard parsed.flag("coordinate") || count != nil else { return .success((nil, 0)) }
        guard let queue = prepared.journal as? PostgresJournal else {
            console.error("--coordinate and --workers need a postgresql:// journal (the work queue)",
                          help: "see docs/scale.md")
            return .failure(Fail(.usage))
        }
        var n = 0
        if let count {
            guard let v = Int(count), (1...64).contains(v) else {
                console.error("--workers takes a count from 1 to 64, not '\(count)'")
                return .failure(Fail(.usage))
            }
            n = v
        }
        return .success((WorkQueueDispatch(journal: queue), n))
    }

    /// Starts `count` local `relevo worker` processes on the prepared run
    /// (they exit once the run lock is released).
    static func startWorkers(_ count: Int, _ prepared: PreparedRun, console: inout Console) -> Result<[Process], Fail> {
        var workers: [Process] = []
        for i in 0..<count {
            let worker = Process()
            worker.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            worker.arguments = ["worker", prepared.planPath, "--journal", prepared.journalPath,
                                "--name", "\(ProcessInfo.processInfo.hostName):\(getpid()):\(i + 1)"]
            // Their summaries are progress here: stdout keeps only the run's summary.
            worker.standardOutput = FileHandle.standardError
            do { try worker.run() } catch {
                console.error("cannot start worker \(i + 1): \(error)")
                workers.forEach { $0.terminate() }
                return .failure(Fail(.unreadable))
            }
            workers.append(worker)
        }
        return .success(workers)
    }

    /// Prints the summary; exit 0 when every selected set migrated, 3 otherwise.
    static func report(_ summary: RunSummary, mode: String, format: String, plan: String, journal: String,
                       console: inout Console) -> ExitStatus {
        if format == "json" {
            console.out(jsonSummary(summary, mode: mode, journal: journal))
        } else {
            console.out(textSummary(summary, mode: mode, plan: plan, journal: journal))
        }
        let complete = !summary.halted && summary.waitingFor == nil && summary.sets.failed == 0
            && summary.sets.undone == 0 && summary.sets.pending == 0
        return complete ? .success : .halted
    }

    static func textSummary(_ s: RunSummary, mode: String, plan: String, journal: String) -> String {
        var out = "relevo \(mode) \(plan)\n"
        out += "  journal   \(journal)\n"
        for p in s.phases {
            var line = "  phase     \(p.name): \(p.state), \(Duration.text(p.seconds))"
            if p.perSet, !p.setSeconds.isEmpty {
                let sorted = p.setSeconds.sorted()
                func q(_ f: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * f))] }
                line += " (\(p.setSeconds.count) sets; per set p50 \(Duration.text(q(0.5))), p90 \(Duration.text(q(0.9))), max \(Duration.text(sorted.last!)))"
            }
            out += line + "\n"
        }
        let t = s.sets
        out += "  sets      \(t.migrated) migrated, \(t.failed) failed, \(t.undone) undone, \(t.pending) pending, of \(t.total)"
            + (t.refused > 0 ? " (\(t.refused) refused for unsafe data)" : "") + "\n"
        out += "  gates     \(s.gates.passed) passed, \(s.gates.failed) failed\n"
        out += "  copied    \(s.messages) files, \(Bytes.text(s.bytes))\n"
        if mode == "simulate" {
            out += "  estimate  \(Duration.text(s.seconds)) for the live run (virtual time, from the plan's fixture timing)\n"
        } else {
            out += "  took      \(Duration.text(s.seconds))\n"
        }
        if let reason = s.haltReason { out += "  halted    \(reason)\n" }
        if let waiting = s.waitingFor {
            out += "  waiting   for approval '\(waiting)': resume with --journal \(journal) --resume --approve \(waiting)\n"
        }
        return out
    }

    static func jsonSummary(_ s: RunSummary, mode: String, journal: String) -> String {
        let t = s.sets
        let document: JSON = .object([
            ("mode", .string(mode)),
            ("halted", .bool(s.halted)),
            ("halt_reason", s.haltReason.map(JSON.string) ?? .null),
            ("waiting_for", s.waitingFor.map(JSON.string) ?? .null),
            ("sets", .object([("total", .int(t.total)), ("migrated", .int(t.migrated)), ("failed", .int(t.failed)),
                              ("undone", .int(t.undone)), ("pending", .int(t.pending)), ("refused", .int(t.refused))])),
            ("gates", .object([("passed", .int(s.gates.passed)), ("failed", .int(s.gates.failed))])),
            ("bytes", .int(Int(s.bytes))),
            ("files", .int(s.messages)),
            (mode == "simulate" ? "estimate_seconds" : "seconds", .double(s.seconds)),
            ("phases", .array(s.phases.map { p in
                .object([("name", .string(p.name)), ("state", .string(p.state)), ("seconds", .double(p.seconds)),
                         ("sets", .int(p.setSeconds.count))])
            })),
            ("journal", .string(journal)),
        ])
        return document.serialized()
    }
}
