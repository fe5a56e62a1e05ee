import Foundation
import RelevoBasics
@testable import RelevoCheck
import RelevoPlan
import RelevoYAML
import Testing

/// docs/plan-language.md: its generated reference is current, names the whole
/// vocabulary, and every complete plan it shows checks without errors.
@Suite struct LanguageReferenceTests {
    /// This file is Tests/RelevoCheckTests/LanguageReferenceTests.swift.
    static let docPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/plan-language.md").path

    static func readDoc() throws -> String {
        try String(contentsOfFile: docPath, encoding: .utf8)
    }

    /// The text between the marker lines (the line after the begin marker up
    /// to the start of the end marker's line), with the range it occupies.
    static func generatedBlock(in doc: String) -> (text: String, range: Range<String.Index>)? {
        guard let begin = doc.range(of: LanguageReference.beginMarker + "\n"),
              let end = doc.range(of: LanguageReference.endMarker, range: begin.upperBound..<doc.endIndex)
        else { return nil }
        // The end marker starts a line: the block ends with its own newline.
        let range = begin.upperBound..<end.lowerBound
        return (String(doc[range]), range)
    }

    @Test func generatedBlockIsCurrent() throws {
        let expected = LanguageReference.markdown()
        var doc = try Self.readDoc()
        guard let block = Self.generatedBlock(in: doc) else {
            Issue.record("""
                docs/plan-language.md has no generated block: add the lines
                \(LanguageReference.beginMarker)
                \(LanguageReference.endMarker)
                then run: \(LanguageReference.regenerate)
                """)
            return
        }
        if ProcessInfo.processInfo.environment["RELEVO_UPDATE_DOCS"] != nil, block.text != expected {
            doc.replaceSubrange(block.range, with: expected)
            try doc.write(toFile: Self.docPath, atomically: true, encoding: .utf8)
        }
        let current = Self.generatedBlock(in: try Self.readDoc())?.text
        #expect(current == expected,
                "the generated reference in docs/plan-language.md is out of date; regenerate it with: \(LanguageReference.regenerate)")
    }

    @Test func markdownIsDeterministic() {
        #expect(LanguageReference.markdown() == LanguageReference.markdown())
    }

    @Test func referenceNamesTheWholeVocabulary() {
        let md = LanguageReference.markdown()
        for kind in ElementKind.allCases {
            #expect(md.contains("#### `\(kind.rawValue)`"), "element kind '\(kind.rawValue)' is missing")
            for p in kind.parameters {
                #expect(md.contains("| `\(p.name)` |"), "parameter '\(p.name)' of '\(kind.rawValue)' is missing")
            }
        }
        for op in Operations.all {
            #expect(md.contains("#### `\(op.name)`"), "operation '\(op.name)' is missing")
            #expect(md.contains("| `\(op.name)` |"), "operation '\(op.name)' is missing from its summary table")
        }
        // Records are expanded: nested keys appear with their path.
        #expect(md.contains("| `bind.password` |"))
        #expect(md.contains("| `split.KEY.pattern` |"))
        for c in Codes.all {
            #expect(md.contains("| \(c.id) | `\(c.name)` |"), "diagnostic \(c.id) is missing")
        }
        #expect(md.contains("\(YAMLLimits.default.maxDocumentBytes) bytes"))
    }

    @Test func tableCellsEscapePipes() {
        #expect(LanguageReference.escape("a|b\nc") == "a\\|b c")
    }

    /// Every ```yaml block that starts with `relevo: 1` is a whole plan: it
    /// must load and check without errors, so the examples cannot rot.
    @Test func documentedPlansCheck() throws {
        let doc = try Self.readDoc()
        let plans = Self.yamlBlocks(in: doc).filter { $0.text.hasPrefix("relevo: 1\n") }
        #expect(plans.count >= 2, "docs/plan-language.md should show complete plans")
        for block in plans {
            let loaded = PlanLoader.load(text: block.text, file: "docs/plan-language.md@\(block.line)")
            let result = Checker.check(loaded, baseDirectory: nil)
            let errors = result.diagnostics.filter { $0.severity == .error }
            #expect(errors.isEmpty, """
                the plan at docs/plan-language.md line \(block.line) has errors:
                \(errors.map { "\($0.range?.description ?? "-"): \($0.id) \($0.summary)" }.joined(separator: "\n"))
                """)
        }
    }

    /// The fenced ```yaml blocks of a Markdown text, each with the 1-based
    /// line of its first content line.
    static func yamlBlocks(in doc: String) -> [(text: String, line: Int)] {
        var blocks: [(text: String, line: Int)] = []
        var current: [String]?
        var start = 0
        for (i, line) in doc.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if current == nil {
                if line == "```yaml" { current = []; start = i + 2 }
            } else if line == "```" {
                blocks.append((current!.joined(separator: "\n") + "\n", start))
                current = nil
            } else {
                current!.append(String(line))
            }
        }
        return blocks
    }
}
