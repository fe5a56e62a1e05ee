import Testing
import RelevoCheck
import RelevoLint
@testable import RelevoCLI

@Suite("relevo explain")
struct ExplainTests {
    /// Text with all runs of whitespace made single spaces (explanations are re-wrapped).
    private func flat(_ s: String) -> String {
        s.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test("explain E020 prints its title, explanation, example and correction")
    func e020() {
        let run = relevo(["explain", "E020"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(run.stdout.hasPrefix("E020 unknown-reference (error)\n"))
        #expect(run.stdout.contains(Codes.unknownReference.title))
        #expect(flat(run.stdout).contains(flat(Codes.unknownReference.explanation)))
        #expect(run.stdout.contains("Example:\n      mailhost: { at: directroy"))
        #expect(run.stdout.contains("Correction:\n      mailhost: { at: directory"))
    }

    @Test("IDs in any case, and names, find the same entry")
    func lookups() {
        let byID = relevo(["explain", "E020"]).stdout
        #expect(relevo(["explain", "e020"]).stdout == byID)
        #expect(relevo(["explain", "unknown-reference"]).stdout == byID)
    }

    @Test("lint rules are explained too, by ID or name")
    func lintRule() throws {
        let rule = try #require(LintRegistry.rules.first).description
        let run = relevo(["explain", rule.name])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("\(rule.id) \(rule.name) (\(rule.severity.rawValue), lint rule)\n"))
        #expect(relevo(["explain", rule.id]).stdout == run.stdout)
    }

    @Test("--list has a row for every code and lint rule")
    func list() {
        let run = relevo(["explain", "--list"])
        #expect(run.status == 0)
        let rows = run.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(rows.first == "ID")
        let expected = Codes.all.map(\.id) + LintRegistry.rules.map { $0.description.id }
        #expect(Array(rows.dropFirst()) == expected)
    }

    @Test("an unknown ID or name exits 2 with a did-you-mean")
    func unknown() {
        let run = relevo(["explain", "unknown-refrence"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("no diagnostic or lint rule is called 'unknown-refrence'"))
        #expect(run.stderr.contains("did you mean 'unknown-reference'?"))
        #expect(relevo(["explain", "E0200"]).stderr.contains("did you mean 'E020'?"))
        #expect(relevo(["explain", "zzzzzzzz"]).stderr.contains("relevo explain --list"))
    }

    @Test("usage errors exit 2")
    func usage() {
        #expect(relevo(["explain"]).status == 2)
        #expect(relevo(["explain", "E020", "E021"]).status == 2)
        #expect(relevo(["explain", "--list", "E020"]).status == 2)
    }
}
