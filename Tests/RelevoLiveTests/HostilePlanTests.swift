import Foundation
import Testing
import TestbedSupport

/// Hostile plans through the real `relevo`: each is refused by the YAML
/// layer with its diagnostic (exit 1) by `check`, and by `run` and
/// `simulate` before anything is written (no journal, no work folder).
@Suite struct HostilePlanTests {
    static let head = "relevo: 1\nplan: hostile\n"

    /// Name, text, the diagnostic's ID and words of its message.
    static let cases: [(String, String, String, String)] = [
        ("alias-bomb", head + (0..<9).map { i in
            i == 0 ? "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"
                   : "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]"
        }.joined(separator: "\n") + "\n", "E005", "expands the document past 100000 nodes"),
        ("many-aliases", head + "a: &a x\nb: [" + Array(repeating: "*a", count: 300).joined(separator: ", ") + "]\n",
         "E005", "more than 256 alias uses"),
        ("deep-nesting", head + "deep: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n",
         "E006", "nesting deeper than 64 levels"),
        ("deep-mappings", head + (0..<100).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n",
         "E006", "nesting deeper than 64 levels"),
        ("huge-scalar", head + "summary: " + String(repeating: "x", count: 70_000) + "\n",
         "E007", "a scalar of 70000 bytes is larger than the limit of 65536"),
        ("huge-document", head + (0..<20_000).map { "k\($0): " + String(repeating: "y", count: 50) }.joined(separator: "\n") + "\n",
         "E007", "the document is larger than 1048576 bytes"),
        // A whole plan with one duplicate key, and one with one merge key:
        // one error each, the rest of the plan still checked.
        ("duplicate-key", exalumno.replacingOccurrences(of: "plan: exalumno-mail\n", with: "plan: exalumno-mail\nplan: other\n"),
         "E002", "duplicate key 'plan'"),
        ("merge-key", exalumno.replacingOccurrences(of: "  neon:\n    address: neon.servidores.unam.mx\n",
                                                    with: "  neon:\n    <<: { role: old }\n    address: neon.servidores.unam.mx\n"),
         "E003", "merge keys ('<<') are not accepted"),
        ("control-characters", head + "summary: \u{1B}]0;owned\u{07}\n", "E001", "control characters are not allowed"),
    ]

    static let exalumno = (try? String(contentsOf: Testbed.root.appendingPathComponent("plans/exalumno.yaml"), encoding: .utf8)) ?? ""

    @Test(arguments: cases.map(\.0))
    func aHostilePlanIsRefusedBeforeAnythingRuns(_ name: String) throws {
        let (_, text, id, words) = try #require(Self.cases.first { $0.0 == name })
        let folder = "/tmp/relevo-hostile-plan-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plan = folder + "/\(name).yaml"
        try text.write(toFile: plan, atomically: true, encoding: .utf8)
        let before = try FileManager.default.contentsOfDirectory(atPath: folder)

        let check = try ProcessResult.run(relevoBinary, ["check", plan])
        #expect(check.status == 1, "\(check)")
        #expect(check.stdout.contains("error[\(id)]"), "\(check.stdout.prefix(2000))")
        #expect(check.stdout.contains(words), "\(check.stdout.prefix(2000))")
        // file:line:col of the diagnostic, and only one error for one mistake.
        #expect(check.stdout.contains("\(plan):"), "the diagnostic has a position")
        #expect(check.stdout.contains("\(name).yaml: 1 error"), "\(check.stdout.suffix(300))")
        #expect(check.stdout.utf8.count < 4_000, "the message quotes part of one line, not the document")

        let journal = folder + "/run.journal"
        for command in [["run", plan, "--yes", "--approve", "all", "--journal", journal],
                        ["simulate", plan, "--approve", "all", "--journal", journal]] {
            let run = try ProcessResult.run(relevoBinary, command)
            #expect(run.status == 1, "\(command[0]): \(run)")
            #expect((run.stdout + run.stderr).contains("error[\(id)]"), "\(command[0]): \(run.stderr.prefix(2000))")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before.sorted(),
                "no journal, no work folder")
    }

    /// The same limits hold for JSON output (SARIF and JSON carry the same
    /// diagnostic, not a crash or a partial document).
    @Test func anAliasBombInJSONIsOneDiagnostic() throws {
        let folder = "/tmp/relevo-hostile-plan-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plan = folder + "/bomb.yaml"
        try Self.cases[0].1.write(toFile: plan, atomically: true, encoding: .utf8)
        let check = try ProcessResult.run(relevoBinary, ["check", plan, "--format", "json"])
        #expect(check.status == 1)
        let document = try json(check.stdout)
        let text = String(describing: document)
        #expect(text.contains("E005"), "\(text.prefix(1000))")
    }
}
