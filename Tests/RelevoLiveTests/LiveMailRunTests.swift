import Foundation
import RelevoJournal
import Testing
import TestbedSupport

let liveMailPlan = Testbed.root.appendingPathComponent("examples/exalumno/live-mail.yaml").path

/// `relevo run examples/exalumno/live-mail.yaml` against a testbed with its
/// mail hosts: the mail gates pass against the real Postfix and Dovecot,
/// and fail (with the alert mailed) when the servers refuse.
@Suite(.serialized) struct LiveMailRunTests {
    @Test func mailGatesPassAgainstTheRealServers() throws {
        let bed = try LiveBed("livemail", mail: true)
        defer { bed.tearDown() }
        let run = try bed.run(plan: liveMailPlan)
        #expect(run.status == 0, "\(run)")
        let summary = try json(run.stdout)
        let sets = try #require(summary["sets"] as? [String: Int])
        #expect(sets["migrated"] == 20 && sets["failed"] == 0)

        let evidence = try gateEvidence(bed.journal)
        // The rehearsal's probe went through xalumno's Postfix and was read back.
        #expect(evidence.contains { $0.hasPrefix("smtp-xalumno (") && $0.contains("queued as") }, "\(evidence)")
        #expect(evidence.contains { $0.hasPrefix("a message with subject 'relevo rehearsal' is in probe") })
        #expect(evidence.contains { $0.hasPrefix("probe logged in through imap-xalumno") })
        // Each user logged in through neon's Dovecot, which proxied to xalumno:
        // the INBOX it shows is the migrated one (ceres: the fixture's messages).
        let ceres = try #require(evidence.first { $0.hasPrefix("ceres logged in through imap-neon") })
        let count = files(bed["RELEVO_NEW_ROOT"] + "/ceres").count
        #expect(ceres.hasSuffix("INBOX holds \(count) messages"), "\(ceres); \(count) files on xalumno")
        #expect(evidence.contains { $0.hasPrefix("ceres logged in over POP3 through pop3-neon") })
    }

    @Test func aRefusedLoginFailsTheGateAndTheAlertIsMailed() throws {
        let bed = try LiveBed("livemailbad", mail: true)
        defer { bed.tearDown() }
        let wrong = bed.work + "/wrong-master.password"
        #expect(FileManager.default.createFile(atPath: wrong, contents: Data("not-the-master-password".utf8),
                                       attributes: [.posixPermissions: 0o600]))
        let run = try bed.relevo(["run", liveMailPlan, "--yes", "--approve", "all", "--journal", bed.journal, "--format", "json"],
                                 environment: ["RELEVO_MAIL_MASTER_PASSWORD_FILE": wrong])
        #expect(run.status != 0, "\(run)")
        let evidence = try gateEvidence(bed.journal)
        let refused = try #require(evidence.first { $0.hasPrefix("imap-xalumno: imap") }, "\(evidence)")
        #expect(refused.contains("authentication refused"), "\(refused)")
        // No user moved: the run halted at the rehearsal.
        let users = try bed.search(attributes: ["uid", "mailHost"])
        #expect(users.filter { $0["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]] }.map { $0["uid"] ?? [] } == [["probe"]])

        // The alert: in the notification log, and mailed to the probe user.
        let log = try String(contentsOfFile: bed.journal + ".work/notifications.log", encoding: .utf8)
        #expect(log.contains("ops <probe@exalumno.unam.mx>:") && log.contains("[mailed through smtp-xalumno"), "\(log)")
        let probeBox = bed["RELEVO_NEW_ROOT"] + "/probe/new"
        let alert = try eventually {
            try FileManager.default.contentsOfDirectory(atPath: probeBox).contains { name in
                let text = (try? String(contentsOfFile: probeBox + "/" + name, encoding: .utf8)) ?? ""
                return text.contains("Subject: relevo: ")
            }
        }
        #expect(alert, "the alert is in the probe user's Maildir on xalumno")
        // The wrong password never left its file.
        for file in [bed.journal, bed.journal + ".work/notifications.log"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(data.range(of: Data("not-the-master-password".utf8)) == nil, "\(file)")
        }
        #expect(!run.stdout.contains("not-the-master-password") && !run.stderr.contains("not-the-master-password"))
    }

    /// Every step's evidence in the journal, in order.
    func gateEvidence(_ journal: String) throws -> [String] {
        try JournalInspection.inspect(path: journal).steps.map { $0.record.outcome?.evidence ?? "" }
    }
}
