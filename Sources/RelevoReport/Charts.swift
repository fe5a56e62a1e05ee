import Foundation
import RelevoEngine

/// The run report's charts, drawn as SVG by hand: a timeline of the sets
/// (one bar per set and per global phase, coloured by how it ended) and the
/// bytes copied over time. Coordinates are rounded to one decimal so that
/// the same journal gives the same drawing.
enum Charts {
    static let stateColours: [(state: String, colour: String)] = [
        ("migrated", "#2e8b57"), ("undone", "#d98c1f"), ("failed", "#c0392b"),
        ("running", "#6f7f95"), ("pending", "#b8c0cc"), ("skipped", "#9aa5b1"),
    ]

    static func colour(_ state: String) -> String {
        stateColours.first { state.hasPrefix($0.state) }?.colour ?? "#6f7f95"
    }

    private static func n(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    /// Five or six round tick values from 0 to at least `top`.
    static func ticks(_ top: Double) -> [Double] {
        guard top > 0 else { return [0] }
        let raw = top / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        return stride(from: 0, through: top + step * 0.999, by: step).map { $0 }
    }

    /// Bars from `start` to `end` seconds, one row each, labelled.
    static func timeline(_ run: RunFacts, label: String) -> String {
        var rows: [(label: String, start: Double, end: Double, state: String)] = []
        for p in run.phases where !p.perSet {
            if let s = p.start { rows.append(("phase " + p.name, s, p.end ?? run.end, p.state)) }
        }
        for s in run.sets { if let st = s.start { rows.append((s.key, st, s.end ?? run.end, s.state.rawValue)) } }
        let labelled = rows.count <= 80
        let rowHeight = labelled ? 16.0 : max(2, 640 / Double(max(rows.count, 1)))
        let left = labelled ? 150.0 : 40.0, right = 20.0, top = 10.0, width = 800.0
        let plotWidth = width - left - right
        let span = max(run.end, 0.001)
        let axis = ticks(span)
        let scaleEnd = axis.last ?? span
        let height = top + Double(rows.count) * rowHeight + 40
        func x(_ t: Double) -> String { n(left + t / scaleEnd * plotWidth) }

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" "
            + "role=\"img\" aria-label=\"\(SVG.text(label))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<title>\(SVG.text(label))</title>\n"
        let axisY = top + Double(rows.count) * rowHeight
        for t in axis {
            out += "<line x1=\"\(x(t))\" y1=\"\(n(top))\" x2=\"\(x(t))\" y2=\"\(n(axisY))\" stroke=\"#e1e4e8\"/>"
            out += "<text x=\"\(x(t))\" y=\"\(n(axisY + 14))\" text-anchor=\"middle\" fill=\"#57606a\">\(SVG.text(Units.duration(t)))</text>\n"
        }
        for (i, r) in rows.enumerated() {
            let y = top + Double(i) * rowHeight
            let w = max(1, (r.end - r.start) / scaleEnd * plotWidth)
            out += "<rect x=\"\(x(r.start))\" y=\"\(n(y + 2))\" width=\"\(n(w))\" height=\"\(n(max(1, rowHeight - 4)))\" "
                + "fill=\"\(colour(r.state))\"><title>\(SVG.text("\(r.label): \(r.state), \(Units.duration(r.start)) to \(Units.duration(r.end))"))</title></rect>"
            if labelled {
                out += "<text x=\"\(n(left - 6))\" y=\"\(n(y + rowHeight - 4))\" text-anchor=\"end\">\(SVG.text(r.label))</text>"
            }
            out += "\n"
        }
        out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(axisY + 30))\" text-anchor=\"middle\" fill=\"#57606a\">"
            + SVG.text(run.isSimulation ? "virtual time since the start (simulation)" : "time since the start") + "</text>\n"
        return out + "</svg>"
    }

    /// Bytes copied so far, over time.
    static func throughput(_ run: RunFacts, label: String) -> String {
        let left = 80.0, right = 20.0, top = 10.0, width = 800.0, plotHeight = 200.0
        let plotWidth = width - left - right
        let timeAxis = ticks(max(run.end, 0.001)), byteAxis = ticks(Double(max(run.throughput.last?.bytes ?? 0, 1)))
        let tEnd = timeAxis.last ?? 1, bEnd = byteAxis.last ?? 1
        func x(_ t: Double) -> String { n(left + t / tEnd * plotWidth) }
        func y(_ b: Double) -> String { n(top + plotHeight - b / bEnd * plotHeight) }
        let height = top + plotHeight + 40
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" "
            + "role=\"img\" aria-label=\"\(SVG.text(label))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<title>\(SVG.text(label))</title>\n"
        for b in byteAxis {
            out += "<line x1=\"\(n(left))\" y1=\"\(y(b))\" x2=\"\(n(left + plotWidth))\" y2=\"\(y(b))\" stroke=\"#e1e4e8\"/>"
            out += "<text x=\"\(n(left - 6))\" y=\"\(y(b))\" text-anchor=\"end\" dominant-baseline=\"middle\" fill=\"#57606a\">\(SVG.text(Units.bytes(Int64(b))))</text>\n"
        }
        for t in timeAxis {
            out += "<text x=\"\(x(t))\" y=\"\(n(top + plotHeight + 14))\" text-anchor=\"middle\" fill=\"#57606a\">\(SVG.text(Units.duration(t)))</text>\n"
        }
        var points = ["\(x(0)),\(y(0))"]
        var last: Int64 = 0
        for p in run.throughput {
            points.append("\(x(p.at)),\(y(Double(last)))")
            points.append("\(x(p.at)),\(y(Double(p.bytes)))")
            last = p.bytes
        }
        points.append("\(x(run.end)),\(y(Double(last)))")
        out += "<polyline fill=\"none\" stroke=\"#2f5fb3\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
        out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top + plotHeight + 30))\" text-anchor=\"middle\" fill=\"#57606a\">"
            + SVG.text("bytes copied so far, over " + (run.isSimulation ? "virtual time (simulation)" : "time")) + "</text>\n"
        return out + "</svg>"
    }
}
