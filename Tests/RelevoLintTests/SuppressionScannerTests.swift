@testable import RelevoLint
import Testing

/// The suppression scanner alone: where comments are, and what they say.
@Suite struct SuppressionScannerTests {
    func lines(_ text: String) -> [Int] { SuppressionScanner.scan(text).map(\.line) }

    @Test func parsesRulesAndReason() throws {
        let c = try #require(SuppressionScanner.scan("a: b  #relevo:allow L001 ,no-canary,  L003   why  not \n").first)
        #expect(c.rules == ["L001", "no-canary", "L003"])
        #expect(c.reason == "why  not")
        #expect(c.line == 1 && c.column == 7 && c.targetLine == 1)
    }

    @Test func otherCommentsAreIgnored() {
        #expect(lines("a: b # relevo:allowed L001 x\nc: d # relevo: allow L001 x\ne: f # plain\n").isEmpty)
    }

    @Test func hashWithoutBlankBeforeIsNotAComment() {
        #expect(lines("a: b#relevo:allow L001 x\n").isEmpty)
    }

    @Test func standaloneTargetsNextContentLine() {
        let c = SuppressionScanner.scan("a: 1\n  # relevo:allow L001 x\n\n# other\n  b: 2\n")
        #expect(c.map(\.targetLine) == [5])
    }

    @Test func standaloneAtEndTargetsNothing() {
        #expect(SuppressionScanner.scan("a: 1\n# relevo:allow L001 x\n\n").map(\.targetLine) == [nil])
    }

    @Test func blockScalarContentIsNotAComment() {
        let text = "summary: |\n  # relevo:allow L001 prose\n\n  more prose\nhosts: {}  # relevo:allow L004 real\n"
        #expect(lines(text) == [5])
    }

    @Test func quotesWithEscapes() {
        let text = "a: 'it''s # no' # relevo:allow L001 yes\nb: \"x \\\" # no\" # relevo:allow L002 yes\nc: it's # relevo:allow L003 yes\n"
        #expect(lines(text) == [1, 2, 3])
    }

    @Test func multiLineQuotedScalar() {
        let text = "a: \"first\n  # relevo:allow L001 still quoted\n  end\"\nb: c # relevo:allow L002 real\n"
        #expect(lines(text) == [4])
    }

    @Test func columnsCountUnicodeScalars() {
        #expect(SuppressionScanner.scan("a: 'e\u{301}' # relevo:allow L001 x\n").first?.column == 9)
    }
}
