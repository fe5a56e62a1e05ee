import Foundation
import RelevoBasics
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoOperations
import RelevoPlan
import RelevoReport
import RelevoSimulation
import RelevoStore

/// `relevo simulate PLAN`: the rehearsal. The same engine as a live run, on
/// a scratch copy of the plan's fixtures, with a virtual clock and faults.
enum SimulateCommand {
    enum Format: String, CaseIterable { case text, json }

    static let spec = CommandSpec(
        name: "simulate", summary: "dry-run a plan against its fixtures, with the engine of a live run",
        usage: ["simulate PLAN [--fixtures DIR] [--inject SPEC]... [--journal FILE|URL] [--resume] [--seed N]",
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
            OptionSpec(name: "journal", valueName: "FILE", help: "the run's journal (default: .relevo/runs/PLAN-TIME.journal), or a run in PostgreSQL: postgresql://USER@HOST:PORT/DB?run=NAME (docs/scale.md)"),
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
        let prepared: PreparedRun
        switch RunPreparation.prepare(parsed, mode: "simulate", spec: spec, console: &console) {
        case .success(let p): prepared = p
        case .failure(let status): return status.status
        }
        let (plan, graph, journal, info, journalPath, approvals) =
            (prepared.plan, prepared.graph, prepared.journal, prepared.info, prepared.journalPath, prepared.approvals)
        let format = prepared.format
        let planPath = prepared.planPath
        // Fixture paths are relative to --fixtures DIR, else to the plan's
        // `fixtures: { folder: ... }`, itself relative to the plan's folder.
        let planFolder = prepared.planFolder
        let fixtureBase: URL
        if let dir = parsed.value("fixtures") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                console.error("fixtures folder \(dir) does not exist",
                              help: "write one with `relevo fixtures synth --users N -o \(dir)`")
                try? journal.close()
                return .unreadable
            }
            fixtureBase = URL(fileURLWithPath: dir)
        } else {
            fixtureBase = defaultFixtureBase(plan, planFolder: planFolder)
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
            // A resumed dry run's world is cut back to its journal's last commit.
            let committedLogs = try (journal as? SQLiteJournal)?.worldLengths() ?? [:]
            environment = try SimulatedEnvironment(plan: plan, scratch: URL(fileURLWithPath: prepared.localBase + ".scratch"),
                                                   fixtureBase: fixtureBase, faults: faults, committedLogs: committedLogs)
        } catch {
            console.error("fixtures: \(error)")
            try? journal.close()
            return .unreadable
        }

        // Hosts in memory: the world's logs are written by the journal's
        // commits, which record their lengths (a resume cuts them back to
        // the last commit), and what else the scratch folder writes commits
        // the journal's held writes first (`SQLiteJournal.attachWorld`).
        if environment.hosts == .memory, let sqlite = journal as? SQLiteJournal, sqlite.durability == .process {
            do {
                environment.bufferLogs()
                try sqlite.attachWorld { try environment.markWorld() }
                try sqlite.holdIntents()
                environment.beforePersisting = { try sqlite.commitHeld() }
            } catch {
                console.error("journal: \(error)")
                try? journal.close()
                return .unreadable
            }
        }
        let progress = Progress(live: console.liveProgress, tty: console.stderrIsTTY,
                                total: 0)
        let engine = Engine(plan: plan, graph: graph, environment: environment, journal: journal,
                            options: EngineOptions(approvals: approvals, realTime: false, hooks: environment.hooks),
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
        return RunPreparation.report(summary, mode: "simulate", format: format, plan: planPath, journal: journalPath,
                                     console: &console)
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// The plan's `fixtures: { folder: ... }` (relative to the plan's folder), else the plan's folder.
func defaultFixtureBase(_ plan: Plan, planFolder: String) -> URL {
    guard let folder = plan.fixtures?.folder?.path else { return URL(fileURLWithPath: planFolder) }
    return URL(fileURLWithPath: folder.hasPrefix("/") ? folder : (planFolder as NSString).appendingPathComponent(folder))
}

/// Runs async work to completion from the synchronous command line. The
/// calling thread blocks while the work runs on the cooperative pool: fine
/// for the `relevo` process, but callers inside async code (tests calling
/// `Relevo.run` in-process) must not run several at once on a small pool.
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

/// Durations and sizes as the summaries print them (`Units`, shared with the reports).
enum Duration {
    static func text(_ seconds: Double) -> String { Units.duration(seconds) }
}

enum Bytes {
    static func text(_ n: Int64) -> String { Units.bytes(n) }
}
