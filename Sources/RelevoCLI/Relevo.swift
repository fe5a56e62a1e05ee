import Foundation
import RelevoBasics

/// The `relevo` command line. `main()` wires the process to `run`, which does
/// all the work and can be called in-process by tests.
public enum Relevo {
    /// Runs the command line of this process and exits with its status.
    public static func main() -> Never {
        var out = FileStream(handle: .standardOutput)
        var err = FileStream(handle: .standardError)
        let status = run(Array(CommandLine.arguments.dropFirst()),
                         environment: ProcessInfo.processInfo.environment,
                         stdout: &out, stderr: &err,
                         stdoutIsTTY: isatty(STDOUT_FILENO) == 1,
                         stderrIsTTY: isatty(STDERR_FILENO) == 1,
                         liveProgress: { writeToStandardError($0) })
        exit(status)
    }

    /// Writes `text` to file descriptor 2 as it is, with `write` calls
    /// until it is all out (a progress line per set: `FileHandle` cost more
    /// than the rest of a dry-run set's output); gives up on an error.
    static func writeToStandardError(_ text: String) {
        _ = FileDescriptor.writeAll(STDERR_FILENO, text)
    }

    /// Runs `relevo ARGUMENTS` and returns the exit status (see `ExitStatus`).
    ///
    /// - Parameters:
    ///   - arguments: the arguments after the program name.
    ///   - environment: read for `NO_COLOR` and `TERM`.
    ///   - stdout, stderr: where output goes (see `Console` for which is which).
    ///   - stdoutIsTTY, stderrIsTTY: whether each stream is a terminal, for
    ///     `--color auto`. `stderrIsTTY` defaults to `stdoutIsTTY`.
    public static func run(_ arguments: [String], environment: [String: String],
                           stdout: inout some TextOutputStream, stderr: inout some TextOutputStream,
                           stdoutIsTTY: Bool, stderrIsTTY: Bool? = nil,
                           liveProgress: (@Sendable (String) -> Void)? = nil) -> Int32 {
        var console = Console(environment: environment, stdoutIsTTY: stdoutIsTTY,
                              stderrIsTTY: stderrIsTTY ?? stdoutIsTTY, liveProgress: liveProgress)
        let status = dispatch(arguments, &console)
        for (stream, text) in console.chunks {
            switch stream {
            case .out: stdout.write(text)
            case .err: stderr.write(text)
            }
        }
        return status.rawValue
    }

    static func dispatch(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        guard let first = arguments.first else {
            console.error("missing command", help: "commands: " + Commands.all.map(\.name).joined(separator: ", "))
            console.err(Help.usageHint(nil))
            return .usage
        }
        let rest = Array(arguments.dropFirst())
        switch first {
        case "-h", "--help":
            console.out(Help.overview())
            return .success
        case "--version", "-V":
            console.out("relevo \(RelevoVersion.version)\n")
            return .success
        case "check": return CheckCommand.run(rest, &console)
        case "graph": return GraphCommand.run(rest, &console)
        case "explain": return ExplainCommand.run(rest, &console)
        case "simulate": return SimulateCommand.run(rest, &console)
        case "status": return StatusCommand.run(rest, &console)
        case "run": return RunCommand.run(rest, &console)
        case "worker": return WorkerCommand.run(rest, &console)
        case "undo": return UndoCommand.run(rest, &console)
        case "render": return RenderCommand.run(rest, &console)
        case "fixtures": return FixturesCommand.run(rest, &console)
        case "help": return HelpCommand.run(rest, &console)
        default:
            if first.hasPrefix("-") {
                let globals = ["help", "version"]
                let name = first.drop { $0 == "-" }
                console.error("unknown option '\(first)'",
                              help: DidYouMean.help(String(name), in: globals) { "--" + $0 }
                                  ?? "options before a command: --help, --version")
                console.err(Help.usageHint(nil))
            } else {
                unknownCommand(first, &console)
            }
            return .usage
        }
    }

    /// Reports a command that does not exist, with a did-you-mean.
    static func unknownCommand(_ name: String, _ console: inout Console) {
        if Commands.planned.contains(name) {
            console.error("'\(name)' is planned but not part of relevo \(RelevoVersion.version)",
                          help: "available commands: " + Commands.all.map(\.name).joined(separator: ", "))
            return
        }
        let names = Commands.all.map(\.name)
        console.error("unknown command '\(name)'",
                      help: DidYouMean.help(name, in: names)
                          ?? "commands: " + Commands.all.map(\.name).joined(separator: ", "))
        console.err(Help.usageHint(nil))
    }
}

/// A `TextOutputStream` over a file handle (the process's stdout or stderr).
struct FileStream: TextOutputStream {
    let handle: FileHandle
    mutating func write(_ string: String) {
        guard !string.isEmpty else { return }
        try? handle.write(contentsOf: Data(string.utf8))
    }
}
