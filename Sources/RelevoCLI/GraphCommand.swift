import RelevoBasics
import RelevoCheck

/// `relevo graph PLAN`: the plan's dependency graph as Graphviz DOT or JSON.
enum GraphCommand {
    enum Format: String, CaseIterable { case dot, json }

    static let spec = CommandSpec(
        name: "graph", summary: "print a plan's dependency graph (Graphviz DOT or JSON)",
        usage: ["graph PLAN [--format dot|json] [--color auto|always|never]"],
        description: [
            """
              Checks PLAN and prints its dependency graph: phases and the order they
              run in, their steps and gates, the elements those act on (grouped by
              host), redirect points and where they route, sets, and the data flows
              through the elements.
            """,
            """
              A plan with errors has no trustworthy graph: its diagnostics are printed
              on stderr instead and the exit status is 1. Lint rules do not run.
            """,
        ],
        arguments: [("PLAN", "the plan file (YAML)")],
        options: [
            OptionSpec(name: "format", valueName: "FORMAT", choices: Format.allCases.map(\.rawValue),
                       help: "dot (default: Graphviz, render with `dot -Tsvg`) or json"),
            .color,
            .help,
        ],
        output: [
            "The graph goes to stdout; diagnostics, if the plan has errors, to stderr.",
            "DOT: one cluster per host; phases are boxes, steps rounded boxes, gates",
            "diamonds, redirect points double octagons, stores cylinders, sets folders,",
            "flows arrows (cds), notify targets notes.",
            "JSON: {\"version\": 1, \"nodes\": [...], \"edges\": [...], \"phaseOrder\": [...]}.",
        ],
        examples: [
            ("relevo graph plans/exalumno.yaml | dot -Tsvg > graph.svg", "draw the graph as SVG"),
            ("relevo graph plans/exalumno.yaml --format json", "the graph for other tools"),
        ],
        exits: [.success, .planErrors, .usage, .unreadable])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo graph") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard parsed.positionals.count == 1 else {
            console.error(parsed.positionals.isEmpty ? "missing PLAN: name the plan file to draw"
                          : "'relevo graph' draws one plan at a time; got \(parsed.positionals.count)")
            console.err(Help.usageHint(spec))
            return .usage
        }
        let format = Format(rawValue: parsed.value("format") ?? "dot") ?? .dot
        let color = ColorChoice(rawValue: parsed.value("color") ?? "auto") ?? .auto

        let plan = PlanAnalysis.analyse(parsed.positionals[0], lint: false)
        if let reason = plan.readError {
            console.error("cannot read \(plan.path): \(reason)")
            return .unreadable
        }
        guard let result = plan.result, plan.errors == 0, let graph = result.graph else {
            let useColor = console.useColor(color, for: .err)
            let shown = plan.diagnostics.filter { $0.severity == .error }
            let renderer = DiagnosticRenderer(sources: plan.source.map { [$0] } ?? [], color: useColor)
            for d in shown { console.err(renderer.render(d) + "\n") }
            if shown.isEmpty {
                console.error("no dependency graph could be built for \(plan.path)")
            } else {
                console.err(TextReport.summary(plan, Style(enabled: useColor)))
            }
            return .planErrors
        }
        switch format {
        case .dot: console.out(graph.dot(title: result.plan?.name ?? plan.path))
        case .json: console.out(graph.json())
        }
        return .success
    }
}
