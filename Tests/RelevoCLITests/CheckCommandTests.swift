import Foundation
import Testing
@testable import RelevoCLI

@Suite("relevo check")
struct CheckCommandTests {
    @Test("a clean plan exits 0 and prints 'PATH: ok' on stdout")
    func cleanPlan() {
        let folder = PlanFolder()
        let plan = folder.write("tiny.yaml", Plans.tiny)
        let run = relevo(["check", plan])
        #expect(run.status == 0)
        #expect(folder.normalise(run.stdout) == "tiny.yaml: ok\n")
        #expect(run.stderr.isEmpty)
    }

    @Test("a plan with an error exits 1 and renders it like a compiler")
    func brokenPlanText() {
        let folder = PlanFolder()
        let plan = folder.write("broken.yaml", Plans.broken)
        let run = relevo(["check", plan])
        #expect(run.status == 1)
        let lines = folder.normalise(run.stdout).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try! #require(lines.count >= 5)
        #expect(lines[0] == "broken.yaml:12:9: error[E020]: unknown element 'directroy'")
        #expect(lines[1] == " 12 |     at: directroy")
        #expect(lines[2] == "    |         ^~~~~~~~~")
        #expect(lines.contains("    = help: did you mean 'directory'?"))
        #expect(lines.contains("broken.yaml: 1 error"))
        #expect(run.stderr.isEmpty)
    }

    @Test("an unreadable file exits 4 and is reported on stderr")
    func unreadable() {
        let folder = PlanFolder()
        let run = relevo(["check", folder.path + "/missing.yaml"])
        #expect(run.status == 4)
        #expect(run.stdout.isEmpty)
        #expect(folder.normalise(run.stderr) == "relevo: error: cannot read missing.yaml: no such file\n")
        #expect(relevo(["check", folder.path]).status == 4, "a directory is not a plan")
    }

    @Test("a file that is not UTF-8 cannot be read (exit 4); `--` allows a plan named like an option")
    func notUTF8AndDashes() throws {
        let folder = PlanFolder()
        let binary = folder.path + "/latin1.yaml"
        try Data([0x70, 0x6C, 0x61, 0x6E, 0x3A, 0x20, 0xE9, 0xFF]).write(to: URL(fileURLWithPath: binary))
        let run = relevo(["check", binary])
        #expect(run.status == 4)
        #expect(run.stderr.contains("not UTF-8"))

        #expect(relevo(["check", "-odd.yaml"]).status == 2, "an option, unknown")
        let dashed = relevo(["check", "--", "-relevo-no-such-plan.yaml"])
        #expect(dashed.status == 4, "after --, a file name")
        #expect(dashed.stderr.contains("cannot read -relevo-no-such-plan.yaml"))
    }

    @Test("an unreadable file wins over plan errors; the other plans are still checked")
    func unreadableAndBroken() {
        let folder = PlanFolder()
        let broken = folder.write("broken.yaml", Plans.broken)
        let run = relevo(["check", broken, folder.path + "/missing.yaml"])
        #expect(run.status == 4)
        #expect(run.stdout.contains("error[E020]"))
    }

    @Test("warnings pass, fail with --strict, and --no-lint drops lint findings")
    func strictAndNoLint() {
        let folder = PlanFolder()
        let plan = folder.write("warn.yaml", Plans.warning)
        let plain = relevo(["check", plan])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("warning[L001]"))
        #expect(folder.normalise(plain.stdout).hasSuffix("warn.yaml: 1 warning\n"))
        #expect(relevo(["check", "--strict", plan]).status == 1)
        let noLint = relevo(["check", plan, "--no-lint", "--strict"])
        #expect(noLint.status == 0)
        #expect(folder.normalise(noLint.stdout) == "warn.yaml: ok\n")
    }

    @Test("several plans: one summary line each, in the order given")
    func severalPlans() {
        let folder = PlanFolder()
        let a = folder.write("a.yaml", Plans.tiny)
        let b = folder.write("b.yaml", Plans.broken)
        let run = relevo(["check", a, b])
        #expect(run.status == 1)
        let out = folder.normalise(run.stdout)
        #expect(out.hasPrefix("a.yaml: ok\nb.yaml:12:9: error[E020]"))
        #expect(out.hasSuffix("b.yaml: 1 error\n"))
    }

    @Test("usage errors exit 2")
    func usageErrors() {
        #expect(relevo(["check"]).status == 2)
        let badFormat = relevo(["check", "x.yaml", "--format", "jsno"])
        #expect(badFormat.status == 2)
        #expect(badFormat.stderr.contains("invalid value 'jsno' for '--format'"))
        #expect(badFormat.stderr.contains("did you mean 'json'?"))
        let unknown = relevo(["check", "x.yaml", "--fromat", "json"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown option '--fromat'"))
        #expect(unknown.stderr.contains("did you mean '--format'?"))
        #expect(relevo(["check", "x.yaml", "--format"]).status == 2, "missing value")
        #expect(relevo(["check", "x.yaml", "--strict=yes"]).status == 2, "a flag takes no value")
    }

    @Test("golden: text diagnostics of a plan with several errors")
    func goldenText() {
        let folder = PlanFolder()
        let plan = folder.write("multi.yaml", Plans.multi)
        let run = relevo(["check", plan])
        #expect(run.status == 1)
        expectGolden(folder.normalise(run.stdout), "multi.txt")
    }

    @Test("golden: text of a warning")
    func goldenWarning() {
        let folder = PlanFolder()
        let plan = folder.write("warn.yaml", Plans.warning)
        expectGolden(folder.normalise(relevo(["check", plan]).stdout), "warn.txt")
    }

    @Test("golden: JSON report of a small broken plan")
    func goldenJSON() throws {
        let folder = PlanFolder()
        let plan = folder.write("broken.yaml", Plans.broken)
        let run = relevo(["check", plan, "--format=json"])
        #expect(run.status == 1)
        let json = folder.normalise(run.stdout)
        expectGolden(json, "broken.json")

        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["version"] as? Int == 1)
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(files.count == 1)
        #expect(files[0]["errors"] as? Int == 1)
        let d = try #require((files[0]["diagnostics"] as? [[String: Any]])?.first)
        for key in ["id", "name", "severity", "summary", "detail", "file", "line", "column", "endLine", "endColumn",
                    "help", "fixIt", "notes"] {
            #expect(d.keys.contains(key), "diagnostic lacks '\(key)'")
        }
        #expect(d["id"] as? String == "E020")
        #expect((d["fixIt"] as? [String: Any])?["replacement"] as? String == "directory")
    }

    @Test("golden: JSON report with a note, and of a clean plan")
    func goldenJSONMulti() {
        let folder = PlanFolder()
        let multi = folder.write("multi.yaml", Plans.multi)
        let tiny = folder.write("tiny.yaml", Plans.tiny)
        let run = relevo(["check", tiny, multi, "--format", "json"])
        #expect(run.status == 1)
        expectGolden(folder.normalise(run.stdout), "multi.json")
    }
}
