import Foundation
import RelevoBasics
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoOperations
import RelevoSimulation
import RelevoStore

/// `relevo simulate PLAN`: the rehearsal. The same engine as a live run, on
/// a scratch copy of the plan's fixtures, with a virtual clock and faults.
enum SimulateCommand {
    enum Format: String, CaseIterable { case text, json }

    static let spec = CommandSpec(
        name: "simulate", summary: "dry-run a plan against its fixtures, with the engine of a live run",
        usage: ["simulate PLAN [--fixtures DIR] [--inject SPEC]... [--journal FILE] [--resume] [--seed N]",
                "         [--approve NAME|all]... [--format text|json]"],
        description: [
            """
              Checks PLAN, copies its fixtures (the LDIF files and host folders named
              under `fixtures:`) into a scratch folder beside the journal, and runs the
              plan there with the engine a live run uses: phases in order, each set's
              steps then gates, canaries, contingencies, the journal. Time is virtual,
              charged from `fixtures: { timing: ... }`, so the run's duration is an
              estimate of the live run's.
            """,
            """
              --inject makes chosen steps fail, so every contingency of the plan can
              be rehearsed: SPEC is TARGET[@SETS]=FAULT, TARGET an operation (copy) or
              PHASE.OPERATION (users.copy), SETS a set key (ceres), a run index (#5)
              or a seeded percentage (10%), FAULT one of fail, timeout, partial (a copy
              stops half way), crash (the process is killed right after the step's
              effect, before its result is journaled; resume with --resume).
            """,
            """
              Approval steps wait for an operator: --approve NAME answers one, --approve
              all answers every one. An unanswered approval stops the run (exit 3);
              resume it with --resume --approve NAME.
            """,
        ],
        arguments: [("PLAN", "the plan file (YAML)")],
        options: [
            OptionSpec(name: "fixtures", valueName: "DIR", help: "the fixture set to use: the folder the plan's fixture paths are relative to, in place of `fixtures: { folder: ... }`"),
            OptionSpec(name: "inject", valueName: "SPEC", help: "inject a fault, TARGET[@SETS]=FAULT (repeatable)"),
            OptionSpec(name: "journal", valueName: "FILE", help: "the run's journal (default: .relevo/runs/PLAN-TIME.journal)"),
            OptionSpec(name: "resume", help: "continue the run recorded in --journal FILE"),
            OptionSpec(name: "seed", valueName: "N", help: "seed for percentages in --inject (default 1; a resume keeps the run's)"),
            OptionSpec(name: "approve", valueName: "NAME", help: "answer the approval NAME, or `all` (repeatable)"),
            OptionSpec(name: "format", valueName: "FORMAT", choices: Format.allCases.map(\.rawValue),
                       help: "text (default) or json (one document on stdout)"),
            .help,
        ],
        output: [
            "The summary goes to stdout: text, or with --format json one document:",
            "{\"mode\":\"simulate\",\"halted\":false,\"sets\":{\"total\":20,\"migrated\":20,...},",
            "\"gates\":{\"passed\":..,\"failed\":..},\"estimate_seconds\":..,\"journal\":..}.",
            "Progress goes to stderr: a live line on a terminal, one line per set otherwise.",
        ],
        examples: [
            ("relevo simulate plans/exalumno.yaml --approve all", "rehearse the bundled plan"),
            ("relevo simulate plans/exalumno.yaml --approve all --inject copy@ceres=fail",
             "rehearse a failed copy: ceres is undone, ops notified, the run halts"),
            ("relevo simulate plans/exalumno.yaml --approve all --journal j --inject 'copy@#3=crash'",
             "crash after the fourth user's copy..."),
            ("relevo simulate plans/exalumno.yaml --journal j --resume", "...and resume where it stopped"),
        ],
        exits: [.success, .planErrors, .usage, .halted, .unreadable, .busy])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo simulate") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard parsed.positionals.count == 1, let planPath = parsed.positionals.first else {
            console.error(parsed.positionals.isEmpty ? "missing PLAN" : "simulate takes one PLAN")
            console.err(Help.usageHint(spec))
            return .usage
        }
        let format = Format(rawValue: parsed.value("format") ?? "text") ?? .text

        // The plan must check clean (errors only; warnings are the operator's call).
        let analysis = PlanAnalysis.analyse(planPath, lint: false)
        if let reason = analysis.readError {
            console.error("cannot read \(planPath): \(reason)")
            return .unreadable
        }
        guard let checked = analysis.result, let plan = checked.plan, let graph = checked.graph, !checked.hasErrors else {
            console.err(TextReport.render([analysis], color: console.useColor(.auto, for: .err)))
            return .planErrors
        }

        var seed: UInt64 = 1
        if let s = parsed.value("seed") {
            guard let n = UInt64(s) else {
                console.error("--seed takes a non-negative integer, not '\(s)'")
                return .usage
            }
            seed = n
        }
        let resume = parsed.flag("resume")
        let journalPath: String
        if let j = parsed.value("journal") {
            journalPath = j
        } else if resume {
            console.error("--resume needs --journal FILE: the journal of the run to continue")
            return .usage
        } else {
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!,
                                                    formatOptions: [.withYear, .withMonth, .withDay, .withTime])
            journalPath = ".relevo/runs/\(plan.name)-\(stamp).journal"
        }
        let journalExists = FileManager.default.fileExists(atPath: journalPath)
        if resume && !journalExists {
            console.error("no journal at \(journalPath) to resume")
            return .unreadable
        }
        if !resume && journalExists {
            console.error("\(journalPath) already holds a run", help: "continue it with --resume, or name a new --journal")
            return .usage
        }
        try? FileManager.default.createDirectory(atPath: (journalPath as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)

        let approvals: ApprovalPolicy = parsed.values("approve").contains("all")
            ? .all : .given(Set(parsed.values("approve")))
        // Fixture paths are relative to --fixtures DIR, else to the plan's
        // `fixtures: { folder: ... }`, itself relative to the plan's folder.
        let planFolder = (planPath as NSString).deletingLastPathComponent.nonEmpty ?? "."
        let fixtureBase: URL
        if let dir = parsed.value("fixtures") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                console.error("fixtures folder \(dir) does not exist",
                              help: "write one with `relevo fixtures synth --users N -o \(dir)`")
                return .unreadable
            }
            fixtureBase = URL(fileURLWithPath: dir)
        } else if let folder = plan.fixtures?.folder?.path {
            fixtureBase = URL(fileURLWithPath: folder.hasPrefix("/") ? folder : (planFolder as NSString).appendingPathComponent(folder))
        } else {
            fixtureBase = URL(fileURLWithPath: planFolder)
        }
        let digest = SHA256.hexHash(Array(checked.source.text.utf8))
        let holder = "\(ProcessInfo.processInfo.hostName):\(getpid())"

        let journal: SQLiteJournal
        let info: RunInfo
        do {
            journal = try SQLiteJournal(path: journalPath)
            info = try journal.open(run: RunInfo(mode: "simulate", planName: plan.name, planDigest: digest,
                                                 startedAt: Date(), seed: seed, holder: holder))
        } catch let error as JournalError {
            console.error("\(journalPath): \(error)")
            if case .locked = error { return .busy }
            return .usage
        } catch {
            console.error("\(journalPath): \(error)")
            return .unreadable
        }
        var faults = FaultPlan(seed: info.seed)
        for spec in parsed.values("inject") {
            do { try faults.add(spec) } catch {
                console.error("\(error)")
                try? journal.close()
                return .usage
            }
        }
        let environment: SimulatedEnvironment
        do {
            environment = try SimulatedEnvironment(plan: plan, scratch: URL(fileURLWithPath: journalPath + ".scratch"),
                                                   fixtureBase: fixtureBase, faults: faults)
        } catch {
            console.error("fixtures: \(error)")
            try? journal.close()
            return .unreadable
        }

        let progress = Progress(live: console.liveProgress, tty: console.stderrIsTTY,
                                total: 0)
        let engine = Engine(plan: plan, graph: graph, environment: environment, journal: journal,
                            options: EngineOptions(approvals: approvals, concurrent: false, hooks: environment.hooks),
                            observer: { progress.observe($0) })
        let outcome = Blocking.run { try await engine.run() }
        progress.finish()
        try? journal.close()
        if let lines = progress.buffered, !lines.isEmpty { console.err(lines) }

        let summary: RunSummary
        switch outcome {
        case .success(let s): summary = s
        case .failure(let error):
            console.error("the run stopped: \(error)", help: "the journal is at \(journalPath); fix the cause and --resume")
            return .halted
        }
        switch format {
        case .json: console.out(jsonSummary(summary, journal: journalPath))
        case .text: console.out(textSummary(summary, plan: planPath, journal: journalPath))
        }
        let complete = !summary.halted && summary.waitingFor == nil && summary.sets.failed == 0
            && summary.sets.undone == 0 && summary.sets.pending == 0
        return complete ? .success : .halted
    }

    static func textSummary(_ s: RunSummary, plan: String, journal: String) -> String {
        var out = "relevo simulate \(plan)\n"
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
        out += "  estimate  \(Duration.text(s.seconds)) for the live run (virtual time, from the plan's fixture timing)\n"
        if let reason = s.haltReason { out += "  halted    \(reason)\n" }
        if let waiting = s.waitingFor {
            out += "  waiting   for approval '\(waiting)': resume with --journal \(journal) --resume --approve \(waiting)\n"
        }
        return out
    }

    static func jsonSummary(_ s: RunSummary, journal: String) -> String {
        let t = s.sets
        let document: JSON = .object([
            ("mode", .string("simulate")),
            ("halted", .bool(s.halted)),
            ("halt_reason", s.haltReason.map(JSON.string) ?? .null),
            ("waiting_for", s.waitingFor.map(JSON.string) ?? .null),
            ("sets", .object([("total", .int(t.total)), ("migrated", .int(t.migrated)), ("failed", .int(t.failed)),
                              ("undone", .int(t.undone)), ("pending", .int(t.pending)), ("refused", .int(t.refused))])),
            ("gates", .object([("passed", .int(s.gates.passed)), ("failed", .int(s.gates.failed))])),
            ("bytes", .int(Int(s.bytes))),
            ("files", .int(s.messages)),
            ("estimate_seconds", .double(s.seconds)),
            ("phases", .array(s.phases.map { p in
                .object([("name", .string(p.name)), ("state", .string(p.state)), ("seconds", .double(p.seconds)),
                         ("sets", .int(p.setSeconds.count))])
            })),
            ("journal", .string(journal)),
        ])
        return document.serialized()
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// Runs async work to completion from the synchronous command line.
enum Blocking {
    final class Box<T>: @unchecked Sendable { var value: T?; init() {} }

    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, Error> {
        let box = Box<Result<T, Error>>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.value = .success(try await body()) } catch { box.value = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.value!
    }
}

enum Duration {
    static func text(_ seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        let s = Int(seconds.rounded())
        return s < 7200 ? String(format: "%dm%02ds", s / 60, s % 60) : String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}

enum Bytes {
    static func text(_ n: Int64) -> String {
        if n < 1000 { return "\(n) B" }
        if n < 1_000_000 { return String(format: "%.1f KB", Double(n) / 1e3) }
        if n < 1_000_000_000 { return String(format: "%.1f MB", Double(n) / 1e6) }
        return String(format: "%.2f GB", Double(n) / 1e9)
    }
}
