import RelevoCheck
import RelevoJournal
import RelevoPlan

/// What a report is made from: a checked plan and, optionally, the journals
/// of its runs (simulations and live runs), read with `JournalInspection`.
public struct ReportInput {
    /// The plan's path as the report should show it.
    public var planPath: String
    public var check: CheckResult
    /// SHA-256 of the plan's text, to say whether each journal was written for it.
    public var planDigest: String?
    var runs: [RunFacts]

    public init(planPath: String, check: CheckResult, planDigest: String?,
                journals: [(path: String, snapshot: JournalSnapshot)]) {
        self.planPath = planPath
        self.check = check
        self.planDigest = planDigest
        runs = journals.map { RunFacts(path: $0.path, snapshot: $0.snapshot) }
    }
}

/// The two reports `relevo render` writes (docs/reports.md).
public enum ReportKind: String, CaseIterable, Sendable {
    /// For the change board, before the cutover.
    case plan
    /// The validation, from one or more journals.
    case run
}

public enum ReportFormat: String, CaseIterable, Sendable {
    /// Markdown; deterministic.
    case md
    /// One self-contained HTML file, with the graph (Graphviz, in-process) and charts as SVG.
    case html
    /// The report's graph as Graphviz DOT (nodes named by graph ID, coloured by host); deterministic.
    case dot
    /// The report's facts as one JSON document; deterministic.
    case json
}

public enum Reports {
    public enum Failure: Error, CustomStringConvertible {
        /// The plan has errors: no graph, no trustworthy report.
        case planErrors
        /// A run report needs at least one journal.
        case noJournal
        /// Graphviz could not draw the graph.
        case graphviz(String)

        public var description: String {
            switch self {
            case .planErrors: "the plan has errors; a report needs a plan that checks clean"
            case .noJournal: "a run report is made from journals, and none was given"
            case .graphviz(let message): "drawing the graph: \(message)"
            }
        }
    }

    /// The report of `kind` in `format`. Markdown, DOT and JSON depend only
    /// on the plan and the journals (times are the journals' own), so the
    /// same input gives the same bytes.
    public static func render(_ input: ReportInput, kind: ReportKind, format: ReportFormat) throws -> String {
        guard let plan = input.check.plan, let graph = input.check.graph, !input.check.hasErrors else {
            throw Failure.planErrors
        }
        if kind == .run && input.runs.isEmpty { throw Failure.noJournal }
        switch format {
        case .dot:
            // A run's graph: the plan's, its phases marked with how the
            // last journal given left them.
            return ReportGraph.dot(graph, plan: plan, run: kind == .run ? input.runs.last : nil)
        case .json:
            switch kind {
            case .plan: return PlanReport(input, plan: plan, graph: graph).json().serialized()
            case .run: return RunReport(input: input, plan: plan).json().serialized()
            }
        case .md, .html:
            var document: ReportDocument
            switch kind {
            case .plan:
                let report = PlanReport(input, plan: plan, graph: graph)
                var svg: String?
                if format == .html {
                    do {
                        svg = try ReportGraph.svg(graph, plan: plan, label: "Dependency graph of plan \(plan.name), "
                                                  + "\(plan.elements.count) elements coloured by host")
                    } catch {
                        throw Failure.graphviz("\(error)")
                    }
                }
                document = report.document(svg: svg)
            case .run:
                document = RunReport(input: input, plan: plan).document()
            }
            return format == .md ? document.markdown() : document.html()
        }
    }
}
