import RelevoBasics

/// One option a command accepts: a flag (`--strict`) or an option with a
/// value (`--format json`, `--format=json`).
struct OptionSpec: Sendable {
    /// Long name without the dashes: `format`.
    var name: String
    /// One-letter alias without the dash, if any: `h`.
    var short: Character? = nil
    /// Placeholder shown in help for an option with a value; nil for a flag.
    var valueName: String? = nil
    /// The values accepted, when they are a fixed set (the first is the default).
    var choices: [String]? = nil
    /// One line for help.
    var help: String

    var isFlag: Bool { valueName == nil }

    /// `--format text|json|sarif`, `--strict`.
    var synopsis: String {
        guard let valueName else { return "--\(name)" }
        return "--\(name) \(choices?.joined(separator: "|") ?? valueName)"
    }
}

/// What a command line said, once checked against the command's options.
struct ParsedArguments {
    var flags: Set<String> = []
    var values: [String: String] = [:]
    /// Every value of each option, in order (for repeatable options).
    var allValues: [String: [String]] = [:]
    var positionals: [String] = []

    func flag(_ name: String) -> Bool { flags.contains(name) }
    /// The last value given for `name`.
    func value(_ name: String) -> String? { values[name] }
    /// Every value given for a repeatable option.
    func values(_ name: String) -> [String] { allValues[name] ?? [] }
}

/// A mistake on the command line: the message, an optional `help:` line.
struct UsageError: Error, Equatable {
    var message: String
    var help: String?
}

/// A small argument parser: long options anywhere on the line, `--name value`
/// or `--name=value`, short flags such as `-h`, and `--` to end the options
/// (so a plan file may be called `--odd.yaml`).
enum ArgumentParser {
    static func parse(_ arguments: [String], options: [OptionSpec], command: String) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            let spec: OptionSpec
            var inlineValue: String?
            if argument.hasPrefix("--") {
                var name = String(argument.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                guard let found = options.first(where: { $0.name == name }) else {
                    throw UsageError(message: "unknown option '--\(name)' for '\(command)'",
                                     help: DidYouMean.help(name, in: options.map(\.name)) { "--" + $0 }
                                         ?? Self.listing(options))
                }
                spec = found
            } else {
                let letters = argument.dropFirst()
                guard letters.count == 1, let found = options.first(where: { $0.short == letters.first }) else {
                    throw UsageError(message: "unknown option '\(argument)' for '\(command)'",
                                     help: Self.listing(options))
                }
                spec = found
            }
            if spec.isFlag {
                if inlineValue != nil {
                    throw UsageError(message: "option '--\(spec.name)' takes no value", help: nil)
                }
                parsed.flags.insert(spec.name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                throw UsageError(message: "option '--\(spec.name)' needs a value",
                                 help: spec.choices.map { "expected one of: " + $0.joined(separator: ", ") })
            }
            if let choices = spec.choices, !choices.contains(value) {
                throw UsageError(message: "invalid value '\(value)' for '--\(spec.name)'",
                                 help: DidYouMean.help(value, in: choices)
                                     ?? "expected one of: " + choices.joined(separator: ", "))
            }
            parsed.values[spec.name] = value
            parsed.allValues[spec.name, default: []].append(value)
        }
        return parsed
    }

    private static func listing(_ options: [OptionSpec]) -> String {
        "options: " + options.map { "--\($0.name)" }.joined(separator: ", ")
    }
}
