import RelevoBasics

/// Exports of the dependency graph: Graphviz DOT for people, JSON for tools.
/// Both are deterministic: the same plan gives byte-identical output.
extension PlanGraph {
    /// The graph as a Graphviz `digraph`, titled `title`.
    ///
    /// - Elements are grouped in one cluster per host (labelled with the host);
    ///   a host with no elements is drawn as a node of its own.
    /// - Shapes by kind: phases boxes, steps rounded boxes, gates diamonds,
    ///   redirect points double octagons, stores cylinders, other elements
    ///   components, sets folders, flows `cds` arrows, notify targets notes.
    /// - Node IDs are synthetic (`n0`, `n1`... in graph order), so no plan name
    ///   ever appears as a DOT identifier; names appear only in quoted,
    ///   escaped labels and tooltips (see `dotQuoted`).
    /// - `namedNodes: true` makes each node's DOT ID its graph ID, quoted
    ///   (`"element:store-neon"`), so that a rendering (Graphviz's SVG
    ///   `<title>`) names the plan element; `style` adds attributes to a node
    ///   after its shape's (a later attribute wins in DOT).
    public func dot(title: String, namedNodes: Bool = false, style: (Node) -> [String] = { _ in [] }) -> String {
        var dotID: [String: String] = [:]
        for (i, n) in nodes.enumerated() where dotID[n.id] == nil {
            dotID[n.id] = namedNodes ? Self.dotQuoted(n.id) : "n\(i)"
        }

        // Hosts that own elements become clusters.
        let hosts = nodes.filter { $0.kind == .host }
        let hostNames = Set(hosts.map { $0.host ?? $0.label })
        func clusterHost(_ n: Node) -> String? {
            guard n.kind == .element, let h = n.host, hostNames.contains(h) else { return nil }
            return h
        }
        var members: [String: [Node]] = [:]
        for n in nodes { if let h = clusterHost(n) { members[h, default: []].append(n) } }
        // A host node inside its cluster is drawn only when something other
        // than its elements' `on` edges points at it.
        let referencedHosts = Set(edges.filter { $0.kind != .on }.flatMap { [$0.from, $0.to] })

        var out = "digraph plan {\n"
        out += "  label=\(Self.dotQuoted(title));\n"
        out += "  labelloc=t;\n  rankdir=LR;\n  compound=true;\n  fontname=\"Helvetica\";\n"
        out += "  node [fontname=\"Helvetica\", fontsize=11];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"

        var drawnHosts = Set<String>()
        for (i, host) in hosts.enumerated() {
            let name = host.host ?? host.label
            guard let inside = members[name], !drawnHosts.contains(name) else { continue }
            drawnHosts.insert(name)
            var clusterLabel = "host " + host.label
            if let role = host.detail { clusterLabel += " (\(role))" }
            out += "\n  subgraph cluster_\(i) {\n"
            out += "    label=\(Self.dotQuoted(clusterLabel));\n    style=\"rounded,dashed\";\n    color=\"gray50\";\n"
            if referencedHosts.contains(host.id) { out += "    " + nodeStatement(host, dotID, style) }
            for n in inside { out += "    " + nodeStatement(n, dotID, style) }
            out += "  }\n"
        }
        out += "\n"
        for n in nodes {
            if clusterHost(n) != nil { continue }
            if n.kind == .host, drawnHosts.contains(n.host ?? n.label) { continue }
            out += "  " + nodeStatement(n, dotID, style)
        }
        out += "\n"
        for e in edges {
            guard let from = dotID[e.from], let to = dotID[e.to] else { continue }
            // An element's host is shown by its cluster.
            if e.kind == .on, let n = node(e.from), clusterHost(n) != nil { continue }
            if let n = node(e.to), n.kind == .host, drawnHosts.contains(n.host ?? n.label),
               !referencedHosts.contains(n.id) { continue }
            var attributes = Self.edgeStyle(e.kind)
            if let label = e.label { attributes.append("label=\(Self.dotQuoted(label))") }
            out += "  \(from) -> \(to) [\(attributes.joined(separator: ", "))];\n"
        }
        out += "}\n"
        return out
    }

    /// The graph as JSON, pretty-printed, keys in a fixed order, every key
    /// present (`null` when absent):
    ///
    /// ```
    /// {"version": 1,
    ///  "nodes": [{"id", "kind", "label", "host", "detail", "line"}...],
    ///  "edges": [{"from", "to", "kind", "label"}...],
    ///  "phaseOrder": ["phase name"...]}
    /// ```
    public func json() -> String {
        func string(_ s: String?) -> String { s.map(Self.jsonQuoted) ?? "null" }
        let nodeLines = nodes.map { n in
            "    {\"id\": \(string(n.id)), \"kind\": \(string(n.kind.rawValue)), \"label\": \(string(n.label)), "
                + "\"host\": \(string(n.host)), \"detail\": \(string(n.detail)), \"line\": \(n.line.map(String.init) ?? "null")}"
        }
        let edgeLines = edges.map { e in
            "    {\"from\": \(string(e.from)), \"to\": \(string(e.to)), \"kind\": \(string(e.kind.rawValue)), "
                + "\"label\": \(string(e.label))}"
        }
        func list(_ lines: [String]) -> String {
            lines.isEmpty ? "[]" : "[\n" + lines.joined(separator: ",\n") + "\n  ]"
        }
        return "{\n  \"version\": 1,\n"
            + "  \"nodes\": \(list(nodeLines)),\n"
            + "  \"edges\": \(list(edgeLines)),\n"
            + "  \"phaseOrder\": [\(phaseOrder.map(Self.jsonQuoted).joined(separator: ", "))]\n}\n"
    }

    /// A JSON string literal (RFC 8259).
    static func jsonQuoted(_ s: String) -> String { JSONString.quoted(s) }

    // MARK: DOT details

    private func nodeStatement(_ n: Node, _ dotID: [String: String], _ style: (Node) -> [String]) -> String {
        var label = n.label
        if let detail = n.detail, detail != n.label { label += "\n" + detail }
        var tooltip = n.id
        if let line = n.line { tooltip += " (line \(line))" }
        // An attribute given again (by `style`) replaces the earlier one, in its place.
        var attributes: [String] = []
        var position: [Substring: Int] = [:]
        for attribute in ["label=\(Self.dotQuoted(label))", "tooltip=\(Self.dotQuoted(tooltip))"] + Self.nodeStyle(n) + style(n) {
            let key = attribute.prefix { $0 != "=" }
            if let i = position[key] { attributes[i] = attribute } else {
                position[key] = attributes.count
                attributes.append(attribute)
            }
        }
        return "\(dotID[n.id] ?? "n?") [\(attributes.joined(separator: ", "))];\n"
    }

    private static let storeKinds: Set<String> = ["maildir-store", "tree-store"]

    static func nodeStyle(_ n: Node) -> [String] {
        switch n.kind {
        case .host: ["shape=box3d"]
        case .element: storeKinds.contains(n.detail ?? "") ? ["shape=cylinder"] : ["shape=component"]
        case .redirect: ["shape=doubleoctagon", "style=filled", "fillcolor=\"#fff3c4\""]
        case .flow: ["shape=cds"]
        case .set: ["shape=folder"]
        case .phase: ["shape=box", "style=\"bold,filled\"", "fillcolor=\"#e8eefc\""]
        case .step: ["shape=box", "style=rounded"]
        case .gate: ["shape=diamond"]
        case .notify: ["shape=note"]
        }
    }

    static func edgeStyle(_ k: EdgeKind) -> [String] {
        switch k {
        case .after: ["style=bold", "color=\"#3050a0\"", "xlabel=\"after\""]
        case .runs: ["color=\"gray30\""]
        case .uses: ["style=dotted"]
        case .through: ["color=\"#1060c0\""]
        case .at: ["style=bold", "arrowhead=odot"]
        case .routes: ["color=\"#207020\""]
        case .on: ["style=dotted", "arrowhead=none"]
        case .iterates: ["style=dashed", "xlabel=\"for each\""]
        }
    }

    /// A DOT quoted string for labels and other escString attributes: `"` and
    /// `\` are escaped, a newline becomes DOT's `\n` (a centred line break),
    /// a carriage return and other control characters become spaces. The
    /// result can never end the string early or start another escape.
    public static func dotQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += " "
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
