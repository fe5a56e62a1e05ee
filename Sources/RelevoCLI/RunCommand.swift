import Foundation
import RelevoBasics
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoLive
import RelevoOperations

/// `relevo run PLAN`: the live run. The engine of `simulate`, with the live
/// environment (LDAP over libldap, stores over SSH/SFTP) and real time.
enum RunCommand {
    static let spec = CommandSpec(
        name: "run", summary: "run a plan against the live systems, set by set, with a journal",
        usage: ["run PLAN [--journal FILE|URL] [--resume] [--coordinate|--workers N] [--approve NAME|all]... [--yes] [--format text|json]"],
        description: [
            """
              Checks PLAN, then runs it against the systems it names: directories over
              LDAP, stores on their hosts over SSH (host keys checked against the plan's
              known-hosts file before anything is sent). Phases run in order; each set
              runs its steps, then its gates; a failure runs the phase's on-failure
              contingency (undo the set, notify, halt or go on within a budget).
            """,
            """
              Every step is journaled before and after its effect. A run that stops
              (halted, killed, a host down) is continued with --resume: the step that
              was in flight is read back from the real systems, never assumed, and no
              completed step is repeated.
            """,
            """
              Approval steps wait for an operator: on a terminal relevo asks; otherwise
              --approve NAME (or all) answers them, and an unanswered one stops the run
              (exit 3) until --resume --approve NAME. A live run changes production:
              without a terminal it needs --yes.
            """,
        ],
        arguments: [("PLAN", "the plan file (YAML)")],
        options: [
            OptionSpec(name: "journal", valueName: "FILE", help: "the run's journal (default: .relevo/runs/PLAN-TIME.journal), or a run in PostgreSQL: postgresql://USER@HOST:PORT/DB?run=NAME (docs/scale.md)"),
            OptionSpec(name: "resume", help: "continue the run recorded in --journal FILE"),
            OptionSpec(name: "approve", valueName: "NAME", help: "answer the approval NAME, or `all` (repeatable)"),
            OptionSpec(name: "yes", help: "do not ask for confirmation before changing the live systems"),
            OptionSpec(name: "coordinate", help: "with a postgresql:// journal: run the global phases and fix the member lists; `relevo worker` processes run the sets (docs/scale.md)"),
            OptionSpec(name: "workers", valueName: "N", help: "with a postgresql:// journal: coordinate, and start N local `relevo worker` processes"),
            OptionSpec(name: "format", valueName: "FORMAT", choices: ["text", "json"],
                       help: "text (default) or json (one document on stdout)"),
            .help,
        ],
        output: [
            "The summary goes to stdout, as for simulate, with \"mode\":\"run\" and",
            "\"seconds\" (measured) in place of \"estimate_seconds\". Progress goes to stderr.",
            "Local work files (LDIF dumps) and notifications.log are in FILE.work/.",
        ],
        examples: [
            ("eval \"$(scripts/testbed up)\"; relevo run examples/exalumno/live.yaml --yes --approve all",
             "migrate the testbed's users"),
            ("relevo run examples/exalumno/live.yaml --journal j --resume --yes", "continue a stopped run"),
            ("relevo status j", "what the journal says"),
        ],
        exits: [.success, .planErrors, .usage, .halted, .unreadable, .busy])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo run") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        let interactive = isatty(STDIN_FILENO) == 1 && console.stderrIsTTY && console.liveProgress != nil
        if !parsed.flag("yes") && !interactive {
            console.error("a live run changes production systems; without a terminal to confirm on, add --yes")
            return .usage
        }

        let prepared: PreparedRun
        switch RunPreparation.prepare(parsed, mode: "run", spec: spec, console: &console) {
        case .success(let p): prepared = p
        case .failure(let status): return status.status
        }
        // (A journal of a simulation is refused when it is opened: modes never mix.)
        let dispatch: (any SetDispatch)?, workerCount: Int
        switch RunPreparation.dispatch(parsed, prepared, console: &console) {
        case .success(let d): (dispatch, workerCount) = d
        case .failure(let fail):
            try? prepared.journal.close()
            return fail.status
        }
        let plan = prepared.plan
        if !parsed.flag("yes") {
            let prompt = (prepared.resume ? "Resume" : "Start") + " the live run of \(plan.name) (\(prepared.planPath))? [y/N] "
            guard ask(prompt, console) else {
                console.error("not confirmed; nothing was changed")
                try? prepared.journal.close()
                return .usage
            }
        }

        let given = Set(parsed.values("approve"))
        let approvals: ApprovalPolicy
        if given.contains("all") {
            approvals = .all
        } else if interactive {
            let write = console.liveProgress
            approvals = .ask(given) { name, message in
                write?("\n")
                return RunCommand.ask("Approval '\(name)': \(message)\nApprove? [y/N] ", write: write)
            }
        } else {
            approvals = .given(given)
        }

        let live: LiveEnvironment
        do {
            live = try LiveEnvironment(plan: plan, planDirectory: prepared.planFolder,
                                       workDirectory: URL(fileURLWithPath: prepared.localBase + ".work"))
        } catch {
            console.error("\(error)")
            try? prepared.journal.close()
            return .unreadable
        }
        do {
            for line in try live.preflight() {
                if let live = console.liveProgress { live("relevo: \(line)\n") } else { console.err("relevo: \(line)\n") }
            }
        } catch {
            console.error("before the first step: \(error)", help: "nothing was changed")
            try? prepared.journal.close()
            return .halted
        }
        let workers: [Process]
        switch RunPreparation.startWorkers(workerCount, prepared, console: &console) {
        case .success(let started): workers = started
        case .failure(let fail):
            try? prepared.journal.close()
            return fail.status
        }
        let progress = Progress(live: console.liveProgress, tty: console.stderrIsTTY, total: 0)
        let engine = Engine(plan: plan, graph: prepared.graph, environment: MeasuredEnvironment(live),
                            journal: prepared.journal,
                            options: EngineOptions(approvals: approvals, realTime: true, sets: dispatch),
                            observer: { progress.observe($0) })
        let outcome = Blocking.run { try await engine.run() }
        progress.finish()
        try? prepared.journal.close()
        // Local workers exit once the run lock is released (the journal closed).
        for worker in workers { worker.waitUntilExit() }
        if let lines = progress.buffered, !lines.isEmpty { console.err(lines) }
        switch outcome {
        case .success(let summary):
            return RunPreparation.report(summary, mode: "run", format: prepared.format, plan: prepared.planPath,
                                         journal: prepared.journalPath, console: &console)
        case .failure(let error):
            console.error("the run stopped: \(error)",
                          help: "the journal is at \(prepared.journalPath); fix the cause and run again with --resume")
            return .halted
        }
    }

    /// Asks a yes/no question on the terminal (stderr), reading stdin.
    static func ask(_ prompt: String, _ console: Console) -> Bool {
        ask(prompt, write: console.liveProgress)
    }

    static func ask(_ prompt: String, write: (@Sendable (String) -> Void)?) -> Bool {
        write?(prompt)
        guard let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased() else {
            return false
        }
        return answer == "y" || answer == "yes"
    }
}
