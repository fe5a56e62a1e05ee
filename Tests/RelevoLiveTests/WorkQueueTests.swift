// Many workers over a PostgreSQL journal against a testbed of their own
// (docs/scale.md): a controller (`relevo run --coordinate`) and `relevo
// worker` processes, the real PostgreSQL of scripts/pg, the real slapd and sshd.
import Foundation
import Testing
import TestbedSupport

/// A run in the shared PostgreSQL cluster, read with psql (the relevo role).
struct QueueRun {
    let server: PostgresServer
    let name = PostgresServer.uniqueRun("wq")
    var url: String { server.journalURL(run: name) }
    var schema: String { "relevo_" + name }

    init() throws { server = try PostgresServer.shared() }

    /// The first column of each row of `sql` (the run's schema first on the search path).
    func query(_ sql: String) throws -> [String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSFILE"] = server.variables["RELEVO_PG_PASSFILE"]
        environment["PGOPTIONS"] = "-c search_path=\(schema)"
        let result = try ProcessResult.run("/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, server.url],
                                           environment: environment)
        guard result.status == 0 else { throw TestbedError(message: "psql: \(result)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    func int(_ sql: String) throws -> Int { Int(try query(sql).first ?? "") ?? -1 }

    func drop() { _ = try? query("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
}

@Suite(.serialized) struct WorkQueueTests {
    /// The live plan with a one-second step after the redirect, so that a
    /// worker can be stopped mid-set: after the redirect, before the copy.
    static func slowPlan(_ bed: LiveBed) throws -> String {
        let text = try String(contentsOfFile: livePlan, encoding: .utf8)
        let redirect = "      - redirect: { point: mailhost, to: xalumno }\n"
        let changed = text.replacingOccurrences(of: redirect,
                                                with: redirect + "      - run-command: { on: xalumno, run: [sleep, \"1\"] }\n")
        try #require(changed != text)
        let plan = bed.work + "/slow.yaml"
        try changed.write(toFile: plan, atomically: true, encoding: .utf8)
        return plan
    }

    /// Starts the controller and waits until the run is in the journal.
    static func controller(_ bed: LiveBed, _ run: QueueRun, plan: String) throws -> RunningProcess {
        let process = try bed.startRelevo(["run", plan, "--yes", "--approve", "all", "--journal", run.url, "--coordinate",
                                           "--format", "json"])
        for _ in 0..<200 {
            if (try? run.int("SELECT count(*) FROM sets WHERE phase = 'users'")) ?? 0 > 0 { return process }
            usleep(50_000)
        }
        throw TestbedError(message: "the controller never listed the users: \(process.wait())")
    }

    /// What every run must end with: every user on the new host once, every
    /// message copied once, nothing left in flight.
    static func checkCensus(_ bed: LiveBed, _ run: QueueRun) throws {
        let users = try bed.search(attributes: ["uid", "mailHost"])
        #expect(users.count == 21)
        #expect(users.allSatisfy { $0["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]] })
        let moved = messages(bed["RELEVO_NEW_ROOT"])
        #expect(moved == messages(bed["RELEVO_OLD_ROOT"]), "no message lost")
        #expect(moved.values.allSatisfy { $0.count == 1 }, "no message duplicated")
        #expect(try run.int("SELECT count(*) FROM sets WHERE phase = 'users' AND state = 'migrated'") == 20)
        #expect(try run.int("SELECT count(*) FROM steps WHERE status IS NULL") == 0, "nothing in flight")
        #expect(try run.int("SELECT count(*) FROM leases WHERE NOT released") == 0)
    }

    @Test func threeWorkersMigrateEverySetExactlyOnce() throws {
        let bed = try LiveBed("wq3")
        defer { bed.tearDown() }
        let run = try QueueRun()
        defer { run.drop() }
        let controller = try Self.controller(bed, run, plan: livePlan)
        let workers = try (1...3).map { i in
            try bed.startRelevo(["worker", livePlan, "--journal", run.url, "--name", "w\(i)", "--concurrency", "2"])
        }
        let results = workers.map { $0.wait() }
        let summary = controller.wait()
        #expect(summary.status == 0, "\(summary)")
        for result in results { #expect(result.status == 0, "\(result)") }
        let document = try json(summary.stdout)
        #expect((document["sets"] as? [String: Any])?["migrated"] as? Int == 20)

        try Self.checkCensus(bed, run)
        // Every set claimed once, every step run once, by the three workers together.
        #expect(try run.int("SELECT count(*) FROM leases") == 20)
        #expect(try run.int("SELECT max(claims) FROM leases") == 1)
        #expect(try run.int("SELECT count(*) FROM steps WHERE intents > 1") == 0)
        #expect(try run.int("SELECT sum(sets_done) FROM workers") == 20)
        #expect(try run.int("SELECT count(*) FROM workers") == 3)
        // The global phase ran once, in the controller.
        #expect(try run.int("SELECT count(*) FROM steps WHERE phase = 'directory' AND idx = 2 AND status = 'done'") == 1)

        let status = try bed.relevo(["status", run.url])
        #expect(status.status == 0)
        #expect(status.stdout.contains("users: 20 migrated"))
        for i in 1...3 { #expect(status.stdout.contains("worker    w\(i): finished")) }
    }

    /// A worker SIGKILLed after a set's redirect and before its copy: once
    /// its lease expires another worker takes the set over, reads back the
    /// redirect (not redone), runs what was in flight again, and finishes.
    @Test func aKilledWorkersSetIsFinishedByAnotherAfterItsLeaseExpires() throws {
        let bed = try LiveBed("wqkill")
        defer { bed.tearDown() }
        let run = try QueueRun()
        defer { run.drop() }
        let plan = try Self.slowPlan(bed)
        let controller = try Self.controller(bed, run, plan: plan)
        let doomed = try bed.startRelevo(["worker", plan, "--journal", run.url, "--name", "doomed", "--lease", "2"])
        // Wait until it is inside the sleep of a set: redirect done, step 2 in flight.
        var victim: String?
        for _ in 0..<400 where victim == nil {
            victim = try run.query("""
                SELECT set_key FROM steps WHERE phase = 'users' AND idx = 2 AND status IS NULL
                """).first
            if victim == nil { usleep(25_000) }
        }
        let set = try #require(victim, "the worker never reached the slow step")
        killTree(doomed.pid)
        #expect(doomed.wait().killed)
        #expect(try run.int("SELECT count(*) FROM steps WHERE set_key = '\(set)' AND idx = 1 AND status = 'done'") == 1)

        let rescuer = try bed.startRelevo(["worker", plan, "--journal", run.url, "--name", "rescuer", "--concurrency", "4",
                                           "--lease", "5"])
        let rescued = rescuer.wait()
        let summary = controller.wait()
        #expect(rescued.status == 0, "\(rescued)")
        #expect(summary.status == 0, "\(summary)")
        #expect(rescued.stderr.contains("users/\(set) claimed (taken over, claim 2)"), "\(rescued.stderr)")

        try Self.checkCensus(bed, run)
        #expect(try run.query("SELECT owner || ' ' || claims FROM leases WHERE set_key = '\(set)'") == ["rescuer 2"])
        // The redirect was read back, not redone; the step in flight ran again.
        #expect(try run.int("SELECT intents FROM steps WHERE set_key = '\(set)' AND idx = 1 AND undo = 0") == 1)
        #expect(try run.int("SELECT intents FROM steps WHERE set_key = '\(set)' AND idx = 2 AND undo = 0") == 2)
        #expect(try run.int("SELECT count(*) FROM steps WHERE set_key <> '\(set)' AND intents > 1") == 0)
    }

    /// pg_terminate_backend on a worker's connection, while it is inside a
    /// set: it makes no further step of that set (its next journal write
    /// fails), exits 3, and the set is finished by another worker.
    @Test func aWorkerWhoseConnectionIsCutStopsActingOnItsSet() throws {
        let bed = try LiveBed("wqcut")
        defer { bed.tearDown() }
        let run = try QueueRun()
        defer { run.drop() }
        let plan = try Self.slowPlan(bed)
        let controller = try Self.controller(bed, run, plan: plan)
        let cut = try bed.startRelevo(["worker", plan, "--journal", run.url, "--name", "cut", "--lease", "3"])
        var inSlowStep = false
        for _ in 0..<400 where !inSlowStep {
            inSlowStep = !(try run.query("SELECT set_key FROM steps WHERE phase = 'users' AND idx = 2 AND status IS NULL").isEmpty)
            if !inSlowStep { usleep(25_000) }
        }
        #expect(inSlowStep, "the worker never reached the slow step")
        #expect(try run.query("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'relevo worker cut'
            """) == ["t"])
        let stopped = cut.wait()
        #expect(stopped.status == 3, "\(stopped)")
        #expect(stopped.stderr.contains("connection to PostgreSQL was lost"), "\(stopped.stderr)")
        // The set it held when its connection was cut (on a loaded machine
        // the worker may have gone past the slow step before the cut, so
        // the set is the one of its unreleased lease, not the one seen above).
        let held = try run.query("SELECT set_key FROM leases WHERE owner = 'cut' AND NOT released")
        #expect(held.count == 1, "\(held)")
        let set = try #require(held.first)
        // At most the step in flight without a result, and nothing after it:
        // no later step (copy, chown, gate) of that set was begun.
        let open = try run.query("SELECT idx FROM steps WHERE set_key = '\(set)' AND undo = 0 AND status IS NULL")
        #expect(open.count <= 1, "\(open)")
        let last = try Int(open.first ?? "") ?? (run.int("SELECT coalesce(max(idx), -1) FROM steps WHERE set_key = '\(set)' AND undo = 0"))
        #expect(try run.int("SELECT count(*) FROM steps WHERE set_key = '\(set)' AND idx > \(last)") == 0)

        let rescuer = try bed.startRelevo(["worker", plan, "--journal", run.url, "--name", "rescuer", "--concurrency", "4"])
        let rescued = rescuer.wait()
        let summary = controller.wait()
        #expect(rescued.status == 0, "\(rescued)")
        #expect(summary.status == 0, "\(summary)")
        try Self.checkCensus(bed, run)
        #expect(try run.query("SELECT owner || ' ' || claims FROM leases WHERE set_key = '\(set)'") == ["rescuer 2"])
    }
}
