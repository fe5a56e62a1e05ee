import Foundation
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoPlan
import Testing
@testable import RelevoReport

let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The Graphviz wrapper: DOT in, SVG out, in-process.
@Suite struct GraphvizTests {
    @Test func aGraphBecomesSVGWithItsNodeNamesAsTitles() throws {
        let svg = try Graphviz.render(dot: "digraph g { \"element:a\" -> \"element:b\"; }")
        #expect(svg.contains("<svg"))
        #expect(svg.contains("<title>element:a</title>"))
        #expect(svg.contains("<title>element:b</title>"))
        #expect(svg.components(separatedBy: "class=\"node\"").count - 1 == 2)
    }

    @Test func malformedDOTIsAnErrorWithGraphvizsMessage() {
        #expect(throws: Graphviz.Failure.self) { try Graphviz.render(dot: "digraph { a -> ; }") }
        #expect(throws: Graphviz.Failure.self) { try Graphviz.render(dot: "digraph { a; }", engine: "no-such-layout") }
        #expect(throws: Graphviz.Failure.self) { try Graphviz.render(dot: "digraph { a; }", format: "no-such-format") }
    }

    @Test func manyRendersInParallelAreSerializedSafely() async throws {
        try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<8 { group.addTask { try Graphviz.render(dot: "digraph { n\(i) -> m\(i); }") } }
            var count = 0
            for try await svg in group { #expect(svg.contains("<svg")); count += 1 }
            #expect(count == 8)
        }
    }

    @Test func inlineSVGIsLabelledAndScales() {
        let svg = SVG.inline("<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg width=\"100pt\" height=\"50pt\" viewBox=\"0 0 100 50\"><g/></svg>\n",
                             label: "a <graph>")
        #expect(svg == "<svg viewBox=\"0 0 100 50\" role=\"img\" aria-label=\"a &lt;graph&gt;\"><title>a &lt;graph&gt;</title><g/></svg>")
    }
}

/// Markdown and HTML escaping of the document model.
@Suite struct DocumentTests {
    @Test func markupInTextIsEscaped() {
        var d = ReportDocument(title: "a *b*")
        d.paragraph(.text("#1 <x> | y_z"), .code("a`b"))
        d.table("t|u", ["h|1"], [[[.text("c|d")]]])
        let md = d.markdown()
        #expect(md.hasPrefix("# a \\*b\\*\n"))
        #expect(md.contains("\\#1 \\<x\\> | y\\_z``a`b``"), "\(md)")
        #expect(md.contains("| h\\|1 |"))
        #expect(md.contains("| c\\|d |"))
        let html = d.html()
        #expect(html.contains("<p>#1 &lt;x&gt; | y_z<code>a`b</code></p>"))
        #expect(html.contains("<th scope=\"col\">h|1</th>"))
        #expect(html.contains("<th scope=\"row\">c|d</th>"))
    }
}

/// A run report given a rehearsal and a live run says where they differed.
@Suite struct ComparisonTests {
    /// Writes a journal of `mode` in which each set in `sets` ran for its
    /// seconds, and `failing` failed its copy and was undone.
    static func journal(_ path: String, mode: String, sets: [(String, Double)], failing: String?) throws {
        let j = try SQLiteJournal(path: path)
        _ = try j.open(run: RunInfo(mode: mode, planName: "exalumno-mail", planDigest: "d", startedAt: Date(timeIntervalSinceReferenceDate: 0),
                                    seed: 1, holder: "test:1"))
        var at = 0.0
        try j.append(EngineEvent(.runStarted, at: 0))
        try j.append(EngineEvent(.phaseStarted, at: 0, phase: "users"))
        for (key, seconds) in sets {
            try j.setState(phase: "users", set: key, .running, detail: "{\"bytes\":1000,\"key\":\"\(key)\"}")
            try j.append(EngineEvent(.setStarted, at: at, phase: "users", set: key))
            let copy = StepKey(phase: "users", set: key, index: 0, operation: "copy")
            try j.recordIntent(copy, detail: "copy")
            if key == failing {
                try j.recordResult(copy, outcome: StepOutcome(status: .failed, evidence: "connection reset"))
                try j.append(EngineEvent(.stepFailed, at: at + seconds, phase: "users", set: key, operation: "copy", message: "connection reset"))
                try j.append(EngineEvent(.setUndone, at: at + seconds, phase: "users", set: key))
                try j.setState(phase: "users", set: key, .undone, detail: "{\"bytes\":1000,\"key\":\"\(key)\"}")
            } else {
                try j.recordResult(copy, outcome: StepOutcome(status: .done, evidence: "2 files, 1000 bytes", bytes: 1000, messages: 2, seconds: seconds))
                try j.append(EngineEvent(.stepDone, at: at + seconds, phase: "users", set: key, operation: "copy", bytes: 1000))
                try j.append(EngineEvent(.setMigrated, at: at + seconds, phase: "users", set: key))
                try j.setState(phase: "users", set: key, .migrated, detail: "{\"bytes\":1000,\"key\":\"\(key)\"}")
            }
            at += seconds
        }
        try j.append(EngineEvent(.phaseFinished, at: at, phase: "users"))
        try j.append(EngineEvent(.runFinished, at: at))
        try j.close()
    }

    @Test func theLiveRunIsComparedWithItsRehearsal() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sim = folder + "/sim.journal", live = folder + "/live.journal"
        try Self.journal(sim, mode: "simulate", sets: [("ceres", 1), ("almadg", 2)], failing: nil)
        try Self.journal(live, mode: "run", sets: [("ceres", 30), ("almadg", 2.5)], failing: "almadg")

        let check = try Checker.check(path: repositoryRoot.appendingPathComponent("plans/exalumno.yaml").path)
        let input = ReportInput(planPath: "plans/exalumno.yaml", check: check, planDigest: "d",
                                journals: [(sim, try JournalInspection.inspect(path: sim)),
                                           (live, try JournalInspection.inspect(path: live))])
        let md = try Reports.render(input, kind: .run, format: .md)
        #expect(md.contains("## The live run against its rehearsal"))
        #expect(md.contains("| duration | 3.0 s | 32.5 s |"), "\(md)")
        #expect(md.contains("| `ceres` | `users` | 1.0 s | 30.0 s | +29.0 s |"), "\(md)")
        #expect(md.contains("| `users/almadg` | did not fail | copy: connection reset |"), "\(md)")
        #expect(md.contains("| sets failed or undone | 0 | 1 |"))

        let json = try Reports.render(input, kind: .run, format: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let comparison = try #require(object["comparison"] as? [String: Any])
        let sets = try #require(comparison["sets"] as? [[String: Any]])
        #expect(sets.count == 2)
        #expect(sets.first?["live_seconds"] as? Double == 30)
        #expect((comparison["failure_differences"] as? [Any])?.count == 1)

        let html = try Reports.render(input, kind: .run, format: .html)
        #expect(html.contains("<figure id=\"timeline-2\">"))
        #expect(html.contains("aria-label=\"Timeline of the live run"))
    }

    @Test func aRunReportNeedsAJournal() throws {
        let check = try Checker.check(path: repositoryRoot.appendingPathComponent("plans/exalumno.yaml").path)
        let input = ReportInput(planPath: "p", check: check, planDigest: nil, journals: [])
        #expect(throws: Reports.Failure.self) { try Reports.render(input, kind: .run, format: .md) }
    }
}
