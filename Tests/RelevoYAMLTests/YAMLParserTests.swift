import Foundation
import Testing
import RelevoBasics
@testable import RelevoYAML

@Suite struct YAMLParserTests {
    func parse(_ text: String, limits: YAMLLimits = .default) -> YAMLDocument {
        YAMLParser.parse(text, file: "t.yaml", limits: limits)
    }

    @Test func marksEveryNodeWithLineAndColumn() throws {
        let doc = parse("relevo: 1\nhosts:\n  neon: { address: neon.example }\n  list: [a, \"b\"]\n")
        #expect(doc.diagnostics.isEmpty)
        let root = try #require(doc.root)
        let neon = try #require(root["hosts"]?["neon"])
        #expect(neon.range.start == SourceLocation(line: 3, column: 9))
        let address = try #require(neon["address"])
        #expect(address.scalar == "neon.example")
        #expect(address.range.start == SourceLocation(line: 3, column: 20))
        let items = try #require(root["hosts"]?["list"]?.items)
        #expect(items.map(\.scalar) == ["a", "b"])
        #expect(items[1].style == .doubleQuoted)
        #expect(items[1].range.start == SourceLocation(line: 4, column: 13))
        let keyRange = try #require(root.pairs?.first?.key.range)
        #expect(keyRange.start == SourceLocation(line: 1, column: 1))
        #expect(keyRange.end == SourceLocation(line: 1, column: 7))
    }

    @Test func refusesDuplicateKeysAtTheSecondOne() {
        let doc = parse("a: 1\nb: 2\na: 3\n")
        #expect(doc.diagnostics.map(\.id) == ["E002"])
        #expect(doc.diagnostics.first?.range?.start == SourceLocation(line: 3, column: 1))
        #expect(doc.diagnostics.first?.notes.first?.range?.start.line == 1)
        let quoted = parse("a: 1\n'a': 2\n")
        #expect(quoted.diagnostics.map(\.id) == ["E002"])
    }

    @Test func refusesMergeKeys() {
        let doc = parse("base: &b { x: 1 }\nother:\n  <<: *b\n  y: 2\n")
        #expect(doc.diagnostics.map(\.id) == ["E003"])
        #expect(doc.diagnostics.first?.range?.start == SourceLocation(line: 3, column: 3))
    }

    @Test(arguments: ["!!python/object:os.system x", "!foo bar", "!!binary aGVsbG8="])
    func refusesUnknownTags(_ value: String) {
        let doc = parse("a: \(value)\n")
        #expect(doc.diagnostics.map(\.id) == ["E004"])
        #expect(doc.diagnostics.first?.range?.start == SourceLocation(line: 1, column: 4))
    }

    @Test func acceptsCoreTags() {
        let doc = parse("a: !!str 1\nb: !!int 2\nc: !!seq [x]\n")
        #expect(doc.diagnostics.isEmpty)
    }

    @Test func billionLaughsIsRefusedAtTheAliasThatCrossesTheBound() throws {
        var text = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            text += "l\(level): &l\(level) [\(refs)]\n"
        }
        let d = parse(text)
        #expect(d.root == nil)
        #expect(d.diagnostics.map(\.id) == ["E005"])
        // Expansion passes 100,000 nodes at level 4 (10^5 lol's): the parser
        // stops there, on line 5 of 10, having built no expanded tree (aliases
        // share the anchored node). Speed and memory are measured, not
        // asserted: `/usr/bin/time -v relevo check examples/alias-bomb.yaml`.
        #expect(d.diagnostics.first?.range?.start.line == 5)
    }

    @Test func limitsAliasUses() {
        let refs = Array(repeating: "*a", count: 5).joined(separator: ", ")
        let doc = parse("x: &a 1\ny: [\(refs)]\n", limits: YAMLLimits(maxAliases: 4))
        #expect(doc.diagnostics.map(\.id) == ["E005"])
        #expect(doc.diagnostics.first?.range?.start == SourceLocation(line: 2, column: 21))
    }

    @Test func aliasesWithinBoundsResolve() throws {
        let doc = parse("ssh: &s { user: m }\nhosts: { a: *s, b: *s }\n")
        #expect(doc.diagnostics.isEmpty)
        #expect(doc.root?["hosts"]?["b"]?["user"]?.scalar == "m")
    }

    @Test func refusesUndefinedAlias() {
        let doc = parse("a: *nothing\n")
        #expect(doc.diagnostics.map(\.id) == ["E008"] || doc.diagnostics.map(\.id) == ["E001"])
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let doc = parse("a: \(deep)\n")
        #expect(doc.root == nil)
        #expect(doc.diagnostics.map(\.id) == ["E006"])
        #expect(doc.diagnostics.first?.range?.start == SourceLocation(line: 1, column: 67))
    }

    @Test func refusesLargeDocumentsAndScalars() {
        let big = parse("a: " + String(repeating: "x", count: 200), limits: YAMLLimits(maxDocumentBytes: 100))
        #expect(big.diagnostics.map(\.id) == ["E007"])
        let scalar = parse("a: " + String(repeating: "x", count: 200) + "\n", limits: YAMLLimits(maxScalarBytes: 100))
        #expect(scalar.diagnostics.map(\.id) == ["E007"])
        #expect(scalar.diagnostics.first?.range?.start == SourceLocation(line: 1, column: 4))
    }

    @Test func refusesSeveralDocuments() {
        let doc = parse("relevo: 1\n---\nrelevo: 1\n")
        #expect(doc.diagnostics.map(\.id) == ["E008"])
        #expect(doc.diagnostics.first?.range?.start.line == 2)
    }

    @Test func refusesComplexKeys() {
        let doc = parse("? [a, b]\n: c\n")
        #expect(doc.diagnostics.map(\.id) == ["E008"])
    }

    @Test func reportsSyntaxErrorsWithPosition() throws {
        let doc = parse("hosts:\n  neon: { address: a\nx: 1\n")
        #expect(doc.root == nil)
        let d = try #require(doc.diagnostics.first)
        #expect(d.id == "E001")
        #expect(d.range?.start.line == 3)
        let tab = parse("a:\n\tb: 1\n")
        #expect(tab.diagnostics.first?.id == "E001")
        #expect(tab.diagnostics.first?.range?.start.line == 2)
    }

    @Test func emptyDocumentHasNoRoot() {
        let doc = parse("")
        #expect(doc.root == nil)
        #expect(doc.diagnostics.isEmpty)
    }
}
