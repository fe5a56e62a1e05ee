import Foundation
import Testing
@testable import RelevoCLI

/// The acceptance, through the command line: the bundled plan checks
/// clean with exit 0, and one mistake of each kind in it gives exit 1 with
/// the first diagnostic on the line of the mistake.
@Suite struct ExalumnoCLITests {
    static let plan = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("plans/exalumno.yaml")

    @Test func bundledPlanExitsZero() {
        let run = relevo(["check", Self.plan.path, "--strict"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.hasSuffix("exalumno.yaml: ok\n"))
    }

    static let mistakes: [(String, String, String)] = [
        ("    at: directory\n    attribute: mailHost", "    at: directroy\n    attribute: mailHost", "E020"),
        ("  - name: directory\n    steps:", "  - name: directory\n    after: users\n    steps:", "E040"),
        ("password: env:LDAP_PASSWORD", "password: s3cret", "E060"),
        ("- chown:    { path: \"store-xalumno:${store}\" }", "- chown:    { path: \"store-xalumno:${stroe}\" }", "E030"),
        ("- chown:    { path: \"store-xalumno:${store}\" }", "- chown:    { path: \"store-xalumno:${store}/..\" }", "E033"),
        ("\"store-xalumno:${store}\", until: stable, compare: size-mtime }", "\"store-xalumno:${store}\", compare: size-mtime }", "E050"),
    ]

    @Test(arguments: 0..<mistakes.count)
    func oneMistakeExitsOneAtItsLine(_ index: Int) throws {
        let (old, new, id) = Self.mistakes[index]
        let text = try String(contentsOf: Self.plan, encoding: .utf8)
        let parts = text.components(separatedBy: old)
        try #require(parts.count == 2)
        let lineOfChange = parts[0].filter { $0 == "\n" }.count + 1
        let folder = PlanFolder()
        let file = folder.write("exalumno.yaml", parts[0] + new + parts[1])
        // Fixtures resolve relative to the plan: point them at the real ones.
        try FileManager.default.createSymbolicLink(
            atPath: (folder.path as NSString).appendingPathComponent("fixtures"),
            withDestinationPath: Self.plan.deletingLastPathComponent().appendingPathComponent("fixtures").path)
        let run = relevo(["check", file])
        #expect(run.status == 1)
        let first = try #require(run.stdout.split(separator: "\n").first.map(String.init))
        let prefix = "\(file):"
        #expect(first.hasPrefix(prefix))
        let position = first.dropFirst(prefix.count).split(separator: ":")
        let line = try #require(Int(position.first ?? ""))
        #expect((lineOfChange...(lineOfChange + new.filter { $0 == "\n" }.count)).contains(line), "\(first)")
        #expect(first.contains("error[\(id)]"), "\(first)")
    }
}
