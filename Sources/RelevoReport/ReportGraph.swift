import RelevoCheck
import RelevoPlan

/// The dependency graph as the reports draw it: the graph's own DOT
/// (`PlanGraph.dot`) with each node named by its graph ID (so the SVG's
/// `<g class="node"><title>` is `element:store-neon`), elements and hosts
/// filled with their host's colour, redirect points marked with a heavy
/// outline and a "redirect" line.
enum ReportGraph {
    /// Fill colours given to hosts in plan order (then repeated).
    static let palette = ["#cfe2ff", "#d3f0cf", "#ffe1c4", "#ead9f6", "#fff0b3", "#cdeeed", "#f7d4dc", "#e2e6c8"]
    /// Elements on no host (the Internet, a DNS record).
    static let noHost = "#eeeeee"

    /// Host name → fill colour.
    static func colours(_ plan: Plan) -> [(host: String, colour: String)] {
        plan.hosts.enumerated().map { ($0.element.name.name, palette[$0.offset % palette.count]) }
    }

    static func dot(_ graph: PlanGraph, plan: Plan, run: RunFacts? = nil) -> String {
        let colour = Dictionary(colours(plan).map { ($0.host, $0.colour) }, uniquingKeysWith: { a, _ in a })
        let phases = Dictionary((run?.phases ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return graph.dot(title: plan.name + (run.map { $0.isSimulation ? " (rehearsal)" : " (run)" } ?? ""),
                         namedNodes: true) { node in
            switch node.kind {
            case .phase where run != nil:
                // How the run left the phase: its state (or its sets'), filled
                // green when all went through, red when something failed or
                // it halted, grey when it never started.
                guard let p = phases[node.label] else {
                    return ["label=" + PlanGraph.dotQuoted(node.label + "\nnot started"), "style=\"bold,filled\"", "fillcolor=\"#eeeeee\""]
                }
                let bad = ["failed", "undone", "halted"].contains { p.state.contains($0) }
                    || (run?.haltReason != nil && p.perSet && p.state.contains("pending"))
                let fill = bad ? "#f8d7da" : (p.state.contains("pending") || p.state.contains("running") ? "#fff3cd" : "#d1e7dd")
                return ["label=" + PlanGraph.dotQuoted(node.label + "\n" + p.state), "style=\"bold,filled\"", "fillcolor=\"\(fill)\""]
            case .element, .host:
                let fill = node.host.flatMap { colour[$0] } ?? noHost
                return ["style=filled", "fillcolor=\"\(fill)\""]
            case .redirect:
                return ["label=" + PlanGraph.dotQuoted("⇄ " + node.label + "\nredirect, " + (node.detail ?? "")),
                        "penwidth=2.5", "color=\"#a05a00\""]
            default:
                return []
            }
        }
    }

    /// The graph as an inline SVG element: Graphviz's XML prologue and
    /// comments dropped, fixed width and height replaced by CSS scaling, and
    /// `role="img"`, `aria-label` and a `<title>` added for assistive technology.
    static func svg(_ graph: PlanGraph, plan: Plan, label: String) throws -> String {
        let rendered = try Graphviz.render(dot: dot(graph, plan: plan))
        return SVG.inline(rendered, label: label)
    }
}

/// Small helpers for SVG embedded in HTML.
enum SVG {
    /// `svg` (a whole SVG document) as an element to put in HTML: starts at
    /// `<svg`, its `width`/`height` attributes removed (the `viewBox` stays),
    /// `role="img"` and `aria-label` on it and a `<title>` as its first child.
    static func inline(_ svg: String, label: String) -> String {
        guard let start = svg.range(of: "<svg") else { return svg }
        var body = String(svg[start.lowerBound...])
        guard let tagEnd = body.firstIndex(of: ">") else { return body }
        var tag = String(body[..<tagEnd])
        for attribute in ["width", "height"] {
            if let r = tag.range(of: " \(attribute)=\""), let close = tag[r.upperBound...].firstIndex(of: "\"") {
                tag.removeSubrange(r.lowerBound...close)
            }
        }
        let label = ReportDocument.escape(label)
        tag += " role=\"img\" aria-label=\"\(label)\""
        body = tag + "><title>\(label)</title>" + body[body.index(after: tagEnd)...]
        while body.hasSuffix("\n") { body.removeLast() }
        return body
    }

    /// Text for an SVG text node or attribute.
    static func text(_ s: String) -> String { ReportDocument.escape(s) }
}
