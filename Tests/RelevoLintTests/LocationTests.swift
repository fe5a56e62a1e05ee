import RelevoBasics
import RelevoLint
import Testing

/// Findings point at the right place (line and column) in the examples.
@Suite struct LocationTests {
    /// The first finding of `id` on the first triggering example of that rule.
    func first(_ id: String) throws -> (Diagnostic, String) {
        let example = try #require(rule(id).description.triggering.first)
        let finding = try #require(Linted(example).findings(id).first)
        return (finding, example)
    }

    /// The 1-based line and column where `needle` first occurs after line `from`.
    func position(of needle: String, in text: String, from: Int = 1) throws -> Position {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() where i + 1 >= from {
            if let r = line.range(of: needle) {
                return Position(line: i + 1, column: line.unicodeScalars.distance(
                    from: line.unicodeScalars.startIndex, to: r.lowerBound) + 1)
            }
        }
        throw Missing(needle: needle)
    }
    struct Missing: Error { var needle: String }

    @Test func noCanaryAtPhaseName() throws {
        let (f, text) = try first("L001")
        let name = try position(of: "- name: users", in: text)
        #expect(f.range?.start == Position(line: name.line, column: name.column + 8))
        #expect(f.range?.end == Position(line: name.line, column: name.column + 13))
        #expect(f.summary == "per-set phase 'users' (for each of 'users') has no canary")
        #expect(f.help?.contains("canary: N") == true)
    }

    @Test func globalSwitchAtRedirectOperation() throws {
        let (f, text) = try first("L003")
        let phase = try position(of: "- name: switch-mx", in: text)
        #expect(f.range?.start == (try position(of: "- redirect:", in: text, from: phase.line)).shifted(2))
        #expect(f.summary.contains("'switch-mx'") && f.summary.contains("'mx'"))
    }

    @Test func unusedNotifyAtTargetName() throws {
        let (f, text) = try first("L004")
        #expect(f.range?.start == (try position(of: "ops:", in: text)))
        #expect(f.summary == "notify target 'ops' (staff@example.org) is never used")
    }

    @Test func mostActiveFirstAtOrder() throws {
        let (f, text) = try first("L005")
        #expect(f.range?.start == (try position(of: "{ by: activity", in: text)))
    }

    @Test func concurrencyNamesTheHost() throws {
        let (f, text) = try first("L006")
        #expect(f.range?.start == (try position(of: "users", in: text, from: (try position(of: "phases:", in: text)).line)))
        #expect(f.summary == "phase 'users' runs 4 sets at once, but host 'new' allows 2")
        #expect(f.notes.first?.message == "store 'store-new' runs on host 'new'")
    }

    @Test func gateAtTheGate() throws {
        let (f, text) = try first("L007")
        #expect(f.range?.start == (try position(of: "- maildir-superset", in: text)).shifted(2))
        #expect(f.summary.contains("'store-new:${store}'"))
    }
}

extension Position {
    func shifted(_ columns: Int) -> Position { Position(line: line, column: column + columns) }
}
