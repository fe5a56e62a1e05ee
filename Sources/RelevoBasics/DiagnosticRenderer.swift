/// Renders diagnostics like a compiler:
///
/// ```
/// plans/x.yaml:12:7: error[E020]: unknown element 'ldap-nwe'
///    12 |   at: ldap-nwe
///       |       ^~~~~~~~
///       = help: did you mean 'ldap-new'?
/// ```
public struct DiagnosticRenderer: Sendable {
    public var color: Bool
    private let sources: [String: SourceFile]

    public init(sources: [SourceFile], color: Bool = false) {
        var map: [String: SourceFile] = [:]
        for s in sources { map[s.path] = s }
        self.sources = map
        self.color = color
    }

    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map(render).joined()
    }

    public func render(_ d: Diagnostic) -> String {
        var out = ""
        let label: String
        switch d.severity {
        case .error: label = paint("error", "1;31")
        case .warning: label = paint("warning", "1;33")
        case .note: label = paint("note", "1;36")
        }
        let place = d.range.map { "\($0.file):\($0.start.line):\($0.start.column): " } ?? ""
        out += paint(place, "1") + label + paint("[\(d.id)]: \(d.summary)", "1") + "\n"
        if let r = d.range { out += excerpt(r) }
        let pad = gutterWidth(d.range)
        if let detail = d.detail {
            out += String(repeating: " ", count: pad) + " = " + paint("note", "1") + ": " + detail + "\n"
        }
        for n in d.notes {
            if let r = n.range {
                out += String(repeating: " ", count: pad) + " = " + paint("note", "1") + ": "
                    + "\(r.file):\(r.start.line):\(r.start.column): \(n.message)\n"
            } else {
                out += String(repeating: " ", count: pad) + " = " + paint("note", "1") + ": " + n.message + "\n"
            }
        }
        if let help = d.help {
            out += String(repeating: " ", count: pad) + " = " + paint("help", "1;32") + ": " + help + "\n"
        }
        if let fix = d.fixIt {
            out += String(repeating: " ", count: pad) + " = " + paint("fix", "1;32")
                + ": replace with '\(fix.replacement)'\n"
        }
        return out
    }

    private func gutterWidth(_ r: SourceRange?) -> Int {
        guard let r else { return 1 }
        return String(r.start.line).count + 1
    }

    private func excerpt(_ r: SourceRange) -> String {
        guard let file = sources[r.file], let line = file.line(r.start.line) else { return "" }
        let pad = gutterWidth(r)
        let number = String(r.start.line)
        var scalars = Array(String(line).replacingTabs().unicodeScalars)
        var column = max(1, min(r.start.column, scalars.count + 1))
        var width = 1
        if r.end.line == r.start.line {
            width = max(1, r.end.column - r.start.column)
        } else {
            width = max(1, scalars.count - column + 1)
        }
        // A hostile or generated line is quoted in part: a window of the
        // line around the column, with "…" where it was cut.
        if scalars.count > Self.maxQuoted {
            let start = max(0, min(column - 1 - Self.maxQuoted / 4, scalars.count - Self.maxQuoted))
            let end = start + Self.maxQuoted
            var window = Array(scalars[start..<end])
            column -= start
            if start > 0 { window.insert("…", at: 0); column += 1 }
            if end < scalars.count { window.append("…") }
            scalars = window
            width = min(width, scalars.count - column + 1)
        }
        let text = String(String.UnicodeScalarView(scalars))
        var out = String(repeating: " ", count: pad - number.count) + paint(number, "1;34")
            + " " + paint("|", "1;34") + " " + text + "\n"
        let marker = "^" + String(repeating: "~", count: max(0, width - 1))
        out += String(repeating: " ", count: pad) + " " + paint("|", "1;34") + " "
            + String(repeating: " ", count: column - 1) + paint(marker, "1;32") + "\n"
        return out
    }

    /// The most characters of a source line quoted under a diagnostic.
    static let maxQuoted = 160

    private func paint(_ s: String, _ code: String) -> String {
        guard color, !s.isEmpty else { return s }
        return "\u{1B}[\(code)m\(s)\u{1B}[0m"
    }
}

extension String {
    /// Tabs become one space so that caret columns (in characters) line up,
    /// and other control characters a "?" (a quoted line must not move the
    /// cursor or recolour a terminal).
    fileprivate func replacingTabs() -> String {
        String(unicodeScalars.map { $0 == "\t" ? " " : ($0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0)) })
    }
}
