import Testing
@testable import RelevoCLI
import RelevoReport

@Suite("help, version and usage errors")
struct HelpAndUsageTests {
    @Test("--version prints the version")
    func version() {
        let run = relevo(["--version"])
        #expect(run.status == 0)
        #expect(run.stdout == "relevo 0.1.0\n")
        #expect(RelevoVersion.version == "0.1.0")
    }

    @Test("--help, -h and `help` print the overview")
    func overview() {
        let run = relevo(["--help"])
        #expect(run.status == 0)
        for part in ["USAGE", "COMMANDS", "EXAMPLES", "EXIT STATUS", "check", "graph", "simulate", "explain"] {
            #expect(run.stdout.contains(part), "overview lacks \(part)")
        }
        #expect(!run.stdout.contains("Planned, not yet present"), "no command is planned and absent")
        #expect(relevo(["-h"]).stdout == run.stdout)
        #expect(relevo(["help"]).stdout == run.stdout)
    }

    @Test("every command's page: `help COMMAND` equals `COMMAND --help`, and lists every option")
    func commandPages() {
        for command in Commands.all {
            let page = relevo(["help", command.name])
            #expect(page.status == 0)
            #expect(relevo([command.name, "--help"]).stdout == page.stdout)
            #expect(relevo([command.name, "-h"]).stdout == page.stdout)
            for section in ["USAGE", "DESCRIPTION", "OPTIONS", "EXAMPLES", "EXIT STATUS"] {
                #expect(page.stdout.contains(section), "\(command.name) page lacks \(section)")
            }
            for option in command.options {
                #expect(page.stdout.contains("--\(option.name)"), "\(command.name) page lacks --\(option.name)")
            }
        }
    }

    @Test("an unknown command exits 2 with a did-you-mean")
    func unknownCommand() {
        let run = relevo(["chek", "plan.yaml"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("relevo: error: unknown command 'chek'\n  help: did you mean 'check'?\n"))
        #expect(relevo(["help", "grahp"]).stderr.contains("did you mean 'graph'?"))
    }

    @Test("render, once planned, is a command")
    func renderIsACommand() {
        let run = relevo(["render", "plan.yaml"])
        #expect(run.status == 4)
        #expect(run.stderr.contains("cannot read plan.yaml: no such file"))
    }

    @Test("no command, or an unknown option before it, exits 2")
    func usage() {
        #expect(relevo([]).status == 2)
        let run = relevo(["--verison"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("did you mean '--version'?"))
    }
}

@Suite("argument parser")
struct ArgumentParserTests {
    let options = [
        OptionSpec(name: "format", valueName: "F", choices: ["text", "json"], help: ""),
        OptionSpec(name: "strict", help: ""),
        OptionSpec(name: "help", short: "h", help: ""),
    ]

    @Test("values in both spellings, flags, positionals anywhere, and `--`")
    func parses() throws {
        let a = try ArgumentParser.parse(["a.yaml", "--format", "json", "b.yaml", "--strict"], options: options, command: "t")
        #expect(a.positionals == ["a.yaml", "b.yaml"])
        #expect(a.value("format") == "json")
        #expect(a.flag("strict"))
        let b = try ArgumentParser.parse(["--format=text", "--", "--strict", "-"], options: options, command: "t")
        #expect(b.value("format") == "text")
        #expect(!b.flag("strict"))
        #expect(b.positionals == ["--strict", "-"])
        #expect(try ArgumentParser.parse(["-h"], options: options, command: "t").flag("help"))
    }

    @Test("mistakes are usage errors with a helpful line")
    func mistakes() {
        #expect(throws: UsageError(message: "unknown option '--strikt' for 't'", help: "did you mean '--strict'?")) {
            try ArgumentParser.parse(["--strikt"], options: options, command: "t")
        }
        #expect(throws: UsageError(message: "option '--format' needs a value", help: "expected one of: text, json")) {
            try ArgumentParser.parse(["--format"], options: options, command: "t")
        }
        #expect(throws: UsageError(message: "invalid value 'xml' for '--format'", help: "expected one of: text, json")) {
            try ArgumentParser.parse(["--format", "xml"], options: options, command: "t")
        }
        #expect(throws: UsageError(message: "option '--strict' takes no value", help: nil)) {
            try ArgumentParser.parse(["--strict=1"], options: options, command: "t")
        }
        #expect(throws: UsageError.self) { try ArgumentParser.parse(["-x"], options: options, command: "t") }
    }
}

@Suite("did you mean")
struct DidYouMeanTests {
    @Test("edit distance, a swap of neighbours, a unique prefix")
    func suggestions() {
        let names = ["check", "graph", "explain", "help"]
        #expect(DidYouMean.closest(to: "chek", in: names) == "check")
        #expect(DidYouMean.closest(to: "grahp", in: names) == "graph")
        #expect(DidYouMean.closest(to: "expl", in: names) == "explain")
        #expect(DidYouMean.closest(to: "zzz", in: names) == nil)
        #expect(DidYouMean.closest(to: "e", in: names) == nil, "a one-letter prefix suggests nothing")
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("strings are escaped per RFC 8259; keys keep their order")
    func escaping() {
        let value = JSON.object([("b", .string("q\"b\\n\n\t\u{1}é/")), ("a", .array([])), ("c", .null)])
        #expect(value.serialized() == "{\n  \"b\": \"q\\\"b\\\\n\\n\\t\\u0001é/\",\n  \"a\": [],\n  \"c\": null\n}\n")
    }
}
