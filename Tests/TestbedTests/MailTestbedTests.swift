import Foundation
import Testing
import TestbedSupport

/// `scripts/testbed up --mail` on a testbed of its own: the four mail
/// daemons start, answer, are listed by `status`, are restarted when one
/// died, and are stopped by `down` by their pid after the command line
/// check (a pid file naming another process is left alone).
@Suite struct MailTestbedTests {
    static let mailDaemons = ["postfix-neon", "postfix-xalumno", "dovecot-neon", "dovecot-xalumno"]

    @Test func upMailStatusCrashAndDown() throws {
        let bed = IsolatedTestbed(name: "mailtb", mail: true)
        defer { bed.down() }
        try bed.up()
        for name in ["RELEVO_OLD_SMTP", "RELEVO_NEW_SMTP", "RELEVO_OLD_IMAP", "RELEVO_NEW_IMAP", "RELEVO_OLD_POP3",
                     "RELEVO_NEW_POP3", "RELEVO_MAIL_MASTER_USER", "RELEVO_MAIL_MASTER_PASSWORD_FILE", "RELEVO_MAIL_DOMAIN"] {
            #expect(bed.variables[name] != nil, "\(name)")
        }
        #expect(bed["RELEVO_NEW_SMTP"] == "\(bed.newAddress):25")
        // The mail servers' configurations, for the mail-server steps.
        let dir = bed["RELEVO_TESTBED_DIR"]
        #expect(bed["RELEVO_OLD_POSTFIX_CONFIG"] == dir + "/mail/postfix-neon/etc")
        #expect(bed["RELEVO_NEW_POSTFIX_CONFIG"] == dir + "/mail/postfix-xalumno/etc")
        #expect(bed["RELEVO_OLD_DOVECOT_CONFIG"] == dir + "/mail/dovecot-neon/dovecot.conf")
        #expect(bed["RELEVO_NEW_DOVECOT_CONFIG"] == dir + "/mail/dovecot-xalumno/dovecot.conf")
        for name in ["RELEVO_OLD_POSTFIX_CONFIG", "RELEVO_NEW_POSTFIX_CONFIG"] {
            #expect(FileManager.default.fileExists(atPath: bed[name] + "/main.cf"), "\(name)")
        }

        // The master password: 0600, 32 characters, no newline, in no command line.
        let file = bed["RELEVO_MAIL_MASTER_PASSWORD_FILE"]
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let password = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(password.count == 32 && !password.contains(0x0A))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            if let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), cmdline.range(of: password) != nil {
                Issue.record("the master password is in /proc/\(entry)/cmdline")
            }
        }

        // status: eight daemons running.
        let status = try bed.script("status")
        #expect(status.status == 0, "\(status)")
        for daemon in Self.mailDaemons {
            #expect(status.stdout.split(separator: "\n").contains { $0.contains(daemon) && $0.contains("running") },
                    "\(status.stdout)")
        }

        // A second up --mail only prints the variables.
        let again = try bed.script(["up", "--mail"])
        #expect(again.status == 0 && again.stderr.contains("already running"), "\(again)")

        // A crashed Dovecot: status says some run; up --mail starts it again.
        let crashed = try #require(bed.pid("dovecot-xalumno"))
        kill(crashed, SIGKILL)
        try waitFor { !Self.running(crashed) }
        #expect(try bed.script("status").status == 1)
        try bed.up()
        #expect(bed.pid("dovecot-xalumno") != crashed)
        #expect(try bed.script("status").status == 0)

        // down stops every mail daemon by its pid; a pid file that names some
        // other process (here a sleep) is not acted on.
        let pids = Self.mailDaemons.compactMap { bed.pid($0) }
        #expect(pids.count == 4)
        // Long enough to outlive two `down`s on a loaded machine (killed below).
        let stranger = try ProcessResult.start("/bin/sleep", ["3600"])
        defer { kill(stranger.pid, SIGKILL); _ = stranger.wait() }
        let down = try bed.script("down")
        #expect(down.status == 0, "\(down)")
        for pid in pids { #expect(!Self.running(pid), "pid \(pid) still runs after down") }
        // The stale pid file of a stopped Postfix now names the sleep.
        let pidFile = Testbed.pidFile("postfix-neon", dir: bed.dir)
        try FileManager.default.createDirectory(atPath: (pidFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "\(stranger.pid)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        #expect(try bed.script("down").status == 0)
        #expect(Self.running(stranger.pid), "down left the process its pid file wrongly names alone")
        #expect(try bed.script("status").status == 3)
    }

    /// A process that exists and is not a zombie (its parent may not have
    /// reaped it yet).
    static func running(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    func waitFor(_ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else { throw TestbedError(message: "timed out") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}
