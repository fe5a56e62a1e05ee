import Foundation
import Testing
import RelevoBasics
import RelevoCheck
import RelevoLint

/// Every plan under examples/ says, in `# expect: ID[, ID]` comments, which
/// diagnostics it must produce on that line; the checker and the linter must
/// produce exactly those (a plan with no such comment must be clean). The
/// bundled plans under plans/ must be clean too.
@Suite struct ExamplesTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(in folder: String) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
    }

    struct Expectation: Hashable, CustomStringConvertible {
        var line: Int
        var id: String
        var description: String { "\(line): \(id)" }
    }

    /// `# expect: E020` or `# expect: E050, L001` anywhere on a line.
    static func expectations(_ text: String) -> Set<Expectation> {
        var out = Set<Expectation>()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let r = line.range(of: "# expect:") else { continue }
            for id in line[r.upperBound...].split(separator: ",") {
                out.insert(Expectation(line: i + 1, id: id.trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }

    static func findings(_ relative: String) throws -> (text: String, found: Set<Expectation>, rendered: String) {
        let path = root.appendingPathComponent(relative).path
        let loaded = try PlanLoader.load(path: path)
        let result = Checker.check(loaded, baseDirectory: (path as NSString).deletingLastPathComponent)
        let all = result.diagnostics + Linter.lint(result)
        let found = Set(all.map { Expectation(line: $0.range?.start.line ?? 0, id: $0.id) })
        let rendered = DiagnosticRenderer(sources: [result.source]).render(all)
        return (loaded.source.text, found, rendered)
    }

    @Test func thereAreExamples() {
        #expect(Self.files(in: "examples").count >= 8)
    }

    @Test(arguments: files(in: "examples"))
    func exampleProducesWhatItsCommentsSay(_ file: String) throws {
        let (text, found, rendered) = try Self.findings(file)
        let expected = Self.expectations(text)
        #expect(found == expected, "\(file):\n\(rendered)")
    }

    @Test(arguments: files(in: "plans"))
    func bundledPlansAreClean(_ file: String) throws {
        let (_, found, rendered) = try Self.findings(file)
        #expect(found.isEmpty, "\(file):\n\(rendered)")
    }
}
