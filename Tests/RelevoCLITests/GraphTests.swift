import Foundation
import Testing
@testable import RelevoCheck
@testable import RelevoCLI

@Suite("relevo graph")
struct GraphTests {
    static let dotPath = "/usr/bin/dot"

    /// Renders DOT with the real Graphviz (installed by scripts/setup).
    private func svg(_ dot: String) throws -> (status: Int32, svg: String, error: String) {
        try #require(FileManager.default.isExecutableFile(atPath: Self.dotPath),
                     "Graphviz is missing: run scripts/setup")
        let folder = PlanFolder()
        let file = folder.write("graph.dot", dot)
        let result = try runProcess(Self.dotPath, ["-Tsvg", file])
        return (result.status, result.output, result.error)
    }

    @Test("DOT output is accepted by `dot -Tsvg`")
    func dotRenders() throws {
        let folder = PlanFolder()
        let run = relevo(["graph", folder.write("tiny.yaml", Plans.tiny)])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(run.stdout.hasPrefix("digraph plan {"))
        let rendered = try svg(run.stdout)
        #expect(rendered.status == 0, "dot failed: \(rendered.error)")
        #expect(rendered.svg.contains("<svg"))
        #expect(rendered.error.isEmpty, "dot warned: \(rendered.error)")
    }

    @Test("clusters per host and shapes by kind")
    func shapes() {
        let folder = PlanFolder()
        let dot = relevo(["graph", folder.write("tiny.yaml", Plans.tiny)]).stdout
        #expect(dot.contains("subgraph cluster_0 {"))
        #expect(dot.contains("label=\"host old\""))
        #expect(dot.contains("label=\"store-old\\nmaildir-store\""))
        for shape in ["cylinder", "doubleoctagon", "diamond", "folder", "component"] {
            #expect(dot.contains("shape=\(shape)"), "no \(shape) node")
        }
    }

    @Test("the same plan gives byte-identical output")
    func stable() {
        let folder = PlanFolder()
        let plan = folder.write("tiny.yaml", Plans.tiny)
        #expect(relevo(["graph", plan]).stdout == relevo(["graph", plan]).stdout)
        #expect(relevo(["graph", plan, "--format", "json"]).stdout == relevo(["graph", plan, "--format", "json"]).stdout)
    }

    @Test("JSON output has nodes, edges and the phase order")
    func json() throws {
        let folder = PlanFolder()
        let run = relevo(["graph", folder.write("tiny.yaml", Plans.tiny), "--format", "json"])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.contains { $0["id"] as? String == "element:store-old" && $0["kind"] as? String == "element" })
        #expect((object["edges"] as? [Any])?.isEmpty == false)
        #expect(object["phaseOrder"] as? [String] == ["users"])
    }

    @Test("a plan with errors: diagnostics on stderr, nothing on stdout, exit 1")
    func brokenPlan() {
        let folder = PlanFolder()
        let run = relevo(["graph", folder.write("broken.yaml", Plans.broken)])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(folder.normalise(run.stderr).hasPrefix("broken.yaml:12:9: error[E020]: unknown element 'directroy'\n"))
    }

    @Test("usage and read errors")
    func errors() {
        let folder = PlanFolder()
        let plan = folder.write("tiny.yaml", Plans.tiny)
        #expect(relevo(["graph"]).status == 2)
        #expect(relevo(["graph", plan, plan]).status == 2)
        #expect(relevo(["graph", plan, "--format", "svg"]).status == 2)
        #expect(relevo(["graph", folder.path + "/missing.yaml"]).status == 4)
    }

    @Test("DOT strings escape quotes, backslashes, newlines and control characters")
    func quoting() {
        #expect(PlanGraph.dotQuoted("plain") == "\"plain\"")
        #expect(PlanGraph.dotQuoted("a\"b") == "\"a\\\"b\"")
        #expect(PlanGraph.dotQuoted("back\\") == "\"back\\\\\"")
        #expect(PlanGraph.dotQuoted("two\nlines") == "\"two\\nlines\"")
        #expect(PlanGraph.dotQuoted("cr\r\u{7}bell") == "\"cr  bell\"")
    }

    static let hostile = [
        "quote\"inside",
        "ends with backslash\\",
        "\\\"",
        "\"]; injected -> x; n0 [label=\"",
        "multi\nline\r\nlabel",
        "}\n}\ndigraph evil {",
        "<b>html?</b> & ümlaut",
    ]

    @Test("hostile labels and titles still give a graph `dot` accepts, with no extra nodes")
    func hostileLabels() throws {
        var graph = PlanGraph()
        for (i, label) in Self.hostile.enumerated() {
            let kind = PlanGraph.NodeKind.allCases[i % PlanGraph.NodeKind.allCases.count]
            graph.nodes.append(PlanGraph.Node(id: "\(kind.rawValue):\(label)", kind: kind, label: label,
                                              host: kind == .host ? label : nil, detail: label, line: i + 1))
        }
        graph.nodes.append(PlanGraph.Node(id: "element:e", kind: .element, label: "e", host: Self.hostile[0],
                                          detail: "maildir-store", line: nil))
        for i in 1..<graph.nodes.count {
            graph.edges.append(PlanGraph.Edge(from: graph.nodes[i - 1].id, to: graph.nodes[i].id,
                                              kind: .uses, label: Self.hostile[i % Self.hostile.count]))
        }
        let dot = graph.dot(title: "title \"with\" \\ and\nnewline")
        let rendered = try svg(dot)
        #expect(rendered.status == 0, "dot failed: \(rendered.error)\n\(dot)")
        #expect(rendered.svg.components(separatedBy: "class=\"node\"").count - 1 == graph.nodes.count)
        // Every node and edge Graphviz drew is one of ours: the hostile text
        // stayed inside its labels.
        let titles = rendered.svg.components(separatedBy: "<title>").dropFirst()
            .map { String($0.prefix { $0 != "<" }) }
        let allowed = try Regex("^(plan|cluster_[0-9]+|n[0-9]+|n[0-9]+&#45;&gt;n[0-9]+)$")
        for title in titles { #expect(title.wholeMatch(of: allowed) != nil, "unexpected element '\(title)'") }
        #expect(rendered.svg.contains("quote&quot;inside"))
        #expect(rendered.svg.contains("ends with backslash\\"))
    }

    @Test("hostile labels survive the JSON export")
    func hostileJSON() throws {
        var graph = PlanGraph()
        for (i, label) in Self.hostile.enumerated() {
            graph.nodes.append(PlanGraph.Node(id: "n\(i)", kind: .element, label: label + "\u{1}\t", host: nil,
                                              detail: nil, line: nil))
        }
        graph.edges.append(PlanGraph.Edge(from: "n0", to: "n1", kind: .uses, label: Self.hostile[3]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(graph.json().utf8)) as? [String: Any])
        let labels = (object["nodes"] as? [[String: Any]])?.compactMap { $0["label"] as? String }
        #expect(labels == Self.hostile.map { $0 + "\u{1}\t" })
        #expect((object["edges"] as? [[String: Any]])?.first?["label"] as? String == Self.hostile[3])
        #expect(object["phaseOrder"] as? [String] == [])
    }

    @Test("golden: DOT and JSON of the tiny plan")
    func goldenGraph() {
        let folder = PlanFolder()
        let plan = folder.write("tiny.yaml", Plans.tiny)
        expectGolden(relevo(["graph", plan]).stdout, "tiny.dot")
        expectGolden(relevo(["graph", plan, "--format", "json"]).stdout, "tiny.graph.json")
    }

    @Test("a plan whose name is hostile draws fine")
    func hostilePlanName() throws {
        let folder = PlanFolder()
        let text = Plans.tiny.replacingOccurrences(of: "plan: tiny", with: #"plan: "we \"ird\" \\ name\nsecond line""#)
        let run = relevo(["graph", folder.write("odd.yaml", text)])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#"label="we \"ird\" \\ name\nsecond line";"#))
        let rendered = try svg(run.stdout)
        #expect(rendered.status == 0, "dot failed: \(rendered.error)")
    }
}
