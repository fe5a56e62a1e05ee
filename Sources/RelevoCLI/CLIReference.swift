/// The per-command part of docs/cli.md, generated from the same
/// `CommandSpec`s that the parser and `--help` use, so the reference cannot
/// drift from the program. A test fails when the document is out of date;
/// `RELEVO_UPDATE_DOCS=1 swift test --filter CLIReferenceTests` rewrites it.
enum CLIReference {
    static let beginMarker = "<!-- BEGIN GENERATED: commands (CLIReference.swift) -->"
    static let endMarker = "<!-- END GENERATED: commands -->"

    static func markdown() -> String {
        var s = beginMarker + "\n"
        for c in Commands.all {
            s += "\n### relevo \(c.name)\n\n\(c.summary.prefix(1).uppercased() + c.summary.dropFirst()).\n\n```\n"
            for u in c.usage { s += "relevo \(u.trimmingLeadingSpaces())\n" }
            s += "```\n\n"
            for paragraph in c.description {
                s += paragraph.split(separator: "\n").map { $0.trimmingLeadingSpaces() }.joined(separator: "\n") + "\n\n"
            }
            if !c.arguments.isEmpty {
                s += "| argument | meaning |\n|---|---|\n"
                for a in c.arguments { s += "| `\(a.name)` | \(escape(a.help)) |\n" }
                s += "\n"
            }
            s += "| option | meaning |\n|---|---|\n"
            for o in c.options {
                let name = (o.short.map { "`-\($0)`, " } ?? "") + "`\(o.synopsis)`"
                s += "| \(escape(name)) | \(escape(o.help)) |\n"
            }
            if !c.output.isEmpty {
                s += "\n**Output.** " + c.output.map { $0.trimmingLeadingSpaces() }.joined(separator: " ") + "\n"
            }
            s += "\n**Examples.**\n\n```\n"
            for e in c.examples { s += "# \(e.comment)\n\(e.command)\n" }
            s += "```\n\n**Exit status.** "
            s += c.exits.map { "\($0.rawValue) (\($0.meaning))" }.joined(separator: "; ") + ".\n"
        }
        return s + "\n" + endMarker
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }
}

extension StringProtocol {
    func trimmingLeadingSpaces() -> String { String(drop { $0 == " " }) }
}
