/// The exit statuses of `relevo`, documented in docs/cli.md (EXIT STATUS).
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// The command did what was asked; checked plans have no errors.
    case success = 0
    /// A plan has errors (or warnings, with `--strict`).
    case planErrors = 1
    /// The command line is wrong: unknown command or option, missing argument.
    case usage = 2
    /// A run stopped before every set migrated: a contingency halted it,
    /// sets failed within the error budget, or it waits for an approval.
    case halted = 3
    /// A file could not be read.
    case unreadable = 4
    /// The journal is held by another relevo process.
    case busy = 5

    /// One line for help texts.
    var meaning: String {
        switch self {
        case .success: "success; for check and graph, the plans have no errors"
        case .planErrors: "a plan has errors (or warnings, with --strict)"
        case .usage: "usage error: unknown command or option, missing or bad argument"
        case .halted: "a run stopped before every set migrated (halted, failures within the budget, or waiting for an approval)"
        case .unreadable: "a file could not be read"
        case .busy: "the journal is in use by another relevo process (named in the message)"
        }
    }
}
