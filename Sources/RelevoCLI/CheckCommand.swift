import RelevoBasics

/// `relevo check PLAN...`: load, check and lint plans; report what was found.
enum CheckCommand {
    enum Format: String, CaseIterable { case text, json, sarif }

    static let spec = CommandSpec(
        name: "check", summary: "check plans and report errors, warnings and lint findings",
        usage: ["check PLAN... [--format text|json|sarif] [--strict] [--no-lint] [--color auto|always|never]"],
        description: [
            """
              Loads each PLAN, resolves every name, type-checks steps, gates and
              ${field} placeholders, builds the dependency graph, follows every data
              flow through the cutover, then runs the lint rules. Fixture paths are
              resolved relative to the plan's folder.
            """,
            """
              Every plan is checked, even after one fails; the exit status sums them
              up. Use `relevo explain ID` to learn about a diagnostic.
            """,
        ],
        arguments: [("PLAN...", "one or more plan files (YAML)")],
        options: [
            OptionSpec(name: "format", valueName: "FORMAT", choices: Format.allCases.map(\.rawValue),
                       help: "text (default, like a compiler), json, or sarif (SARIF 2.1.0)"),
            OptionSpec(name: "strict", help: "fail (exit 1) on warnings too, not only on errors"),
            OptionSpec(name: "no-lint", help: "skip the lint rules; report loader and checker diagnostics only"),
            .color,
            .help,
        ],
        output: [
            "The report goes to stdout in every format. For text, each diagnostic is",
            "`path:line:col: error[ID]: summary`, the source line, a caret under the",
            "spot and `= help:` lines, then one summary line per plan:",
            "`path: 2 errors, 1 warning` or `path: ok`.",
            "Files that cannot be read are reported on stderr.",
        ],
        examples: [
            ("relevo check plans/exalumno.yaml", "check one plan"),
            ("relevo check plans/*.yaml --strict", "check every plan; warnings fail too"),
            ("relevo check plans/exalumno.yaml --format sarif > relevo.sarif", "SARIF for code scanning"),
        ],
        exits: [.success, .planErrors, .usage, .unreadable])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo check") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard !parsed.positionals.isEmpty else {
            console.error("missing PLAN: name at least one plan file to check")
            console.err(Help.usageHint(spec))
            return .usage
        }
        let format = Format(rawValue: parsed.value("format") ?? "text") ?? .text
        let color = ColorChoice(rawValue: parsed.value("color") ?? "auto") ?? .auto
        let strict = parsed.flag("strict")

        let plans = parsed.positionals.map { PlanAnalysis.analyse($0, lint: !parsed.flag("no-lint")) }
        for p in plans {
            if let reason = p.readError { console.error("cannot read \(p.path): \(reason)") }
        }
        switch format {
        case .text:
            console.out(TextReport.render(plans, color: console.useColor(color, for: .out)))
        case .json:
            console.out(JSONReport.render(plans))
        case .sarif:
            console.out(SARIFReport.render(plans))
        }
        if plans.contains(where: { $0.readError != nil }) { return .unreadable }
        return plans.contains(where: { $0.fails(strict: strict) }) ? .planErrors : .success
    }
}

/// The text report: diagnostics rendered like a compiler, each followed by
/// a blank line, then one summary line per plan.
enum TextReport {
    static func render(_ plans: [PlanAnalysis], color: Bool) -> String {
        let style = Style(enabled: color)
        var out = ""
        for p in plans where p.readError == nil {
            let renderer = DiagnosticRenderer(sources: p.source.map { [$0] } ?? [], color: color)
            for d in p.diagnostics { out += renderer.render(d) + "\n" }
            out += summary(p, style)
        }
        return out
    }

    /// `plans/x.yaml: 2 errors, 1 warning` or `plans/x.yaml: ok`.
    static func summary(_ p: PlanAnalysis, _ style: Style) -> String {
        var parts: [String] = []
        if p.errors > 0 { parts.append(style.red(count(p.errors, "error"))) }
        if p.warnings > 0 { parts.append(style.yellow(count(p.warnings, "warning"))) }
        if p.notes > 0 { parts.append(count(p.notes, "note")) }
        return style.bold(p.path + ":") + " " + (parts.isEmpty ? style.green("ok") : parts.joined(separator: ", ")) + "\n"
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
