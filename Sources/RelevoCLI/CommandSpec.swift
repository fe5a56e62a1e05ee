/// What a subcommand is, for the parser and for its help page: help is
/// generated from the same options the parser accepts, so it cannot drift.
struct CommandSpec: Sendable {
    var name: String
    /// One line for the command list.
    var summary: String
    /// Usage lines without the leading `relevo `.
    var usage: [String]
    /// What the command does, in short paragraphs.
    var description: [String]
    /// Positional arguments and what they mean.
    var arguments: [(name: String, help: String)]
    var options: [OptionSpec]
    /// Where the output goes and what it looks like.
    var output: [String]
    /// Command lines with a comment each.
    var examples: [(command: String, comment: String)]
    /// The exit statuses this command can return.
    var exits: [ExitStatus]
}

extension OptionSpec {
    static let help = OptionSpec(name: "help", short: "h", help: "show this help and exit")
    static let color = OptionSpec(name: "color", valueName: "WHEN", choices: ColorChoice.allCases.map(\.rawValue),
                                  help: "colour diagnostics: auto (a terminal, unless NO_COLOR is set), always, never")
}

/// The commands `relevo` has, in the order help lists them.
enum Commands {
    static let all: [CommandSpec] = [CheckCommand.spec, GraphCommand.spec, SimulateCommand.spec, RunCommand.spec, WorkerCommand.spec,
                                     StatusCommand.spec, UndoCommand.spec, RenderCommand.spec,
                                     FixturesCommand.spec, ExplainCommand.spec,
                                     HelpCommand.spec]

    /// Commands the design promises but this version does not have.
    static let planned: [String] = []

    static func named(_ name: String) -> CommandSpec? { all.first { $0.name == name } }
}
