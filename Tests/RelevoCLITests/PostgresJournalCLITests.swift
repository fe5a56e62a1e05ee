import Foundation
import Testing
import TestbedSupport
@testable import RelevoCLI

/// `--journal postgresql://...` in the commands that take a journal, and
/// what `--coordinate`, `--workers` and `relevo worker` refuse (the work
/// queue itself runs against the live testbed in RelevoLiveTests).
extension InProcessRunTests { @Suite struct PostgresJournalCLITests {
    static let plan = repositoryRoot.appendingPathComponent("plans/exalumno.yaml").path

    static func dropRun(_ server: PostgresServer, _ name: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSFILE"] = server.variables["RELEVO_PG_PASSFILE"]
        _ = try? ProcessResult.run("/usr/bin/psql", ["-X", "-q", "-c", "DROP SCHEMA IF EXISTS relevo_\(name) CASCADE", server.url],
                                   environment: environment)
    }

    @Test func aRehearsalJournaledInPostgreSQLIsReadResumedAndUndone() throws {
        let server = try PostgresServer.shared()
        let name = PostgresServer.uniqueRun("cli")
        defer { Self.dropRun(server, name) }
        let url = server.journalURL(run: name)

        let first = relevo(["simulate", Self.plan, "--approve", "all", "--journal", url, "--format", "json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("\"migrated\":20") || first.stdout.contains("\"migrated\": 20"), "\(first.stdout)")
        // The run exists: a second start is refused, a resume finds it finished.
        let again = relevo(["simulate", Self.plan, "--approve", "all", "--journal", url])
        #expect(again.status == 2 && again.stderr.contains("already holds a run"), "\(again.stderr)")
        #expect(relevo(["simulate", Self.plan, "--journal", url, "--resume"]).status == 0)

        let status = relevo(["status", url, "--format", "json"])
        #expect(status.status == 0, "\(status.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(document["mode"] as? String == "simulate")
        #expect(document["running"] as? Bool == false)
        #expect((document["workers"] as? [Any])?.isEmpty == true, "a run without workers lists none")
        #expect(relevo(["status", url]).stdout.contains("users: 20 migrated"))

        let undo = relevo(["undo", Self.plan, "--journal", url, "--set", "ceres"])
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(relevo(["status", url]).stdout.contains("1 undone"))

        let missing = relevo(["status", server.journalURL(run: PostgresServer.uniqueRun("none"))])
        #expect(missing.status == 4 && missing.stderr.contains("no run"), "\(missing.stderr)")
    }

    @Test func theWorkQueueNeedsAPostgreSQLJournalOfALiveRun() throws {
        let folder = PlanFolder()
        let file = (folder.path as NSString).appendingPathComponent("run.journal")
        let coordinate = relevo(["run", Self.plan, "--yes", "--journal", file, "--coordinate"])
        #expect(coordinate.status == 2 && coordinate.stderr.contains("need a postgresql:// journal"), "\(coordinate.stderr)")
        let worker = relevo(["worker", Self.plan, "--journal", file])
        #expect(worker.status == 2 && worker.stderr.contains("worker needs --journal postgresql://"), "\(worker.stderr)")
        #expect(relevo(["worker", Self.plan, "--journal", "postgresql://u@h/db?run=x", "--concurrency", "0"]).status == 2)

        let server = try PostgresServer.shared()
        let name = PostgresServer.uniqueRun("cli")
        defer { Self.dropRun(server, name) }
        let url = server.journalURL(run: name)
        #expect(relevo(["simulate", Self.plan, "--approve", "all", "--journal", url]).status == 0)
        let onSimulation = relevo(["worker", Self.plan, "--journal", url])
        #expect(onSimulation.status == 2 && onSimulation.stderr.contains("is a simulation"), "\(onSimulation.stderr)")
        let inline = relevo(["status", "postgresql://relevo:secret123@127.0.0.1/relevo?run=x"])
        #expect(inline.status == 4 && !inline.stderr.contains("secret123"), "\(inline.stderr)")
    }
} }
