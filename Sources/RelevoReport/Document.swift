import Foundation

/// A report as a format-neutral document: headings, paragraphs, lists,
/// tables and figures. The plan and run reports build one; Markdown and
/// HTML are two renderings of it, so both say the same thing.
struct ReportDocument {
    var title: String
    var blocks: [Block] = []

    /// A run of text with a style. Text is escaped by each renderer.
    enum Inline {
        case text(String)
        case code(String)
        case strong(String)
    }

    struct Table {
        var caption: String
        var header: [String]
        var rows: [[[Inline]]]
        /// The first cell of each row heads it (`<th scope="row">`).
        var rowHeaders = true
    }

    struct Figure {
        /// Unique in the document; the HTML `id` of the figure.
        var id: String
        var caption: String
        /// A complete `<svg>` element with `role="img"`, `aria-label` and `<title>`.
        var svg: String
        /// What Markdown shows instead of the drawing.
        var fallback: [Block]
    }

    indirect enum Block {
        case heading(Int, String)
        case paragraph([Inline])
        case list([[Inline]])
        case table(Table)
        case figure(Figure)
    }

    mutating func heading(_ level: Int, _ text: String) { blocks.append(.heading(level, text)) }
    mutating func paragraph(_ parts: Inline...) { blocks.append(.paragraph(parts)) }
    mutating func table(_ caption: String, _ header: [String], _ rows: [[[Inline]]], rowHeaders: Bool = true) {
        blocks.append(.table(Table(caption: caption, header: header, rows: rows, rowHeaders: rowHeaders)))
    }
}

extension ReportDocument.Inline {
    /// Plain text, for a table cell or a list item of one run.
    static func t(_ s: String) -> [ReportDocument.Inline] { [.text(s)] }
    /// Code, for a table cell; an empty value is a dash.
    static func c(_ s: String?) -> [ReportDocument.Inline] { s.map { $0.isEmpty ? [.text("—")] : [.code($0)] } ?? [.text("—")] }
}

// MARK: Markdown

extension ReportDocument {
    /// GitHub-flavoured Markdown: ATX headings, pipe tables, code spans.
    /// Figures show their caption and their fallback blocks.
    func markdown() -> String {
        var out = "# \(Self.mdEscape(title))\n"
        for block in blocks { out += "\n" + Self.markdown(block) }
        return out
    }

    private static func markdown(_ block: Block) -> String {
        switch block {
        case .heading(let level, let text):
            return String(repeating: "#", count: min(6, level)) + " " + mdEscape(text) + "\n"
        case .paragraph(let parts):
            let text = md(parts, inTable: false)
            return (text.hasPrefix("#") ? "\\" : "") + text + "\n"
        case .list(let items):
            return items.map { "- " + md($0, inTable: false) + "\n" }.joined()
        case .table(let table):
            var out = "**" + mdEscape(table.caption) + "**\n\n| " + table.header.map { mdEscape($0, inTable: true) }.joined(separator: " | ") + " |\n"
            out += "|" + String(repeating: "---|", count: table.header.count) + "\n"
            for row in table.rows {
                out += "| " + row.map { md($0, inTable: true) }.joined(separator: " | ") + " |\n"
            }
            return out
        case .figure(let figure):
            var out = "*" + mdEscape(figure.caption) + "*\n"
            for b in figure.fallback { out += "\n" + markdown(b) }
            return out
        }
    }

    private static func md(_ parts: [Inline], inTable: Bool) -> String {
        parts.map { part in
            switch part {
            case .text(let s): mdEscape(s, inTable: inTable)
            case .strong(let s): "**" + mdEscape(s, inTable: inTable) + "**"
            case .code(let s):
                codeSpan(inTable ? s.replacingOccurrences(of: "|", with: "\\|") : s)
            }
        }.joined()
    }

    /// A code span with a fence longer than any run of backticks inside.
    private static func codeSpan(_ s: String) -> String {
        let flat = s.replacingOccurrences(of: "\n", with: " ")
        var longest = 0, run = 0
        for ch in flat { run = ch == "`" ? run + 1 : 0; longest = max(longest, run) }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
        return fence + pad + flat + pad + fence
    }

    /// Escapes what Markdown would read as markup.
    static func mdEscape(_ s: String, inTable: Bool = false) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\", "*", "_", "`", "[", "]", "<", ">": out += "\\" + String(ch)
            case "|": out += inTable ? "\\|" : "|"
            case "\n": out += inTable ? " " : "\n"
            default: out.append(ch)
            }
        }
        return out
    }
}

// MARK: HTML

extension ReportDocument {
    /// One self-contained HTML file: inline CSS, inline SVG, no script, no
    /// font or anything else from the network. Responsive (tables scroll
    /// sideways on a phone), printable (print rules), accessible (one `h1`,
    /// headings in order, table captions and `<th scope>`).
    func html() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title))</title>
            <style>
            \(Self.css)
            </style>
            </head>
            <body>
            <main>
            <h1>\(Self.escape(title))</h1>

            """
        var tableNumber = 0
        for block in blocks {
            out += Self.html(block, tableNumber: &tableNumber)
        }
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    private static func html(_ block: Block, tableNumber: inout Int) -> String {
        switch block {
        case .heading(let level, let text):
            let l = min(6, max(2, level))
            return "<h\(l) id=\"\(anchor(text))\">\(escape(text))</h\(l)>\n"
        case .paragraph(let parts):
            return "<p>\(html(parts))</p>\n"
        case .list(let items):
            return "<ul>\n" + items.map { "<li>\(html($0))</li>\n" }.joined() + "</ul>\n"
        case .table(let table):
            tableNumber += 1
            var out = "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"table-\(tableNumber)\">\n<table>\n"
            out += "<caption id=\"table-\(tableNumber)\">\(escape(table.caption))</caption>\n<thead><tr>"
            out += table.header.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for row in table.rows {
                out += "<tr>"
                for (i, cell) in row.enumerated() {
                    out += i == 0 && table.rowHeaders ? "<th scope=\"row\">\(html(cell))</th>" : "<td>\(html(cell))</td>"
                }
                out += "</tr>\n"
            }
            return out + "</tbody>\n</table>\n</div>\n"
        case .figure(let figure):
            return "<figure id=\"\(escape(figure.id))\">\n<div class=\"drawing\">\n\(figure.svg)\n</div>\n"
                + "<figcaption>\(escape(figure.caption))</figcaption>\n</figure>\n"
        }
    }

    private static func html(_ parts: [Inline]) -> String {
        parts.map { part in
            switch part {
            case .text(let s): escape(s)
            case .code(let s): "<code>\(escape(s))</code>"
            case .strong(let s): "<strong>\(escape(s))</strong>"
            }
        }.joined()
    }

    /// Text and attribute values: `&`, `<`, `>`, `"` and `'` as entities.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A heading's `id`: lower-case letters and digits, dashes between words.
    static func anchor(_ text: String) -> String {
        var out = ""
        for ch in text.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber) { out.append(ch) } else if !out.hasSuffix("-") { out += "-" }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "section" : out
    }

    static let css = """
        :root { --ink: #1b1f24; --muted: #57606a; --rule: #d0d7de; --head: #f3f5f8; --accent: #2f5fb3; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--ink); background: #fff;
               font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
        h1 { font-size: 1.8rem; margin: 0.5rem 0 1rem; }
        h2 { font-size: 1.35rem; margin-top: 2rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.2rem; }
        h3 { font-size: 1.1rem; margin-top: 1.5rem; }
        h4 { font-size: 1rem; margin-top: 1.2rem; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.9em;
               background: #f6f8fa; padding: 0 0.2em; border-radius: 3px; overflow-wrap: break-word; }
        .scroll { overflow-x: auto; margin: 0.75rem 0; }
        .scroll:focus { outline: 2px solid var(--accent); }
        table { border-collapse: collapse; min-width: 100%; font-size: 0.92rem; }
        caption { text-align: left; font-weight: 600; color: var(--muted); padding: 0.2rem 0; }
        th, td { border: 1px solid var(--rule); padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
        thead th { background: var(--head); }
        tbody th { font-weight: 600; background: #fafbfc; }
        figure { margin: 1rem 0; }
        .drawing { overflow-x: auto; border: 1px solid var(--rule); border-radius: 6px; padding: 0.5rem; }
        .drawing svg { display: block; width: 100%; height: auto; min-width: 36rem; }
        figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 0.3rem; }
        @media (max-width: 40rem) {
          body { font-size: 15px; }
          main { padding: 0.75rem; }
          h1 { font-size: 1.4rem; }
          th, td { padding: 0.25rem 0.35rem; }
        }
        @media print {
          body { font-size: 10pt; }
          main { max-width: none; padding: 0; }
          .scroll, .drawing { overflow: visible; border: none; }
          .drawing svg { min-width: 0; max-height: 24cm; }
          h2, h3, h4 { break-after: avoid; }
          table, figure, tr { break-inside: avoid; }
          code { background: none; }
        }
        """
}

