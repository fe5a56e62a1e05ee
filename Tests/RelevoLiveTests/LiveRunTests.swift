import RelevoBasics
import Foundation
import RelevoEngine
@testable import RelevoJournal
import Testing
import TestbedSupport

/// `relevo run` against a real testbed (two slapd, two sshd on loopback),
/// each test on a testbed of its own.
@Suite(.serialized) struct LiveRunTests {
    @Test func theExampleMigratesEveryUserEndToEnd() throws {
        let bed = try LiveBed("e2e")
        defer { bed.tearDown() }
        let before = files(bed["RELEVO_OLD_ROOT"])
        #expect(before.count > 100, "the fixture Maildirs are on the old host")

        let run = try bed.run()
        #expect(run.status == 0, "\(run)")
        let summary = try json(run.stdout)
        #expect(summary["mode"] as? String == "run")
        #expect(summary["halted"] as? Bool == false)
        let sets = try #require(summary["sets"] as? [String: Int])
        #expect(sets["total"] == 20 && sets["migrated"] == 20 && sets["failed"] == 0 && sets["pending"] == 0)

        // ldapsearch: every user's mailHost on the new host, the quota split.
        let users = try bed.search(attributes: ["uid", "mailHost", "mailQuota", "mailQuotaSize", "mailQuotaCount"])
        #expect(users.count == 21, "20 users and the probe")
        for user in users {
            let uid = user["uid"]?.first ?? "?"
            #expect(user["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]], "\(uid)")
            #expect(user["mailQuota"] == nil, "\(uid): mailQuota was split")
            #expect(user["mailQuotaSize"]?.count == 1 && user["mailQuotaCount"]?.count == 1, "\(uid)")
        }
        let ceres = try #require(users.first { $0["uid"] == ["ceres"] })
        #expect(ceres["mailQuotaSize"] == ["10000000"] && ceres["mailQuotaCount"] == ["5000000"])

        // Every file under the old root is under the new one, same bytes.
        let after = files(bed["RELEVO_NEW_ROOT"])
        #expect(after == before)
        #expect(files(bed["RELEVO_OLD_ROOT"]) == before, "the old host is left as it was")
        // Given to vmail.
        let owner = try FileManager.default.attributesOfItem(atPath: bed["RELEVO_NEW_ROOT"] + "/ceres/cur")[.ownerAccountName] as? String
        #expect(owner == "vmail")

        // After the three canaries, sets ran at once (the plan's concurrency
        // of 4): some set started before the one before it had finished.
        let db = try Database(path: bed.journal, readOnly: true)
        let spans = try db.query("""
            SELECT min(intent_at), max(result_at) FROM steps WHERE phase = 'users' GROUP BY set_key ORDER BY min(intent_at)
            """) { ($0.double(0), $0.double(1)) }
        #expect(spans.count == 20)
        let overlapping = zip(spans, spans.dropFirst()).filter { $1.0 < $0.1 }.count
        #expect(overlapping > 0, "no two sets were in flight at once")
        #expect(zip(spans.prefix(3), spans.dropFirst().prefix(3)).allSatisfy { $1.0 >= $0.1 }, "the canaries ran alone")
    }

    @Test func killedAtRandomPointsAndResumedEndsInTheSameState() throws {
        let bed = try LiveBed("kill")
        defer { bed.tearDown() }
        let original = files(bed["RELEVO_OLD_ROOT"])
        var generator = SeededGenerator(seed: 20261204)
        var kills = 0
        for round in 0..<5 {
            if round > 0 {
                let reset = try bed.bed.script("reset")
                try #require(reset.status == 0, "\(reset)")
                try? FileManager.default.removeItem(atPath: bed.journal)
                try? FileManager.default.removeItem(atPath: bed.journal + ".lock")
                try? FileManager.default.removeItem(atPath: bed.journal + ".work")
            }
            var status: Int32 = -1
            var attempts = 0
            while status != 0 && attempts < 12 {
                let resume = FileManager.default.fileExists(atPath: bed.journal)
                let process = try bed.startRelevo(["run", livePlan, "--yes", "--approve", "all", "--journal", bed.journal,
                                                   "--format", "json"] + (resume ? ["--resume"] : []))
                // Kill at a random point of most attempts; let the last ones finish.
                if attempts < 3 {
                    usleep(UInt32.random(in: 100_000...1_400_000, using: &generator))
                    if kill(process.pid, SIGKILL) == 0 { kills += 1 }
                }
                let result = process.wait()
                status = result.status
                if status != 0 && !result.killed {
                    Issue.record("round \(round) attempt \(attempts) exited \(status): \(result.stderr)")
                    break
                }
                attempts += 1
            }
            #expect(status == 0, "round \(round) never finished")
            // The same final state as an uninterrupted run.
            let users = try bed.search(attributes: ["uid", "mailHost"])
            #expect(users.count == 21)
            #expect(users.allSatisfy { $0["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]] }, "round \(round)")
            let moved = messages(bed["RELEVO_NEW_ROOT"])
            let expected = messages(bed["RELEVO_OLD_ROOT"])
            #expect(moved == expected, "round \(round): no message lost or duplicated")
            #expect(moved.values.allSatisfy { $0.count == 1 })
            #expect(files(bed["RELEVO_NEW_ROOT"]).keys.filter { $0.contains("/tmp/") }.isEmpty, "no temporary file left")
            #expect(files(bed["RELEVO_OLD_ROOT"]) == original)
            let snapshot = try JournalInspection.inspect(path: bed.journal)
            #expect(snapshot.counts(phase: "users")[.migrated] == 20)
            #expect(snapshot.inFlight.isEmpty)
        }
        #expect(kills >= 5, "the runs were really killed (\(kills) kills)")
    }

    /// A `run-command` step runs its argument vector on the host for each
    /// user (a value with shell metacharacters stays one argument), and
    /// undo runs its `undo` vector for the user undone only.
    @Test func aRunCommandStepRunsOnTheHostAndUndoReversesIt() throws {
        let bed = try LiveBed("runcmd")
        defer { bed.tearDown() }
        let text = try String(contentsOfFile: livePlan, encoding: .utf8)
        let step = """
              - chown:    { path: "store-xalumno:${store}" }
              - run-command: { on: xalumno, run: [touch, "${env:RELEVO_NEW_ROOT}/ran-${uid}; echo x"], undo: [rm, "--", "${env:RELEVO_NEW_ROOT}/ran-${uid}; echo x"] }
        """
        let plan = bed.work + "/run-command.yaml"
        let changed = text.replacingOccurrences(of: "      - chown:    { path: \"store-xalumno:${store}\" }\n", with: step + "\n")
        try #require(changed != text)
        try changed.write(toFile: plan, atomically: true, encoding: .utf8)

        let run = try bed.run(plan: plan)
        #expect(run.status == 0, "\(run)")
        let root = bed["RELEVO_NEW_ROOT"]
        let ran = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix("ran-") }
        #expect(ran.count == 20, "one file per user, each name one argument: \(ran.prefix(3))")
        #expect(ran.contains("ran-ceres; echo x"))

        let undo = try bed.relevo(["undo", plan, "--journal", bed.journal, "--set", "ceres", "--yes"])
        #expect(undo.status == 0, "\(undo)")
        #expect(!FileManager.default.fileExists(atPath: root + "/ran-ceres; echo x"), "undo ran the undo vector")
        #expect(FileManager.default.fileExists(atPath: root + "/ran-icovilla; echo x"), "and only for that user")
    }

    @Test func theOldHostGoingDownMidRunUndoesTheUserAndHalts() throws {
        let bed = try LiveBed("sshdown")
        defer { bed.tearDown() }
        let process = try bed.startRelevo(["run", livePlan, "--yes", "--approve", "all", "--journal", bed.journal,
                                           "--format", "json"])
        try waitForMigrated(3, journal: bed.journal, process: process)
        let sshd = try #require(bed.bed.pid("sshd-neon"))
        killTree(sshd)
        let result = process.wait()
        #expect(result.status == 3, "\(result)")
        try #require(!result.stdout.isEmpty, "a summary, not an error: \(result)")
        let summary = try json(result.stdout)
        #expect(summary["halted"] as? Bool == true, "\(result)")
        let reason = summary["halt_reason"] as? String ?? ""
        #expect(reason.contains("neon") || reason.contains("127."), "the report says which host: \(reason)")

        let snapshot = try JournalInspection.inspect(path: bed.journal)
        // The sets in flight when the host went down (up to the plan's
        // concurrency of 4) were each caught by the failure and undone.
        let failed = snapshot.sets.filter { $0.phase == "users" && ($0.state == .failed || $0.state == .undone) }
        #expect((1...4).contains(failed.count), "the users in flight were caught by the failure: \(failed.map(\.set))")
        for uid in failed.compactMap(\.set) {
            let entry = try #require(try bed.search(filter: "(uid=\(uid))", attributes: ["mailHost"]).first)
            #expect(entry["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]], "\(uid) points back at the old host")
            // Nothing partial visible: whatever the new host holds for that
            // user is whole messages of the old Maildir.
            let old = messages(bed["RELEVO_OLD_ROOT"]).filter { $0.key.hasPrefix(uid + "/") }
            let new = messages(bed["RELEVO_NEW_ROOT"]).filter { $0.key.hasPrefix(uid + "/") }
            for (name, hashes) in new { #expect(old[name] == hashes, "\(name) is a whole copy") }
        }
        // Users after them were not started.
        #expect(snapshot.counts(phase: "users")[.migrated] ?? 0 >= 3)
        let pending = try bed.search(attributes: ["uid", "mailHost"]).filter { $0["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]] }
        #expect(pending.count == 20 - (snapshot.counts(phase: "users")[.migrated] ?? 0))
    }

    @Test func theDirectoryGoingDownMidRunStopsWithoutPartialState() throws {
        let bed = try LiveBed("ldapdown")
        defer { bed.tearDown() }
        let process = try bed.startRelevo(["run", livePlan, "--yes", "--approve", "all", "--journal", bed.journal,
                                           "--format", "json"])
        try waitForMigrated(3, journal: bed.journal, process: process)
        let slapd = try #require(bed.bed.pid("slapd-new"))
        kill(slapd, SIGKILL)
        let result = process.wait()
        #expect(result.status == 3, "\(result)")
        // Bring the directory back and look: every user is on one host with
        // all of their mail there.
        _ = try bed.bed.script("up")
        let users = try bed.search(attributes: ["uid", "mailHost"])
        #expect(users.count == 21)
        let old = messages(bed["RELEVO_OLD_ROOT"]), new = messages(bed["RELEVO_NEW_ROOT"])
        for user in users {
            let uid = user["uid"]?.first ?? ""
            guard uid != "probe" else { continue }
            let expected = old.filter { $0.key.hasPrefix(uid + "/") }
            if user["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]] {
                let there = new.filter { $0.key.hasPrefix(uid + "/") }
                #expect(there == expected, "\(uid) points at the new host, which has all of their mail")
            } else {
                #expect(user["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]], "\(uid)")
            }
        }
        // A resume with the directory back finishes the job.
        let resumed = try bed.run(["--resume"])
        #expect(resumed.status == 0 || resumed.status == 3, "\(resumed)")
    }

    @Test func aDestinationThatRefusesWritesUndoesTheUser() throws {
        let bed = try LiveBed("rofs")
        defer { bed.tearDown() }
        // The new host's store refuses writes: a read-only bind mount.
        let root = bed["RELEVO_NEW_ROOT"]
        let bind = try ProcessResult.run("/bin/mount", ["--bind", root, root])
        try #require(bind.status == 0, "\(bind)")
        defer { _ = try? ProcessResult.run("/bin/umount", [root]) }
        let ro = try ProcessResult.run("/bin/mount", ["-o", "remount,ro,bind", root])
        try #require(ro.status == 0, "\(ro)")

        let result = try bed.run()
        #expect(result.status == 3, "\(result)")
        let summary = try json(result.stdout)
        #expect((summary["halt_reason"] as? String ?? "").contains("check that the store is writable"),
                "the report says why: \(summary["halt_reason"] ?? "")")
        let users = try bed.search(attributes: ["uid", "mailHost"])
        #expect(users.filter { $0["uid"] != ["probe"] }.allSatisfy { $0["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]] },
                "nobody points at a store without their mail")
        #expect(files(root).isEmpty)
    }

    @Test func undoPutsAUserBackAndAHandChangeIsAConflict() throws {
        let bed = try LiveBed("undo")
        defer { bed.tearDown() }
        let run = try bed.run()
        try #require(run.status == 0, "\(run)")
        let others = files(bed["RELEVO_NEW_ROOT"]).filter { !$0.key.hasPrefix("ceres/") && !$0.key.hasPrefix("icovilla/") }

        let undo = try bed.relevo(["undo", livePlan, "--journal", bed.journal, "--set", "ceres", "--yes"])
        #expect(undo.status == 0, "\(undo)")
        #expect(undo.stdout.contains("undone    users/ceres"))
        let ceres = try #require(try bed.search(filter: "(uid=ceres)", attributes: ["mailHost"]).first)
        #expect(ceres["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]])
        #expect(messages(bed["RELEVO_NEW_ROOT"]).keys.filter { $0.hasPrefix("ceres/") }.isEmpty,
                "the messages the run placed for ceres are gone from the new host")
        #expect(messages(bed["RELEVO_OLD_ROOT"]).keys.contains { $0.hasPrefix("ceres/") }, "and are still on the old one")

        // icovilla's mailHost is changed by hand: undo refuses to touch it.
        let hand = try bed.ldapmodify("""
            dn: uid=icovilla,dc=exalumno,dc=unam,dc=mx
            changetype: modify
            replace: mailHost
            mailHost: elsewhere.servidores.unam.mx

            """)
        try #require(hand.status == 0, "\(hand)")
        let conflict = try bed.relevo(["undo", livePlan, "--journal", bed.journal, "--set", "icovilla", "--yes"])
        #expect(conflict.status == 3, "\(conflict)")
        #expect(conflict.stdout.contains("conflict  users/icovilla"), "\(conflict.stdout)")
        let icovilla = try #require(try bed.search(filter: "(uid=icovilla)", attributes: ["mailHost"]).first)
        #expect(icovilla["mailHost"] == ["elsewhere.servidores.unam.mx"], "left as the operator set it")
        #expect(messages(bed["RELEVO_NEW_ROOT"]).keys.contains { $0.hasPrefix("icovilla/") })
        let now = files(bed["RELEVO_NEW_ROOT"]).filter { !$0.key.hasPrefix("ceres/") && !$0.key.hasPrefix("icovilla/") }
        #expect(now == others, "nobody else was touched")

        let status = try bed.relevo(["status", bed.journal])
        #expect(status.stdout.contains("19 migrated, 1 undone"), "\(status.stdout)")
    }
}

/// Waits until the journal shows `count` migrated users (or fails when the
/// process ended first or it takes too long).
func waitForMigrated(_ count: Int, journal: String, process: RunningProcess) throws {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        if !process.process.isRunning {
            Issue.record("relevo ended before \(count) users migrated: \(process.wait())")
            return
        }
        if let snapshot = try? JournalInspection.inspect(path: journal),
           snapshot.counts(phase: "users")[.migrated] ?? 0 >= count { return }
        usleep(5_000)
    }
    Issue.record("\(count) users did not migrate within 60 s")
}

/// SplitMix64 from RelevoBasics: seeded, the same on every machine.
typealias SeededGenerator = SplitMix64
