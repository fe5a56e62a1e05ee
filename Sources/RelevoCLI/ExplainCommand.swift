import RelevoBasics

/// `relevo explain ID|NAME` and `relevo explain --list`.
enum ExplainCommand {
    static let spec = CommandSpec(
        name: "explain", summary: "explain a diagnostic or lint rule, with an example and its correction",
        usage: ["explain ID|NAME", "explain --list"],
        description: [
            """
              Every diagnostic has a stable ID (E020, L001...) and name
              (unknown-reference, no-canary...), shown in brackets after
              `error` or `warning`. `relevo explain` prints what it means, why it
              matters, a plan fragment that triggers it and the same fragment
              corrected.
            """,
        ],
        arguments: [("ID|NAME", "a diagnostic ID such as E020 (any case) or a name such as unknown-reference")],
        options: [
            OptionSpec(name: "list", help: "list every diagnostic and lint rule: ID, name, severity, title"),
            .help,
        ],
        output: ["The explanation or the list, on stdout."],
        examples: [
            ("relevo explain E020", "what an unknown reference is"),
            ("relevo explain no-canary", "a lint rule, by name"),
            ("relevo explain --list", "every ID"),
        ],
        exits: [.success, .usage])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo explain") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        if parsed.flag("list") {
            guard parsed.positionals.isEmpty else {
                console.error("'--list' takes no ID")
                console.err(Help.usageHint(spec))
                return .usage
            }
            console.out(list(Catalogue.all))
            return .success
        }
        guard parsed.positionals.count == 1 else {
            console.error(parsed.positionals.isEmpty ? "missing ID: name a diagnostic ID or name, or use --list"
                          : "'relevo explain' takes one ID at a time")
            console.err(Help.usageHint(spec))
            return .usage
        }
        let key = parsed.positionals[0]
        guard let code = Catalogue.find(key) else {
            let codes = Catalogue.all
            let suggestion = DidYouMean.closest(to: key, in: codes.map(\.id) + codes.map(\.name))
            console.error("no diagnostic or lint rule is called '\(key)'",
                          help: suggestion.map { "did you mean '\($0)'?" } ?? "see 'relevo explain --list'")
            return .usage
        }
        console.out(explanation(code))
        return .success
    }

    /// The page for one code.
    static func explanation(_ c: DiagnosticCode) -> String {
        let lint = Catalogue.isLintRule(c.id)
        var s = "\(c.id) \(c.name) (\(c.severity.rawValue)\(lint ? ", lint rule" : ""))\n"
        s += c.title + "\n\n"
        s += wrap(c.explanation, width: 78) + "\n"
        if !c.example.isEmpty {
            s += "\n" + (lint ? "A plan that triggers it:" : "Example:") + "\n" + indent(c.example)
        }
        if !c.correction.isEmpty {
            s += "\n" + (lint ? "The plan corrected:" : "Correction:") + "\n" + indent(c.correction)
        }
        return s
    }

    /// A table of every code.
    static func list(_ codes: [DiagnosticCode]) -> String {
        let idWidth = max(2, codes.map(\.id.count).max() ?? 0)
        let nameWidth = max(4, codes.map(\.name.count).max() ?? 0)
        func row(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            a.padding(toLength: idWidth, withPad: " ", startingAt: 0) + "  "
                + b.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + c.padding(toLength: 8, withPad: " ", startingAt: 0) + "  " + d + "\n"
        }
        return row("ID", "NAME", "SEVERITY", "TITLE")
            + codes.map { row($0.id, $0.name, $0.severity.rawValue, $0.title) }.joined()
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "    " + $0 }
            .joined(separator: "\n")
            .trimmingTrailingNewlines() + "\n"
    }

    /// Wraps each paragraph at `width` columns, on spaces.
    static func wrap(_ text: String, width: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { paragraph -> String in
            var lines: [String] = []
            var line = ""
            for word in paragraph.split(separator: " ") {
                if !line.isEmpty, line.count + 1 + word.count > width {
                    lines.append(line)
                    line = ""
                }
                line += (line.isEmpty ? "" : " ") + word
            }
            lines.append(line)
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
