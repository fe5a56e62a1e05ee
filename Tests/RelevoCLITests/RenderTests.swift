import Foundation
import Testing
@testable import RelevoCLI

/// `relevo render`: the plan report and the run report. Markdown, DOT and
/// JSON are compared with golden files under Golden/ (regenerate them with
/// `RELEVO_UPDATE_GOLDEN=1 swift test --filter RenderTests`); the HTML is
/// loaded in headless Chromium.
enum RenderSupport {
    static let plan = repositoryRoot.appendingPathComponent("plans/exalumno.yaml").path

    /// Output with the repository's path and the folder's path removed, and
    /// the run's start time (the only wall-clock time a report shows)
    /// replaced by `START`.
    static func normalise(_ text: String, _ folder: PlanFolder) -> String {
        var out = folder.normalise(text).replacingOccurrences(of: repositoryRoot.path + "/", with: "")
        let stamp = try! NSRegularExpression(pattern: "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
        out = stamp.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "START")
        return out
    }

    /// A dry run of the example plan whose copy fails for ceres: ceres is
    /// undone, ops notified, the run halts. Returns the journal's path.
    static func failedRehearsal(in folder: PlanFolder) -> String {
        let journal = (folder.path as NSString).appendingPathComponent("rehearsal.journal")
        let run = relevo(["simulate", plan, "--approve", "all", "--journal", journal, "--inject", "copy@ceres=fail"])
        #expect(run.status == 3, "\(run.stderr)")
        return journal
    }
}

@Suite struct RenderTests {
    @Test func thePlanReportOfTheExampleMatchesItsGoldens() {
        let folder = PlanFolder()
        for (format, golden) in [("md", "exalumno.plan.md"), ("dot", "exalumno.plan.dot"), ("json", "exalumno.plan.json")] {
            let run = relevo(["render", RenderSupport.plan, "--format", format])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.isEmpty)
            expectGolden(RenderSupport.normalise(run.stdout, folder), golden)
        }
    }

    @Test func aBatchedPhaseSaysSoInThePlanReport() throws {
        let folder = PlanFolder()
        let text = try String(contentsOfFile: RenderSupport.plan, encoding: .utf8)
            .replacingOccurrences(of: "    concurrency: 4\n    steps:", with: "    concurrency: 4\n    batch: 25\n    steps:")
            .replacingOccurrences(of: "folder: ../examples/exalumno", with: "folder: \(repositoryRoot.path)/examples/exalumno")
        let run = relevo(["render", folder.write("batched.yaml", text)])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("up to 4 at once; in batches of 25, step by step"), "\(run.stdout)")
        #expect(!relevo(["render", RenderSupport.plan]).stdout.contains("in batches of"))
    }

    @Test func markdownIsTheDefaultAndTheSameTwice() {
        let first = relevo(["render", RenderSupport.plan])
        #expect(first.status == 0)
        #expect(first.stdout.hasPrefix("# Plan report: exalumno-mail\n"))
        #expect(relevo(["render", RenderSupport.plan, "--format", "md"]).stdout == first.stdout)
    }

    @Test func theDOTNamesEveryElementAndColoursItsHost() {
        let dot = relevo(["render", RenderSupport.plan, "--format", "dot"]).stdout
        #expect(dot.contains("\"element:store-neon\" [label=\"store-neon\\nmaildir-store\""), "\(dot)")
        #expect(dot.contains("fillcolor=\"#cfe2ff\""))                  // neon's colour
        #expect(dot.contains("\"redirect:mailhost\" ["))
        #expect(dot.contains("penwidth=2.5"))                          // redirect points marked
    }

    @Test func secretsAppearOnlyAsTheirReferences() throws {
        setenv("LDAP_PASSWORD", "hunter2-render-secret", 1)
        setenv("IMAP_MASTER_PASSWORD", "hunter2-render-secret", 1)
        defer { unsetenv("LDAP_PASSWORD"); unsetenv("IMAP_MASTER_PASSWORD") }
        for format in ["md", "html", "dot", "json"] {
            let run = relevo(["render", RenderSupport.plan, "--format", format],
                             environment: ["LDAP_PASSWORD": "hunter2-render-secret"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(!run.stdout.contains("hunter2"), "\(format) shows a secret")
            if format != "dot" {
                #expect(run.stdout.contains("env:LDAP_PASSWORD"), "\(format) does not show the reference")
                #expect(run.stdout.contains("env:IMAP_MASTER_PASSWORD"))
            }
        }
    }

    @Test func theHTMLIsSelfContained() {
        let html = relevo(["render", RenderSupport.plan, "--format", "html"]).stdout
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        for forbidden in ["<script", "<link", " src=", "url(", "@import", "<?xml", "<!DOCTYPE svg"] {
            #expect(!html.contains(forbidden), "the HTML contains \(forbidden)")
        }
        for needed in ["<meta name=\"viewport\"", "@media print", "@media (max-width", "<th scope=\"col\">", "<th scope=\"row\">",
                       "role=\"img\" aria-label=\"Dependency graph of plan exalumno-mail", "<caption", "<figcaption>"] {
            #expect(html.contains(needed), "the HTML lacks \(needed)")
        }
        #expect(html.components(separatedBy: "<h1>").count == 2, "one h1")
    }

    @Test func outputGoesToAFileWhosePathIsPrinted() throws {
        let folder = PlanFolder()
        let file = (folder.path as NSString).appendingPathComponent("plan.html")
        let run = relevo(["render", RenderSupport.plan, "--format", "html", "-o", file])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == file + "\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("</html>"))
        let unwritable = relevo(["render", RenderSupport.plan, "-o", "/nonexistent/dir/plan.md"])
        #expect(unwritable.status == 4)
        #expect(unwritable.stderr.contains("cannot write /nonexistent/dir/plan.md"))
        #expect(unwritable.stderr.contains("help: "))
    }

    @Test func usageErrorsTeach() {
        let none = relevo(["render"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("missing PLAN"))
        #expect(none.stderr.contains("see 'relevo help render'"))
        let run = relevo(["render", RenderSupport.plan, "--report", "run"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("a run report needs the journal of a run"))
        #expect(run.stderr.contains("help: add --journal FILE"))
        let format = relevo(["render", RenderSupport.plan, "--format", "pdf"])
        #expect(format.status == 2)
        let missing = relevo(["render", RenderSupport.plan, "--journal", "/nonexistent/run.journal"])
        #expect(missing.status == 4)
        #expect(missing.stderr.contains("no journal at /nonexistent/run.journal"))
        let help = relevo(["render", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--journal FILE"))
    }

    @Test func aPlanWithErrorsHasNoReport() {
        let folder = PlanFolder()
        let plan = folder.write("broken.yaml", Plans.broken)
        let run = relevo(["render", plan, "--color", "never"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("E020"))
        #expect(run.stderr.contains("no report for a plan with errors"))
        let coloured = relevo(["render", plan], environment: ["TERM": "xterm"], tty: true)
        #expect(coloured.stderr.contains("\u{1B}["), "a terminal gets colour")
        let plain = relevo(["render", plan], environment: ["TERM": "xterm", "NO_COLOR": "1"], tty: true)
        #expect(plain.status == 1)
        #expect(!plain.stderr.contains("\u{1B}["), "NO_COLOR is obeyed")
    }
}

/// Reports of a real dry run (in-process engine runs are serialized, see
/// InProcessRunTests).
extension InProcessRunTests { @Suite struct RenderRunTests {
    @Test func theRunReportOfAFailedRehearsalMatchesItsGoldens() {
        let folder = PlanFolder()
        let journal = RenderSupport.failedRehearsal(in: folder)
        for (format, golden) in [("md", "exalumno.run.md"), ("dot", "exalumno.run.dot"), ("json", "exalumno.run.json")] {
            let run = relevo(["render", RenderSupport.plan, "--journal", journal, "--format", format])
            #expect(run.status == 0, "\(run.stderr)")
            expectGolden(RenderSupport.normalise(run.stdout, folder), golden)
        }
        let md = relevo(["render", RenderSupport.plan, "--journal", journal]).stdout
        #expect(md.contains("| `users/ceres` | step copy | injected failure | undo of step 1 (copy): done"), "\(md)")
        #expect(md.contains("set undone; run halted"))
        #expect(md.contains("| messages to migrate | 147 messages, the sets' message counts"), "counted when the sets were selected")
    }

    @Test func thePlanReportShowsTheRehearsalsEstimate() {
        let folder = PlanFolder()
        let journal = RenderSupport.failedRehearsal(in: folder)
        let md = relevo(["render", RenderSupport.plan, "--report", "plan", "--journal", journal]).stdout
        #expect(md.contains("## Time estimate"))
        #expect(md.contains("of virtual time"), "\(md)")
        #expect(md.contains("it did not finish"))
        #expect(!md.contains("No simulation journal was given"))
    }

    @Test func bothReportsRenderInChromium() throws {
        let folder = PlanFolder()
        let journal = RenderSupport.failedRehearsal(in: folder)
        let planHTML = (folder.path as NSString).appendingPathComponent("plan.html")
        let runHTML = (folder.path as NSString).appendingPathComponent("run.html")
        #expect(relevo(["render", RenderSupport.plan, "--format", "html", "-o", planHTML]).status == 0)
        #expect(relevo(["render", RenderSupport.plan, "--journal", journal, "--format", "html", "-o", runHTML]).status == 0)
        let browser = try Chromium(folder: folder)

        // A blank page of the same size is the baseline a report must leave far behind.
        let blank = folder.write("blank.html", "<!DOCTYPE html><html lang=\"en\"><head><title>blank</title></head><body></body></html>")
        for size in [(1200, 1600), (390, 844)] {        // a desktop and a phone
            let empty = try browser.screenshot(blank, width: size.0, height: size.1)
            for page in [planHTML, runHTML] {
                let shot = try browser.screenshot(page, width: size.0, height: size.1)
                #expect(shot.width == size.0 && shot.height == size.1)
                #expect(shot.data != empty.data, "\(page) renders like a blank page")
                #expect(shot.data.count > 4 * empty.data.count,
                        "\(page): \(shot.data.count) bytes of PNG against \(empty.data.count) for a blank page")
            }
        }

        // Exactly one graph node per plan element, named by its element ID.
        let dom = try browser.dom(planHTML)
        let titles = Chromium.nodeTitles(dom)
        let elements = titles.filter { $0.hasPrefix("element:") }
        let plan = try #require(PlanAnalysis.analyse(RenderSupport.plan, lint: false).result?.plan)
        #expect(elements.sorted() == plan.elements.map { "element:" + $0.name.name }.sorted(), "\(titles)")
        #expect(Set(elements).count == elements.count)
        #expect(titles.contains("redirect:mailhost"))
        #expect(dom.contains("<svg"))
        let runDOM = try browser.dom(runHTML)
        #expect(runDOM.contains("aria-label=\"Timeline of the simulation"))
        #expect(runDOM.contains("<rect"))
    }
}
}

/// Debian's `chromium`, headless, with a private profile in a temporary
/// folder, bounded by `timeout(1)`. Run as root, it needs `--no-sandbox`.
struct Chromium {
    let executable: String
    let profile: String
    let folder: PlanFolder

    struct Screenshot {
        var data: Data
        var width: Int
        var height: Int
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(folder: PlanFolder) throws {
        guard let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            throw Failure(description: "chromium is not installed: run scripts/setup (it installs Debian's chromium)")
        }
        executable = found
        self.folder = folder
        profile = (folder.path as NSString).appendingPathComponent("chromium-profile")
    }

    private func run(_ arguments: [String]) throws -> String {
        let result = try runProcess("/usr/bin/timeout", ["120", executable, "--headless", "--no-sandbox", "--disable-gpu",
                                                         "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
                                                         "--user-data-dir=\(profile)"] + arguments)
        guard result.status == 0 else {
            throw Failure(description: "chromium exited \(result.status): \(result.error.suffix(2000))")
        }
        return result.output
    }

    func screenshot(_ page: String, width: Int, height: Int) throws -> Screenshot {
        let png = (folder.path as NSString).appendingPathComponent("shot-\(UUID().uuidString).png")
        _ = try run(["--window-size=\(width),\(height)", "--screenshot=\(png)", URL(fileURLWithPath: page).absoluteString])
        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        // PNG: an 8-byte signature, then the IHDR chunk (length, type, width, height as big-endian UInt32).
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard data.count > 24, Array(data.prefix(8)) == signature, String(decoding: data[12..<16], as: UTF8.self) == "IHDR" else {
            throw Failure(description: "\(png) is not a PNG")
        }
        func be32(_ at: Int) -> Int { data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return Screenshot(data: data, width: be32(16), height: be32(20))
    }

    /// The DOM after the page loaded, serialized.
    func dom(_ page: String) throws -> String {
        try run(["--dump-dom", URL(fileURLWithPath: page).absoluteString])
    }

    /// The `<title>` of every `<g class="node">` (Graphviz's nodes), in order.
    static func nodeTitles(_ dom: String) -> [String] {
        dom.components(separatedBy: "class=\"node\"").dropFirst().compactMap { chunk in
            guard let open = chunk.range(of: "<title>"), let close = chunk.range(of: "</title>", range: open.upperBound..<chunk.endIndex)
            else { return nil }
            return String(chunk[open.upperBound..<close.lowerBound])
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&amp;", with: "&")
        }
    }
}
