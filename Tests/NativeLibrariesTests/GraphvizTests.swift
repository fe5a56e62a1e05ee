// Link-and-call smoke test for Graphviz (module CGraphviz: libgvc, libcgraph, libcdt).
import CGraphviz
import XCTest

final class GraphvizTests: XCTestCase {
    func testLayoutAndRenderToPlainText() throws {
        let gvc = try XCTUnwrap(gvContext())
        defer { gvFreeContext(gvc) }
        let graph = try XCTUnwrap("digraph { a -> b; }".withCString { agmemread($0) })
        defer { agclose(graph) }
        XCTAssertEqual(agnnodes(graph), 2)
        XCTAssertEqual(gvLayout(gvc, graph, "dot"), 0)
        defer { gvFreeLayout(gvc, graph) }
        var data: UnsafeMutablePointer<CChar>?
        var length: UInt32 = 0
        XCTAssertEqual(gvRenderData(gvc, graph, "plain", &data, &length), 0)
        let text = String(cString: try XCTUnwrap(data))
        gvFreeRenderData(data)
        XCTAssertTrue(text.hasPrefix("graph "), text)
        XCTAssertTrue(text.contains("node a "), text)
        XCTAssertTrue(text.contains("edge a b"), text)
    }
}
