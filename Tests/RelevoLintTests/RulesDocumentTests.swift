import Foundation
import RelevoLint
import Testing

/// docs/rules.md is generated from the registry; this test keeps it current.
@Suite struct RulesDocumentTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/rules.md").path

    @Test func docsAreCurrent() throws {
        let expected = RulesDocument.markdown()
        if ProcessInfo.processInfo.environment["RELEVO_UPDATE_DOCS"] != nil {
            try expected.write(toFile: Self.path, atomically: true, encoding: .utf8)
        }
        let actual = try? String(contentsOfFile: Self.path, encoding: .utf8)
        #expect(actual == expected, "docs/rules.md is out of date; regenerate it with: \(RulesDocument.regenerate)")
    }

    @Test func documentNamesEveryRule() {
        let doc = RulesDocument.markdown()
        for r in LintRegistry.rules {
            let d = r.description
            #expect(doc.contains("## \(d.id) \(d.name)"))
            #expect(doc.contains("| `\(d.name)` | \(d.title) |"))
            #expect(doc.contains(d.triggering[0]) && doc.contains(d.nonTriggering[0]))
        }
        #expect(doc.contains("# relevo:allow"))
    }
}
