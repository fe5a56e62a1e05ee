import Foundation
import Testing
@testable import RelevoCLI

/// In-process runs of the engine (simulate, status, undo). Serialized: each
/// blocks a thread of the cooperative pool while its engine runs on the
/// pool (`Blocking.run`), and on a 2-core machine two at once would leave
/// the engines no thread to run on.
@Suite(.serialized) struct InProcessRunTests {}

/// `relevo status` reads a real journal written by `relevo simulate`.
extension InProcessRunTests { @Suite struct StatusCommandTests {
    @Test func aHaltedRehearsalShowsItsFailureAndCounts() throws {
        let folder = PlanFolder()
        let journal = (folder.path as NSString).appendingPathComponent("run.journal")
        let plan = repositoryRoot.appendingPathComponent("plans/exalumno.yaml").path
        let simulated = relevo(["simulate", plan, "--approve", "all", "--journal", journal, "--inject", "copy@ceres=fail"])
        #expect(simulated.status == 3, "\(simulated.stderr)")

        let status = relevo(["status", journal])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("simulation"))
        #expect(status.stdout.contains("not running"))
        #expect(status.stdout.contains("failed    users/ceres copy: injected failure"), "\(status.stdout)")
        #expect(status.stdout.contains("1 undone"), "\(status.stdout)")
        #expect(status.stdout.contains("approved  switch-mx"))

        let json = relevo(["status", journal, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["mode"] as? String == "simulate")
        #expect(object["running"] as? Bool == false)
        let failures = try #require(object["failures"] as? [[String: Any]])
        #expect(failures.count == 1)
        #expect(failures.first?["set"] as? String == "ceres")
        let phases = try #require(object["phases"] as? [[String: Any]])
        let users = try #require(phases.first { $0["name"] as? String == "users" }?["sets"] as? [String: Int])
        #expect(users["undone"] == 1)
        #expect((users["migrated"] ?? 0) + (users["pending"] ?? 0) + 1 == 20)
    }

    @Test func aMissingJournalIsUnreadable() {
        let run = relevo(["status", "/nonexistent/run.journal"])
        #expect(run.status == 4)
        #expect(run.stderr.contains("no journal at /nonexistent/run.journal"))
    }
}
}
