// Remote commands are argument vectors; this is the only place that turns
// one into the single command line SSH carries.

/// Builds the command line for an argument vector so that the remote POSIX
/// shell (`sh -c`, bash, dash) passes every argument to the program exactly as
/// given: nothing is expanded, split, globbed or interpreted.
///
/// Every argument, the program name included, is put in single quotes; a
/// single quote inside becomes `'\''` (close the quote, an escaped quote, open
/// again). Inside single quotes a POSIX shell gives no character a special
/// meaning, so `;`, `$(...)`, backticks, `*`, newlines, `\`, `"` and a leading
/// `-` all reach the program literally (a leading `-` is still an option to
/// the program itself: pass `--` where the program supports it).
///
/// A NUL byte cannot be carried in an argument at all and is refused, as is
/// an empty vector. The remote account's login shell must be a POSIX shell
/// (csh-family shells treat `!` and newlines in quotes differently).
public enum ShellQuoting {
    /// One argument in single quotes, `'` written as `'\''`.
    /// Throws `SSHError.invalidArgument` for a NUL byte.
    public static func quote(_ argument: String) throws -> String {
        guard !argument.utf8.contains(0) else {
            throw SSHError.invalidArgument("an argument contains a NUL byte, which a command line cannot carry")
        }
        var quoted = "'"
        for character in argument.unicodeScalars {
            if character == "'" {
                quoted += "'\\''"
            } else {
                quoted.unicodeScalars.append(character)
            }
        }
        quoted += "'"
        return quoted
    }

    /// The command line for `argv`: each argument quoted by `quote(_:)`,
    /// separated by single spaces. Throws `SSHError.invalidArgument` for an
    /// empty vector or a NUL byte in any argument.
    public static func command(_ argv: [String]) throws -> String {
        guard !argv.isEmpty else {
            throw SSHError.invalidArgument("empty argument vector: no program to run")
        }
        return try argv.map(quote).joined(separator: " ")
    }

    /// The command line for `argv` run with the variables of `environment`
    /// set: `NAME='value' ... exec 'program' 'argument' ...`, so that the
    /// shell starts the program itself, in its own place, instead of an
    /// `env` program that then starts it (one program less a command).
    /// Values are quoted by `quote(_:)`; a name must be a shell variable
    /// name (a letter or `_`, then letters, digits and `_`), else
    /// `SSHError.invalidArgument`. With no variables this is
    /// `command(_:)`.
    public static func command(_ argv: [String], environment: [(name: String, value: String)]) throws -> String {
        guard !environment.isEmpty else { return try command(argv) }
        try checkNames(environment)
        var line = ""
        for (name, value) in environment { line += name + "=" + (try quote(value)) + " " }
        return line + "exec " + (try command(argv))
    }

    /// What `command(_:environment:)` refuses, checked without building the
    /// line (for carriers that pass the vector as it is, such as the
    /// command agent): an empty vector, a NUL byte in an argument or a
    /// value, a name that is not a variable name.
    public static func check(_ argv: [String], environment: [(name: String, value: String)]) throws {
        guard !argv.isEmpty else {
            throw SSHError.invalidArgument("empty argument vector: no program to run")
        }
        try checkNames(environment)
        guard !argv.contains(where: { $0.utf8.contains(0) }), !environment.contains(where: { $0.value.utf8.contains(0) }) else {
            throw SSHError.invalidArgument("an argument contains a NUL byte, which a command line cannot carry")
        }
    }

    private static func checkNames(_ environment: [(name: String, value: String)]) throws {
        for (name, _) in environment where !isVariableName(name) {
            throw SSHError.invalidArgument("\(try quote(name)) is not an environment variable name")
        }
    }

    /// A POSIX shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
