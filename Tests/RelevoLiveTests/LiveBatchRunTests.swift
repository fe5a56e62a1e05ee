import Foundation
import TestbedSupport
@testable import RelevoJournal
import RelevoStore
import Testing

/// `relevo run` of the example plan with its users taken five at a time
/// (`batch: 5`), against a real testbed: the batch's first copies written
/// whole (one `tar -x` and one rename per Maildir), its delta passes,
/// chown, census and remote-command gates each shared by the batch; the end
/// state must be the one a run set by set reaches, and undo must still put
/// a user back.
@Suite(.serialized) struct LiveBatchRunTests {
    /// The example plan with `batch: 5` in its users phase, beside it (its
    /// work files are relative to the plan).
    func batchedPlan(canary: Int = 3, _ edit: (String) -> String = { $0 }) throws -> String {
        let text = edit(try String(contentsOfFile: livePlan, encoding: .utf8))
        let batched = text.replacingOccurrences(of: "    canary: 3\n    concurrency: 4\n",
                                                with: "    canary: \(canary)\n    concurrency: 4\n    batch: 5\n")
        try #require(batched != text, "the example's users phase is where this test expects it")
        let path = URL(fileURLWithPath: livePlan).deletingLastPathComponent()
            .appendingPathComponent(".test-batch-\(getpid()).yaml").path
        try batched.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aBatchedRunEndsAsARunSetBySetDoes() throws {
        let bed = try LiveBed("batchrun")
        defer { bed.tearDown() }
        let plan = try batchedPlan()
        defer { try? FileManager.default.removeItem(atPath: plan) }
        let before = files(bed["RELEVO_OLD_ROOT"])
        let run = try bed.run(plan: plan)
        #expect(run.status == 0, "\(run)")
        let summary = try json(run.stdout)
        let sets = try #require(summary["sets"] as? [String: Int])
        #expect(sets["total"] == 20 && sets["migrated"] == 20 && sets["failed"] == 0, "\(sets)")

        for user in try bed.search(attributes: ["uid", "mailHost"]) {
            #expect(user["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]], "\(user["uid"] ?? [])")
        }
        // Every file, same bytes, same mode and modification time; the
        // staging folder left empty.
        let newRoot = bed["RELEVO_NEW_ROOT"], oldRoot = bed["RELEVO_OLD_ROOT"]
        #expect(files(newRoot) == before)
        for relative in before.keys {
            let old = try FileManager.default.attributesOfItem(atPath: oldRoot + "/" + relative)
            let new = try FileManager.default.attributesOfItem(atPath: newRoot + "/" + relative)
            #expect(old[.posixPermissions] as? Int == new[.posixPermissions] as? Int, "\(relative)")
            #expect(old[.modificationDate] as? Date == new[.modificationDate] as? Date, "\(relative)")
            #expect(new[.ownerAccountName] as? String == "vmail", "\(relative)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: newRoot + "/.relevo-staging").isEmpty)
        for sub in ["cur", "new", "tmp"] {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: newRoot + "/ceres/" + sub, isDirectory: &isDirectory) && isDirectory.boolValue)
        }

        // Batched steps: a first copy of a batch member is one pass that
        // made the Maildir; the gates passed for each member on its own.
        let db = try Database(path: bed.journal, readOnly: true)
        let gates = try db.query("""
            SELECT count(*) FROM steps WHERE phase = 'users' AND operation IN ('maildir-superset', 'remote-command')
            AND status = 'done' AND undo = 0
            """) { $0.int64(0) }
        #expect(gates == [40])

        // Undo still puts one user back, and only that user.
        let others = files(newRoot).filter { !$0.key.hasPrefix("ceres/") }
        let undo = try bed.relevo(["undo", plan, "--journal", bed.journal, "--set", "ceres", "--yes"])
        #expect(undo.status == 0, "\(undo)")
        #expect(!FileManager.default.fileExists(atPath: newRoot + "/ceres"), "the Maildir the batch made for ceres is gone")
        #expect(files(newRoot).filter { !$0.key.hasPrefix("ceres/") } == others)
        let ceres = try #require(try bed.search(filter: "(uid=ceres)", attributes: ["mailHost"]).first)
        #expect(ceres["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]])
    }

    /// A batch's `remote-command` gates run in one shell on the host: each
    /// is judged on its own exit status against its own `expect-exit` (one
    /// user's fails, the others' pass; a gate expecting 1 passes on 1), and
    /// an argument is never read by that shell (`$(...)` stays text).
    @Test func aBatchsRemoteCommandsAreJudgedOneByOne() throws {
        let bed = try LiveBed("batchcmd")
        defer { bed.tearDown() }
        let marker = "/tmp/relevo-batch-pwned-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let plan = try batchedPlan { text in
            text.replacingOccurrences(
                of: "      - remote-command:   { on: xalumno, run: [test, -d, \"${env:RELEVO_NEW_ROOT}/${store}/cur\"] }\n",
                with: "      - remote-command:   { on: xalumno, run: [test, \"${uid}\", \"!=\", icovilla] }\n"
                    + "      - remote-command:   { on: xalumno, run: [test, \"$(touch \(marker))\", \"!=\", x] }\n"
                    + "      - remote-command:   { on: xalumno, run: [test, a, \"=\", b], expect-exit: 1 }\n")
        }
        defer { try? FileManager.default.removeItem(atPath: plan) }
        try #require(try String(contentsOfFile: plan, encoding: .utf8).contains("icovilla"))
        let run = try bed.run(plan: plan)
        #expect(run.status != 0, "icovilla's gate fails and the plan halts: \(run)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the argument was passed as text")

        let db = try Database(path: bed.journal, readOnly: true)
        let evidence = try db.query("""
            SELECT set_key, status, evidence FROM steps WHERE phase = 'users' AND operation = 'remote-command' AND undo = 0
            """) { ($0.string(0) ?? "", $0.string(1) ?? "", $0.string(2) ?? "") }
        let failed = evidence.filter { $0.1 == "failed" }
        #expect(failed.map(\.0) == ["icovilla"], "\(failed)")
        #expect(failed.first?.2.contains("`test icovilla != icovilla` exited 1, expected 0") == true, "\(failed)")
        #expect(evidence.filter { $0.1 == "done" }.count >= 4, "the others of the batch passed: \(evidence)")
        #expect(evidence.contains { $0.1 == "done" && $0.2.contains("`test a = b` exited 1") }, "expect-exit: 1 holds in a batch")
        // icovilla's gate ran with others of its batch (one intent write for all).
        let together = try db.query("""
            SELECT count(*) FROM steps WHERE phase = 'users' AND operation = 'remote-command' AND undo = 0 AND intent_at =
            (SELECT intent_at FROM steps WHERE set_key = 'icovilla' AND operation = 'remote-command' AND undo = 0 LIMIT 1)
            """) { $0.int64(0) }
        #expect((together.first ?? 0) > 2, "icovilla was not in a batch: \(together)")
        let icovilla = try #require(try bed.search(filter: "(uid=icovilla)", attributes: ["mailHost"]).first)
        #expect(icovilla["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]], "undone")
    }

    /// A batch's `remote-command` gates go to the host as one script on
    /// `sh -s`'s standard input, so no command line limits them: each
    /// gate here has an argument of 40000 characters (more than libssh2
    /// sends as one command, about 32 KB), and every one is judged.
    @Test func aBatchsRemoteCommandsHaveNoCommandLineLimit() throws {
        let bed = try LiveBed("batchlong")
        defer { bed.tearDown() }
        let long = String(repeating: "x", count: 40_000)
        let plan = try batchedPlan(canary: 0) { text in
            text.replacingOccurrences(
                of: "      - remote-command:   { on: xalumno, run: [test, -d, \"${env:RELEVO_NEW_ROOT}/${store}/cur\"] }\n",
                with: "      - remote-command:   { on: xalumno, run: [test, \"${uid}\(long)\", \"!=\", x] }\n")
        }
        defer { try? FileManager.default.removeItem(atPath: plan) }
        try #require(try String(contentsOfFile: plan, encoding: .utf8).contains(long))
        let run = try bed.run(plan: plan)
        #expect(run.status == 0, "\(run)")
        let db = try Database(path: bed.journal, readOnly: true)
        let statuses = try db.query("""
            SELECT status, count(*) FROM steps WHERE phase = 'users' AND operation = 'remote-command' AND undo = 0 GROUP BY status
            """) { ($0.string(0) ?? "", $0.int64(1)) }
        #expect(statuses.count == 1 && statuses.first?.0 == "done" && (statuses.first?.1 ?? 0) > 5, "\(statuses)")
    }
}
