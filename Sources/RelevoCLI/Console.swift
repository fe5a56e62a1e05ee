/// Where a command writes. Commands append to `Console`; `Relevo.run` replays
/// the chunks, in the order they were written, into the real streams.
///
/// Convention: **stdout carries what the command was asked to produce** (the
/// check report in any format, the graph, the explanation, help asked for);
/// **stderr carries everything else** (usage errors, unreadable files, and the
/// diagnostics that explain why `graph` produced no graph).
struct Console {
    enum Stream { case out, err }

    private(set) var chunks: [(Stream, String)] = []
    let environment: [String: String]
    let stdoutIsTTY: Bool
    let stderrIsTTY: Bool
    /// When set (the real process), progress of long commands is written to
    /// stderr as it happens instead of being kept with the other chunks.
    let liveProgress: (@Sendable (String) -> Void)?

    init(environment: [String: String], stdoutIsTTY: Bool, stderrIsTTY: Bool,
         liveProgress: (@Sendable (String) -> Void)? = nil) {
        self.environment = environment
        self.stdoutIsTTY = stdoutIsTTY
        self.stderrIsTTY = stderrIsTTY
        self.liveProgress = liveProgress
    }

    mutating func out(_ text: String) { chunks.append((.out, text)) }
    mutating func err(_ text: String) { chunks.append((.err, text)) }

    /// `relevo: error: message`, an optional `help:` line, on stderr.
    mutating func error(_ message: String, help: String? = nil) {
        err("relevo: error: \(message)\n")
        if let help { err("  help: \(help)\n") }
    }

    /// Whether to colour text written to `stream`, given the `--color` choice.
    func useColor(_ choice: ColorChoice, for stream: Stream) -> Bool {
        choice.resolve(isTTY: stream == .out ? stdoutIsTTY : stderrIsTTY, environment: environment)
    }
}

/// `--color auto|always|never`.
enum ColorChoice: String, CaseIterable {
    case auto, always, never

    /// `always` and `never` are obeyed. `auto` colours only a terminal, and
    /// only when `NO_COLOR` is unset or empty (https://no-color.org) and
    /// `TERM` is not `dumb`. A command-line choice overrides `NO_COLOR`, as
    /// no-color.org asks.
    func resolve(isTTY: Bool, environment: [String: String]) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
            if environment["TERM"] == "dumb" { return false }
            return isTTY
        }
    }
}

/// ANSI styling for the few words the CLI itself colours.
struct Style {
    let enabled: Bool
    func paint(_ s: String, _ code: String) -> String {
        enabled && !s.isEmpty ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
    func bold(_ s: String) -> String { paint(s, "1") }
    func red(_ s: String) -> String { paint(s, "1;31") }
    func yellow(_ s: String) -> String { paint(s, "1;33") }
    func green(_ s: String) -> String { paint(s, "1;32") }
}
