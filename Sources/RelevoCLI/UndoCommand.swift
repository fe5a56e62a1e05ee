import Foundation
import RelevoBasics
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoLive
import RelevoOperations
import RelevoReport
import RelevoSimulation

/// `relevo undo PLAN --journal FILE (--set KEY... | --all)`: put sets back
/// as they were, through the inverses their run journaled.
enum UndoCommand {
    static let spec = CommandSpec(
        name: "undo", summary: "undo the sets a run migrated, through the inverses its journal recorded",
        usage: ["undo PLAN --journal FILE (--set KEY... | --all) [--yes] [--format text|json]"],
        description: [
            """
              Reads the journal of a run of PLAN (live, or a simulation: then its
              scratch copy is what changes) and undoes, latest step first, what the
              named sets' steps did: a redirect is switched back to the value read
              before it (carrying back what arrived meanwhile), a copy removes exactly
              the files it placed (by name and SHA-256: a message a user changed since
              stays), a chown gives back the owners it recorded. With --all, every set
              and then every global phase (an import deletes the entries it added).
            """,
            """
              Before a set is touched, each of its switches is read back from the real
              systems. If one is not what the journal recorded (someone changed mailHost
              by hand), that set is reported as a conflict and left exactly as it is.
              Undo is journaled like the run: an interrupted undo continues when run again.
            """,
        ],
        arguments: [("PLAN", "the plan the run executed (its digest must match the journal's)")],
        options: [
            OptionSpec(name: "journal", valueName: "FILE", help: "the run's journal (required)"),
            OptionSpec(name: "set", valueName: "KEY", help: "a set key to undo, e.g. a uid (repeatable)"),
            OptionSpec(name: "all", help: "undo every set, then the global phases"),
            OptionSpec(name: "yes", help: "do not ask for confirmation before changing live systems"),
            OptionSpec(name: "format", valueName: "FORMAT", choices: ["text", "json"], help: "text (default) or json"),
            .help,
        ],
        output: ["One line per set undone, in conflict, or failed, then a summary; or one JSON document."],
        examples: [
            ("relevo undo examples/exalumno/live.yaml --journal j --set ceres --yes", "put ceres back on neon"),
            ("relevo undo plans/exalumno.yaml --journal sim.journal --all", "undo a whole rehearsal"),
        ],
        exits: [.success, .planErrors, .usage, .halted, .unreadable, .busy])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo undo") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard parsed.value("journal") != nil else {
            console.error("undo needs --journal FILE: the journal of the run to undo")
            return .usage
        }
        let keys = parsed.values("set")
        switch (keys.isEmpty, parsed.flag("all")) {
        case (true, false):
            console.error("name the sets to undo with --set KEY, or undo them all with --all")
            return .usage
        case (false, true):
            console.error("--set and --all do not go together")
            return .usage
        default:
            break
        }
        guard let journalPath = parsed.value("journal"), (try? JournalLocator.exists(journalPath)) == true else {
            console.error("no journal at \(parsed.value("journal") ?? "")")
            return .unreadable
        }
        let mode: String
        do { mode = try JournalLocator.inspect(journalPath).0.run.mode } catch {
            console.error("\(error)")
            return .unreadable
        }
        let interactive = isatty(STDIN_FILENO) == 1 && console.stderrIsTTY && console.liveProgress != nil
        if mode == "run" && !parsed.flag("yes") {
            guard interactive else {
                console.error("undo changes production systems; without a terminal to confirm on, add --yes")
                return .usage
            }
            let what = keys.isEmpty ? "every set and global phase" : keys.joined(separator: ", ")
            guard RunCommand.ask("Undo \(what) of the live run in \(journalPath)? [y/N] ", console) else {
                console.error("not confirmed; nothing was changed")
                return .usage
            }
        }
        // The journal is opened as an existing run, in its own mode (the lock
        // is taken; the plan digest must match).
        let prepared: PreparedRun
        switch RunPreparation.prepare(parsed, mode: mode, spec: spec, resume: true, console: &console) {
        case .success(let p): prepared = p
        case .failure(let status): return status.status
        }
        let environment: any Environment
        do {
            if mode == "run" {
                environment = MeasuredEnvironment(try LiveEnvironment(
                    plan: prepared.plan, planDirectory: prepared.planFolder,
                    workDirectory: URL(fileURLWithPath: prepared.localBase + ".work")))
            } else {
                environment = try SimulatedEnvironment(plan: prepared.plan, scratch: URL(fileURLWithPath: prepared.localBase + ".scratch"),
                                                       fixtureBase: URL(fileURLWithPath: prepared.planFolder),
                                                       faults: FaultPlan(seed: prepared.info.seed))
            }
        } catch {
            console.error("\(error)")
            try? prepared.journal.close()
            return .unreadable
        }
        let engine = Engine(plan: prepared.plan, graph: prepared.graph, environment: environment, journal: prepared.journal,
                            options: EngineOptions(approvals: .given([]), realTime: mode == "run"))
        let outcome = Blocking.run { try await engine.undo(sets: keys.isEmpty ? nil : keys) }
        try? prepared.journal.close()
        let report: UndoReport
        switch outcome {
        case .success(let r): report = r
        case .failure(let error):
            console.error("undo stopped: \(error)", help: "run it again: what was undone is journaled")
            return .halted
        }
        if prepared.format == "json" {
            func items(_ list: [UndoReport.Item]) -> JSON {
                .array(list.map { .object([("scope", .string($0.scope)), ("message", .string($0.message))]) })
            }
            console.out(JSON.object([
                ("mode", .string(mode)), ("journal", .string(journalPath)),
                ("undone", items(report.undone)), ("conflicts", items(report.conflicts)),
                ("failed", items(report.failed)), ("not_found", .array(report.notFound.map(JSON.string))),
            ]).serialized())
        } else {
            var out = "relevo undo \(prepared.planPath)\n  journal   \(journalPath)\n"
            for i in report.undone { out += "  undone    \(i.scope): \(i.message)\n" }
            for i in report.conflicts { out += "  conflict  \(i.scope): \(i.message)\n" }
            for i in report.failed { out += "  failed    \(i.scope): \(i.message)\n" }
            for k in report.notFound { out += "  not found \(k): the journal has no completed steps for it\n" }
            out += "  total     \(report.undone.count) undone, \(report.conflicts.count) in conflict, \(report.failed.count) failed\n"
            console.out(out)
        }
        return report.conflicts.isEmpty && report.failed.isEmpty && report.notFound.isEmpty ? .success : .halted
    }
}
