import Foundation
internal import CGraphviz

/// Graphviz's C library (libgvc, libcgraph), in-process: a DOT text laid out
/// and rendered to SVG without running `dot`.
///
/// Graphviz keeps global state (its error handler, plugin tables), so every
/// call into it is serialized by one lock. Each C object has one owner that
/// frees it in `deinit`: the context (`gvFreeContext`), the graph
/// (`agclose`), its layout (`gvFreeLayout`) and the rendered buffer
/// (`gvFreeRenderData`, at once after copying it).
public enum Graphviz {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private static let lock = NSLock()

    /// `dot` rendered with `engine` (a layout: dot, neato...) to `format`
    /// (svg, plain...). Throws with Graphviz's own message when the DOT is
    /// malformed or the layout or the format is unknown.
    public static func render(dot: String, engine: String = "dot", format: String = "svg") throws -> String {
        lock.lock()
        defer { lock.unlock() }
        ErrorLog.messages = ""
        let previous = agseterrf(graphvizErrorHandler)
        defer { agseterrf(previous) }
        let context = try Context()
        let graph = try Graph(dot: dot)
        let layout = try Layout(context: context, graph: graph, engine: engine)
        return try layout.render(format: format)
    }

    /// Graphviz's messages of the current call (guarded by `lock`).
    fileprivate enum ErrorLog {
        nonisolated(unsafe) static var messages = ""
        static func failure(_ what: String) -> Failure {
            let detail = messages.trimmingCharacters(in: .whitespacesAndNewlines)
            return Failure(description: detail.isEmpty ? what : "\(what): \(detail)")
        }
    }

    /// A `GVC_t`: the plugins (layouts, renderers) Graphviz found.
    private final class Context {
        let pointer: OpaquePointer
        init() throws {
            guard let gvc = gvContext() else { throw ErrorLog.failure("Graphviz could not start (gvContext)") }
            pointer = gvc
        }
        deinit { gvFreeContext(pointer) }
    }

    /// An `Agraph_t` read from DOT text.
    private final class Graph {
        let pointer: UnsafeMutablePointer<Agraph_t>
        init(dot: String) throws {
            guard let g = dot.withCString({ agmemread($0) }) else {
                throw ErrorLog.failure("Graphviz could not read the DOT text")
            }
            pointer = g
        }
        deinit { agclose(pointer) }
    }

    /// A graph laid out in a context; keeps both alive while it exists.
    private final class Layout {
        let context: Context
        let graph: Graph
        init(context: Context, graph: Graph, engine: String) throws {
            guard gvLayout(context.pointer, graph.pointer, engine) == 0 else {
                throw ErrorLog.failure("Graphviz could not lay out the graph with '\(engine)'")
            }
            self.context = context
            self.graph = graph
        }
        deinit { gvFreeLayout(context.pointer, graph.pointer) }

        func render(format: String) throws -> String {
            var data: UnsafeMutablePointer<CChar>?
            var length: UInt32 = 0
            guard gvRenderData(context.pointer, graph.pointer, format, &data, &length) == 0, let data else {
                throw ErrorLog.failure("Graphviz could not render the graph as '\(format)'")
            }
            defer { gvFreeRenderData(data) }
            let bytes = UnsafeRawBufferPointer(start: data, count: Int(length))
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// Graphviz's error callback: collects its messages for `Graphviz.Failure`.
private func graphvizErrorHandler(_ message: UnsafeMutablePointer<CChar>?) -> Int32 {
    if let message { Graphviz.ErrorLog.messages += String(cString: message) }
    return 0
}
