import Foundation
import Testing
@testable import RelevoCLI

/// `relevo run` and `relevo undo` refuse what they must before touching
/// anything (the live behaviour is tested against the testbed in
/// RelevoLiveTests).
extension InProcessRunTests { @Suite struct RunAndUndoUsageTests {
    static let plan = repositoryRoot.appendingPathComponent("plans/exalumno.yaml").path

    @Test func aLiveRunWithoutATerminalNeedsYes() {
        let run = relevo(["run", Self.plan, "--approve", "all"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("add --yes"))
        #expect(run.stdout.isEmpty)
    }

    @Test func aSimulationJournalIsNotResumedLive() {
        let folder = PlanFolder()
        let journal = (folder.path as NSString).appendingPathComponent("sim.journal")
        #expect(relevo(["simulate", Self.plan, "--approve", "all", "--journal", journal]).status == 0)
        let run = relevo(["run", Self.plan, "--yes", "--journal", journal, "--resume"])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("mode 'simulate'"), "\(run.stderr)")
    }

    @Test func undoNeedsAJournalAndSetsOrAll() {
        #expect(relevo(["undo", Self.plan]).stderr.contains("undo needs --journal FILE"))
        let folder = PlanFolder()
        let journal = (folder.path as NSString).appendingPathComponent("sim.journal")
        #expect(relevo(["simulate", Self.plan, "--approve", "all", "--journal", journal]).status == 0)
        let neither = relevo(["undo", Self.plan, "--journal", journal])
        #expect(neither.status == 2 && neither.stderr.contains("--set KEY, or undo them all with --all"))
        let both = relevo(["undo", Self.plan, "--journal", journal, "--set", "ceres", "--all"])
        #expect(both.status == 2 && both.stderr.contains("do not go together"))
    }

    @Test func undoOfARehearsalPutsTheScratchUserBack() throws {
        let folder = PlanFolder()
        let journal = (folder.path as NSString).appendingPathComponent("sim.journal")
        #expect(relevo(["simulate", Self.plan, "--approve", "all", "--journal", journal]).status == 0)
        let scratchStore = journal + ".scratch/hosts/xalumno/var/qmail/maildirs/ceres"
        #expect(FileManager.default.fileExists(atPath: scratchStore + "/cur"))
        let undo = relevo(["undo", Self.plan, "--journal", journal, "--set", "ceres"])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(undo.stdout.contains("undone    users/ceres"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: scratchStore + "/cur")) ?? []
        #expect(left.isEmpty, "ceres's copied messages are gone from the new host: \(left)")
        let status = relevo(["status", journal])
        #expect(status.stdout.contains("19 migrated, 1 undone"), "\(status.stdout)")
    }
}
}
