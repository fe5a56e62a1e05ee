import Foundation
import RelevoBasics
import RelevoJournal
import RelevoReport
import RelevoStore

/// `relevo render PLAN`: the plan report for a change board, or the run
/// report from journals, as Markdown, HTML, DOT or JSON (RelevoReport).
enum RenderCommand {
    static let spec = CommandSpec(
        name: "render", summary: "write the plan report or a run's report (Markdown, HTML, DOT, JSON)",
        usage: ["render PLAN [--journal FILE]... [--report plan|run] [--format md|html|dot|json] [-o FILE]",
                "       [--color auto|always|never]"],
        description: [
            """
              The plan report is for the change board before the cutover: the plan's
              purpose and strategy, its hosts and elements by host (kind, endpoint,
              role), redirect points, data flows and where each flow ends in each state
              of a set's pipeline, the dependency graph, every phase with its steps,
              inverses, gates and contingency, the lint findings, and the estimate of a
              simulation whose journal is given.
            """,
            """
              The run report is the validation after it, from one or more journals of
              `simulate` or `run`: totals (sets, files and bytes to migrate and
              migrated, failed, undone), each set with its state, duration, bytes and
              its gates' evidence, the failures and what their contingency did, a
              timeline and the bytes copied over time; given a simulation and a live
              run, where the live run differed from its rehearsal. It says so where the
              journal does not record something; it never invents a figure.
            """,
            """
              Markdown, DOT and JSON are deterministic: the same plan and journals give
              the same bytes (the times are the journals' own). HTML is one
              self-contained file (inline CSS and SVG, no script, nothing from the
              network) that reads on a phone and prints; its graph is drawn in-process
              with Graphviz's library. Secrets appear only as their references
              (env:NAME, file:PATH): a report never resolves one.
            """,
        ],
        arguments: [("PLAN", "the plan file (YAML); it must check without errors")],
        options: [
            OptionSpec(name: "journal", valueName: "FILE",
                       help: "a run's journal (repeatable): the estimate of a plan report, the runs of a run report"),
            OptionSpec(name: "report", valueName: "REPORT", choices: ReportKind.allCases.map(\.rawValue),
                       help: "plan or run (default: run when a --journal is given, else plan)"),
            OptionSpec(name: "format", valueName: "FORMAT", choices: ReportFormat.allCases.map(\.rawValue),
                       help: "md (default), html, dot (the report's graph, coloured by host) or json"),
            OptionSpec(name: "output", short: "o", valueName: "FILE",
                       help: "write the report to FILE (replaced atomically) instead of stdout, and print its path"),
            .color,
            .help,
        ],
        output: [
            "The report goes to stdout, or with -o FILE to FILE, whose path is then printed;",
            "errors go to stderr. An HTML report needs Graphviz's library (libgvc); exit status 4",
            "also covers a report that could not be drawn or written (-o).",
        ],
        examples: [
            ("relevo render plans/exalumno.yaml --format html -o plan.html", "the plan report for the change board"),
            ("relevo render plans/exalumno.yaml --report plan --journal sim.journal", "the plan report with the rehearsal's estimate"),
            ("relevo render plans/exalumno.yaml --journal sim.journal --journal live.journal --format html -o run.html",
             "the run report: the live run against its rehearsal"),
            ("relevo render plans/exalumno.yaml --format dot | dot -Tpng > graph.png", "the graph, coloured by host"),
        ],
        exits: [.success, .planErrors, .usage, .unreadable])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo render") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard parsed.positionals.count == 1, let planPath = parsed.positionals.first else {
            console.error(parsed.positionals.isEmpty ? "missing PLAN: name the plan file to report on"
                          : "'relevo render' reports on one plan at a time; got \(parsed.positionals.count)",
                          help: "a run's journals go after --journal")
            console.err(Help.usageHint(spec))
            return .usage
        }
        let journals = parsed.values("journal")
        let format = ReportFormat(rawValue: parsed.value("format") ?? "md") ?? .md
        let kind = parsed.value("report").flatMap(ReportKind.init(rawValue:)) ?? (journals.isEmpty ? .plan : .run)
        if kind == .run && journals.isEmpty {
            console.error("a run report needs the journal of a run",
                          help: "add --journal FILE (from `relevo simulate` or `relevo run`), or ask for --report plan")
            console.err(Help.usageHint(spec))
            return .usage
        }

        let plan = PlanAnalysis.analyse(planPath, lint: false)
        if let reason = plan.readError {
            console.error("cannot read \(planPath): \(reason)")
            return .unreadable
        }
        guard let result = plan.result, plan.errors == 0 else {
            let color = ColorChoice(rawValue: parsed.value("color") ?? "auto") ?? .auto
            console.err(TextReport.render([plan], color: console.useColor(color, for: .err)))
            console.error("no report for a plan with errors", help: "fix them (`relevo check \(planPath)`), then render")
            return .planErrors
        }
        var snapshots: [(path: String, snapshot: JournalSnapshot)] = []
        for path in journals {
            do { snapshots.append((path, try JournalLocator.inspect(path).0)) } catch {
                console.error("\(error)", help: "name the journal a `relevo simulate` or `relevo run` printed")
                return .unreadable
            }
        }
        let input = ReportInput(planPath: planPath, check: result,
                                planDigest: SHA256.hexHash(Array(result.source.text.utf8)), journals: snapshots)
        let text: String
        do { text = try Reports.render(input, kind: kind, format: format) } catch {
            console.error("\(error)", help: format == .html ? "the HTML report needs libgvc (scripts/setup installs libgraphviz-dev)" : nil)
            return .unreadable
        }
        guard let output = parsed.value("output") else {
            console.out(text)
            return .success
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            console.error("cannot write \(output): \(error.localizedDescription)",
                          help: "check that its folder exists and is writable")
            return .unreadable
        }
        console.out(output + "\n")
        return .success
    }
}
