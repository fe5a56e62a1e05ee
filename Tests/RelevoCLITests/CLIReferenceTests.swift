import Foundation
import Testing
@testable import RelevoCLI

/// docs/cli.md holds every command's reference, generated from the specs
/// the parser and `--help` use.
@Suite struct CLIReferenceTests {
    static let path = repositoryRoot.appendingPathComponent("docs/cli.md").path

    @Test func theCommandReferenceIsCurrent() throws {
        var doc = try String(contentsOfFile: Self.path, encoding: .utf8)
        let expected = CLIReference.markdown()
        guard let begin = doc.range(of: CLIReference.beginMarker), let end = doc.range(of: CLIReference.endMarker) else {
            Issue.record("docs/cli.md lacks the generated block markers")
            return
        }
        let current = String(doc[begin.lowerBound..<end.upperBound])
        if current != expected, ProcessInfo.processInfo.environment["RELEVO_UPDATE_DOCS"] != nil {
            doc.replaceSubrange(begin.lowerBound..<end.upperBound, with: expected)
            try doc.write(toFile: Self.path, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == expected,
                "docs/cli.md is out of date; regenerate with RELEVO_UPDATE_DOCS=1 swift test --filter CLIReferenceTests")
    }

    @Test func everyCommandHasASection() {
        let md = CLIReference.markdown()
        for c in Commands.all {
            #expect(md.contains("### relevo \(c.name)\n"))
            for o in c.options { #expect(md.contains("--\(o.name)"), "\(c.name) --\(o.name)") }
        }
    }
}
