/// Help pages: the overview (`relevo --help`) and one page per command
/// (`relevo help check`, `relevo check --help`).
enum Help {
    static func overview() -> String {
        let width = Commands.all.map(\.name.count).max() ?? 0
        var s = """
        relevo \(RelevoVersion.version): compile, rehearse and run zero-downtime migration plans

        Relevo reads a migration plan written in YAML (hosts, elements, redirect
        points, sets of users, phases of steps and gates), resolves every name,
        type-checks every step, builds the dependency graph, follows each data
        flow through the cutover and lints for risky patterns, reporting like a
        compiler: file, line, column, the source line and a fix. It rehearses the
        plan against fixtures (simulate) and runs it against the live systems
        (run), set by set, with a journal that survives a crash (--resume) and
        the inverses to put sets back (undo).

        USAGE
          relevo COMMAND [ARGUMENTS] [OPTIONS]
          relevo help COMMAND
          relevo --version

        COMMANDS

        """
        for c in Commands.all {
            s += "  " + c.name.padding(toLength: width, withPad: " ", startingAt: 0) + "   " + c.summary + "\n"
        }
        if !Commands.planned.isEmpty {
            s += "\nPlanned, not yet present: \(Commands.planned.joined(separator: ", ")).\n"
        }
        s += """

        OPTIONS
          -h, --help    show this help, or a command's help after the command
          --version     print the version and exit

        EXAMPLES
          relevo check plans/exalumno.yaml
          relevo check plans/*.yaml --format sarif > relevo.sarif
          relevo graph plans/exalumno.yaml | dot -Tsvg > graph.svg
          relevo render plans/exalumno.yaml --format html -o plan.html
          relevo explain E020
          relevo simulate plans/exalumno.yaml --approve all
          relevo run examples/exalumno/live.yaml --yes --approve all
          relevo status .relevo/runs/exalumno-mail-live-20261204T013000.journal

        EXIT STATUS

        """
        s += exitTable(ExitStatus.allCases)
        s += "\nSee docs/cli.md for the full reference.\n"
        return s
    }

    static func page(_ c: CommandSpec) -> String {
        var s = "relevo \(c.name): \(c.summary)\n\nUSAGE\n"
        for u in c.usage { s += "  relevo \(u)\n" }
        s += "\nDESCRIPTION\n" + c.description.joined(separator: "\n\n") + "\n"
        if !c.arguments.isEmpty {
            s += "\nARGUMENTS\n" + table(c.arguments.map { ($0.name, $0.help) })
        }
        s += "\nOPTIONS\n" + table(c.options.map { o -> (String, String) in
            ((o.short.map { "-\($0), " } ?? "") + o.synopsis, o.help)
        })
        if !c.output.isEmpty {
            s += "\nOUTPUT\n" + c.output.map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        s += "\nEXAMPLES\n"
        for e in c.examples { s += "  # \(e.comment)\n  \(e.command)\n" }
        s += "\nEXIT STATUS\n" + exitTable(c.exits)
        return s
    }

    /// The one-line usage shown after a usage error.
    static func usageHint(_ c: CommandSpec?) -> String {
        guard let c else { return "usage: relevo COMMAND [ARGUMENTS] [OPTIONS]; see 'relevo --help'\n" }
        return "usage: relevo \(c.usage[0])\nsee 'relevo help \(c.name)'\n"
    }

    private static func exitTable(_ exits: [ExitStatus]) -> String {
        table(exits.map { (String($0.rawValue), $0.meaning) })
    }

    private static func table(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "   " + $0.1 + "\n" }.joined()
    }
}

/// `relevo help [COMMAND]`.
enum HelpCommand {
    static let spec = CommandSpec(
        name: "help", summary: "show help for relevo or for one command",
        usage: ["help [COMMAND]"],
        description: ["  Prints the overview, or the page of COMMAND: what it does, its options,\n  examples and exit statuses."],
        arguments: [("COMMAND", "one of: " + ["check", "graph", "simulate", "run", "status", "undo", "fixtures", "explain",
                                              "help"].joined(separator: ", "))],
        options: [.help], output: ["The help text, on stdout."],
        examples: [("relevo help check", "how to check plans")],
        exits: [.success, .usage])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo help") } catch {
            console.error(error.message, help: error.help)
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        switch parsed.positionals.count {
        case 0:
            console.out(Help.overview())
            return .success
        case 1:
            let name = parsed.positionals[0]
            guard let command = Commands.named(name) else {
                Relevo.unknownCommand(name, &console)
                return .usage
            }
            console.out(Help.page(command))
            return .success
        default:
            console.error("'relevo help' takes at most one command")
            console.err(Help.usageHint(spec))
            return .usage
        }
    }
}
