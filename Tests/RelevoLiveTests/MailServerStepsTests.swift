import Foundation
import RelevoJournal
import Testing
import TestbedSupport

/// The mail-server steps (`reload`, `flush-cache`, `kick`, `flush-queue`)
/// run by `relevo run` against the testbed's real Postfix and Dovecot: each
/// has the effect it names, and fails when the server does not do it.
@Suite(.serialized) struct MailServerStepsTests {
    /// A plan whose one global phase runs `steps` on neon's mail servers.
    /// Its gate logs in over STARTTLS through `gateVia`.
    static func plan(_ steps: String, gateVia: String? = "imap-tls") -> String {
        let gates = gateVia.map { "    gates:\n      - imap-login: { via: \($0), user: ceres }\n" } ?? ""
        return """
        relevo: 1
        plan: mail-server-steps
        hosts:
          neon:
            address: ${env:RELEVO_OLD_SSH}
            ssh: { user: "${env:RELEVO_SSH_USER}", identity: "env:RELEVO_SSH_IDENTITY", known-hosts: "${env:RELEVO_KNOWN_HOSTS}" }
        elements:
          smtp-neon: { kind: smtp, on: neon, config: "${env:RELEVO_OLD_POSTFIX_CONFIG}" }
          imap-neon: { kind: imap, on: neon, config: "${env:RELEVO_OLD_DOVECOT_CONFIG}" }
          imap-broken: { kind: imap, on: neon, config: /nonexistent/dovecot.conf }
          imap-tls:
            kind: imap
            on: neon
            tls: starttls
            ca-file: ${env:RELEVO_LDAP_CA_FILE}
            master: { user: "${env:RELEVO_MAIL_MASTER_USER}", password: "file:${env:RELEVO_MAIL_MASTER_PASSWORD_FILE}" }
          imap-untrusted:
            kind: imap
            on: neon
            tls: starttls
            master: { user: "${env:RELEVO_MAIL_MASTER_USER}", password: "file:${env:RELEVO_MAIL_MASTER_PASSWORD_FILE}" }
        phases:
          - name: control
            steps:
        \(steps)
        \(gates)

        """
    }

    @Test func stepsActOnTheRealServers() throws {
        let bed = try LiveBed("mailsteps", mail: true)
        defer { bed.tearDown() }
        let mailbox = bed["RELEVO_OLD_ROOT"] + "/ceres"
        let postfixLog = bed["RELEVO_TESTBED_DIR"] + "/log/postfix-neon.log"
        let reloadsBefore = try reloads(postfixLog)

        // A message neon cannot deliver yet: ceres's tmp/ belongs to root.
        try must("/usr/bin/install", ["-d", "-o", "root", "-g", "root", "-m", "0700", mailbox + "/tmp"])
        try must("/bin/chown", ["root:root", mailbox + "/tmp"])
        let messageID = "<steps-\(UUID().uuidString)@relevo.test>"
        try must("/usr/bin/python3", ["-c", """
            import smtplib, sys
            s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20)
            s.sendmail("relevo@exalumno.unam.mx", ["ceres@exalumno.unam.mx"],
                       "Message-ID: %s\\r\\nSubject: deferred\\r\\n\\r\\nbody\\r\\n" % sys.argv[3])
            s.quit()
            """, bed["RELEVO_OLD_MAIL_ADDRESS"], bed["RELEVO_SMTP_PORT"], messageID])
        let config = bed["RELEVO_OLD_POSTFIX_CONFIG"]
        #expect(try eventually { try ProcessResult.run("/usr/sbin/postqueue", ["-c", config, "-j"]).stdout.contains("ceres@exalumno.unam.mx") },
                "the message waits in neon's queue")

        // Still undeliverable: flush-queue gives up after `within`, naming what waits.
        let plan = bed.work + "/steps.yaml"
        try Self.plan("""
                  - flush-queue: { element: smtp-neon, recipient: ceres@exalumno.unam.mx, within: 3s }
            """).write(toFile: plan, atomically: true, encoding: .utf8)
        let stuck = try bed.relevo(["run", plan, "--yes", "--journal", bed.work + "/stuck.journal"])
        #expect(stuck.status != 0, "\(stuck)")
        let stuckEvidence = try evidence(bed.work + "/stuck.journal")
        #expect(stuckEvidence.contains { $0.contains("still queued for ceres@exalumno.unam.mx in smtp-neon after 3 s") }, "\(stuckEvidence)")

        // An IMAP session of ceres, open on neon while the steps run.
        let session = try ProcessResult.start("/usr/bin/python3", ["-u", "-c", """
            import imaplib, sys, time
            m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]), timeout=30)
            m.login("ceres*" + sys.argv[3], open(sys.argv[4]).read())
            m.select("INBOX", readonly=True)
            print("open", flush=True)
            deadline = time.time() + 40
            try:
                while time.time() < deadline:
                    m.noop()
                    time.sleep(0.2)
                print("still open")
            except Exception as e:
                print("closed:", type(e).__name__, e)
            """, bed["RELEVO_OLD_MAIL_ADDRESS"], bed["RELEVO_IMAP_PORT"], bed["RELEVO_MAIL_MASTER_USER"],
            bed["RELEVO_MAIL_MASTER_PASSWORD_FILE"]], environment: ProcessInfo.processInfo.environment)
        defer { kill(session.pid, SIGKILL) }
        let doveadm = ["-c", bed["RELEVO_OLD_DOVECOT_CONFIG"], "who"]
        #expect(try eventually { try ProcessResult.run("/usr/bin/doveadm", doveadm).stdout.contains("ceres") }, "ceres's session is open")

        // Deliverable again: the steps reload, flush, kick and wait for the queue.
        try must("/bin/chown", ["vmail:vmail", mailbox + "/tmp"])
        try must("/bin/chmod", ["0755", mailbox + "/tmp"])
        try Self.plan("""
                  - reload: { element: smtp-neon }
                  - reload: { element: imap-neon }
                  - flush-cache: { element: imap-neon, user: ceres }
                  - kick: { element: imap-neon, user: ceres }
                  - flush-queue: { element: smtp-neon, recipient: ceres@exalumno.unam.mx, within: 30s }
            """).write(toFile: plan, atomically: true, encoding: .utf8)
        let run = try bed.relevo(["run", plan, "--yes", "--journal", bed.journal])
        #expect(run.status == 0, "\(run)")
        let steps = try evidence(bed.journal)
        #expect(steps.count == 6, "\(steps)")
        #expect(steps.last?.hasPrefix("ceres logged in through imap-tls (") == true, "STARTTLS with the testbed's CA: \(steps)")
        #expect(steps.first { $0.contains("postfix -c \(config) reload` exited 0") } != nil, "\(steps)")
        #expect(steps.first { $0.contains("auth cache flush ceres` exited 0") } != nil, "\(steps)")
        #expect(steps.first { $0.contains("kick ceres` exited 0") } != nil, "\(steps)")
        // 1 queued at first, unless Postfix's own retry (every 5 s on the
        // testbed) delivered it between the chown and the step.
        #expect(steps.first { $0.range(of: #"flushed smtp-neon's queue; [01] queued for ceres@exalumno.unam.mx at first, none after"#,
                                        options: .regularExpression) != nil } != nil, "\(steps)")
        #expect(try reloads(postfixLog) > reloadsBefore, "neon's Postfix logged the reload")

        let ended = session.wait()
        #expect(ended.stdout.contains("closed:"), "the kick ended ceres's open session: \(ended)")
        let delivered = (try FileManager.default.contentsOfDirectory(atPath: mailbox + "/new")).contains { name in
            ((try? String(contentsOfFile: mailbox + "/new/" + name, encoding: .utf8)) ?? "").contains(messageID)
        }
        #expect(delivered, "the flushed message is in ceres's Maildir on neon")

        // A kick with nobody logged in is still done (doveadm exits 68);
        // a server that cannot be reached fails the step.
        try Self.plan("""
                  - kick: { element: imap-neon, user: ceres }
                  - flush-cache: { element: imap-broken, user: ceres }
            """).write(toFile: plan, atomically: true, encoding: .utf8)
        let broken = try bed.relevo(["run", plan, "--yes", "--journal", bed.work + "/broken.journal"])
        #expect(broken.status != 0, "\(broken)")
        let brokenEvidence = try evidence(bed.work + "/broken.journal")
        #expect(brokenEvidence.first?.contains("kick ceres` exited 68: no users kicked") == true, "\(brokenEvidence)")
        #expect(brokenEvidence.last?.contains("/nonexistent/dovecot.conf auth cache flush ceres` exited") == true, "\(brokenEvidence)")

        // STARTTLS checks the server's certificate: with the element's
        // `ca-file` the gates above passed; without it (the system's CAs do
        // not sign the testbed's) the login fails for TLS.
        try Self.plan("""
                  - reload: { element: imap-neon }
            """, gateVia: "imap-untrusted").write(toFile: plan, atomically: true, encoding: .utf8)
        let untrusted = try bed.relevo(["run", plan, "--yes", "--journal", bed.work + "/untrusted.journal"])
        #expect(untrusted.status != 0, "\(untrusted)")
        let tlsEvidence = try evidence(bed.work + "/untrusted.journal")
        #expect(tlsEvidence.last?.hasPrefix("imap-untrusted: ") == true && tlsEvidence.last?.contains("tls") == true, "\(tlsEvidence)")
    }

    @Test func aDryRunRecordsTheCommands() throws {
        let folder = "/tmp/relevo-steps-dry-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plan = folder + "/steps.yaml"
        try Self.plan("""
                  - reload: { element: smtp-neon }
                  - kick: { element: imap-neon, user: ceres }
                  - flush-queue: { element: smtp-neon, recipient: ceres@exalumno.unam.mx }
            """, gateVia: nil).write(toFile: plan, atomically: true, encoding: .utf8)
        let environment = [
            "RELEVO_OLD_SSH": "127.0.0.1:1", "RELEVO_SSH_USER": "nobody", "RELEVO_SSH_IDENTITY": "/nonexistent",
            "RELEVO_KNOWN_HOSTS": "/nonexistent", "RELEVO_OLD_POSTFIX_CONFIG": "/etc/postfix-neon",
            "RELEVO_OLD_DOVECOT_CONFIG": "/etc/dovecot-neon/dovecot.conf", "PATH": "/usr/bin:/bin",
            "RELEVO_LDAP_CA_FILE": "/nonexistent/ca.crt", "RELEVO_MAIL_MASTER_USER": "relevo",
            "RELEVO_MAIL_MASTER_PASSWORD_FILE": "/nonexistent/master.password",
        ]
        let run = try ProcessResult.run(relevoBinary, ["simulate", plan, "--journal", folder + "/dry.journal"], environment: environment)
        #expect(run.status == 0, "\(run)")
        let steps = try evidence(folder + "/dry.journal")
        #expect(steps == [
            "neon: `postfix -c /etc/postfix-neon reload` (recorded, not run, in a dry run)",
            "neon: `doveadm -c /etc/dovecot-neon/dovecot.conf kick ceres` (recorded, not run, in a dry run)",
            "neon: `postqueue -c /etc/postfix-neon -f`, then `postqueue -c /etc/postfix-neon -j` until nothing is queued (recorded, not run, in a dry run)",
        ], "\(steps)")
    }

    func evidence(_ journal: String) throws -> [String] {
        try JournalInspection.inspect(path: journal).steps.map { $0.record.outcome?.evidence ?? "" }
    }

    /// Runs a tool of the test itself, which must succeed.
    @discardableResult
    func must(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        let result = try ProcessResult.run(executable, arguments)
        guard result.status == 0 else { throw TestbedError(message: "\(executable) \(arguments): \(result)") }
        return result
    }

    func reloads(_ log: String) throws -> Int {
        let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: log))) ?? Data(), as: UTF8.self)
        return text.components(separatedBy: "postfix/master").filter { $0.contains(": reload -- ") }.count
    }

}
