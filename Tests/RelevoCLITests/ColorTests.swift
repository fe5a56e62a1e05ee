import Testing
@testable import RelevoCLI

@Suite("colour: --color and NO_COLOR")
struct ColorTests {
    private let escape = "\u{1B}["

    private func check(_ extra: [String], environment: [String: String], tty: Bool) -> String {
        let folder = PlanFolder()
        let plan = folder.write("broken.yaml", Plans.broken)
        return relevo(["check", plan] + extra, environment: environment, tty: tty).stdout
    }

    @Test("auto colours a terminal")
    func autoOnTerminal() {
        #expect(check([], environment: [:], tty: true).contains(escape))
        #expect(check([], environment: ["NO_COLOR": ""], tty: true).contains(escape), "an empty NO_COLOR is unset")
    }

    @Test("auto does not colour a pipe, NO_COLOR, or TERM=dumb")
    func autoOff() {
        #expect(!check([], environment: [:], tty: false).contains(escape))
        #expect(!check([], environment: ["NO_COLOR": "1"], tty: true).contains(escape))
        #expect(!check(["--color", "auto"], environment: ["NO_COLOR": "yes"], tty: true).contains(escape))
        #expect(!check([], environment: ["TERM": "dumb"], tty: true).contains(escape))
    }

    @Test("--color always and never override the terminal and NO_COLOR")
    func overrides() {
        #expect(check(["--color", "always"], environment: ["NO_COLOR": "1"], tty: false).contains(escape))
        #expect(!check(["--color=never"], environment: [:], tty: true).contains(escape))
    }

    @Test("JSON and SARIF are never coloured")
    func structuredFormats() {
        #expect(!check(["--format", "json", "--color", "always"], environment: [:], tty: true).contains(escape))
        #expect(!check(["--format", "sarif", "--color", "always"], environment: [:], tty: true).contains(escape))
    }

    @Test("graph colours its diagnostics by whether stderr is a terminal")
    func graphUsesStderr() {
        let folder = PlanFolder()
        let plan = folder.write("broken.yaml", Plans.broken)
        var out = "", err = ""
        _ = Relevo.run(["graph", plan], environment: [:], stdout: &out, stderr: &err, stdoutIsTTY: false, stderrIsTTY: true)
        #expect(err.contains(escape))
        out = ""; err = ""
        _ = Relevo.run(["graph", plan], environment: [:], stdout: &out, stderr: &err, stdoutIsTTY: true, stderrIsTTY: false)
        #expect(!err.contains(escape))
    }
}
