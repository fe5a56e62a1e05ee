import Foundation
import RelevoBasics
import RelevoMail
import Testing
import TestbedSupport

/// The mail probes against the testbed's real Postfix and Dovecot, on a
/// testbed of their own (`IsolatedTestbed(mail: true)`): they pass, and
/// they fail for the right reason.
@Suite struct MailProbeTests {
    @Test func smtpIMAPAndPOP3ProbesPassAgainstTheRealServers() throws {
        let (bed, mail) = try MailTestbed.start("mail")
        defer { bed.down() }
        // Through the MX (the new host) to a user whose mailHost is the old one.
        let message = MailMessage(from: "probe@relevo.invalid", to: ["ceres@exalumno.unam.mx"], subject: "probe one")
        let receipt = try SMTPProbe.send(message, via: mail.smtp(.new))
        #expect(receipt.reply.hasPrefix("250"))
        #expect(receipt.queueID != nil, "Postfix names its queue id: \(receipt.reply)")

        let imap = try IMAPSession(endpoint: mail.imap(.new), credentials: try mail.master(for: "ceres"))
        let found = try eventually { try imap.search(messageID: message.messageID).first }
        let text = String(decoding: try imap.fetch(uid: found), as: UTF8.self)
        #expect(text.contains("Subject: probe one"))
        #expect(text.contains(message.messageID))
        #expect(try imap.messageCount() >= 12)   // the fixture's messages and the probe

        let (count, bytes) = try POP3Probe.stat(via: mail.pop3(.old), credentials: try mail.master(for: "ceres"))
        #expect(count >= 12 && bytes > 0)

        #expect(try SMTPProbe.verify("ceres@exalumno.unam.mx", via: mail.smtp(.new)).hasPrefix("252"))
    }

    @Test func probesFailForTheRightReason() throws {
        let (bed, mail) = try MailTestbed.start("mail")
        defer { bed.down() }
        // A Message-ID that is not there: missing message.
        let imap = try IMAPSession(endpoint: mail.imap(.new), credentials: try mail.master(for: "ceres"))
        let missing = #expect(throws: MailError.self) {
            _ = try imap.message(withID: "<no-such-message@relevo.invalid>")
        }
        #expect(missing?.kind == .missingMessage)

        let wrong = MailCredentials(user: "ceres*relevo", password: Secret(bytes: Array("not-the-password".utf8), reference: "env:WRONG"))
        // A wrong password: authentication refused, and the error names the
        // reference, never a password. (Last: Dovecot then delays logins
        // from this address for a while.)
        let imapError = #expect(throws: MailError.self) {
            _ = try IMAPSession(endpoint: mail.imap(.new), credentials: wrong).messageCount()
        }
        #expect(imapError?.kind == .authenticationRefused, "\(String(describing: imapError))")
        #expect(!"\(String(describing: imapError))".contains("not-the-password"))
        let popError = #expect(throws: MailError.self) {
            _ = try POP3Probe.stat(via: mail.pop3(.new), credentials: wrong)
        }
        #expect(popError?.kind == .authenticationRefused, "\(String(describing: popError))")

        // An unknown recipient: rejected by Postfix's recipient checks.
        let unknown = #expect(throws: MailError.self) {
            _ = try SMTPProbe.send(MailMessage(from: "probe@relevo.invalid", to: ["nobody@exalumno.unam.mx"], subject: "x"),
                                   via: mail.smtp(.new))
        }
        #expect(unknown?.kind == .rejected, "\(String(describing: unknown))")

        // STARTTLS: with the testbed's CA it works; without it the
        // certificate is not trusted.
        var tls = mail.smtp(.new)
        tls.security = .startTLS
        tls.caFile = bed["RELEVO_LDAP_CA_FILE"]
        _ = try SMTPProbe.send(MailMessage(from: "probe@relevo.invalid", to: ["ceres@exalumno.unam.mx"], subject: "tls"), via: tls)
        tls.caFile = nil
        let untrusted = #expect(throws: MailError.self) {
            _ = try SMTPProbe.send(MailMessage(from: "probe@relevo.invalid", to: ["ceres@exalumno.unam.mx"], subject: "tls"), via: tls)
        }
        #expect(untrusted?.kind == .tls, "\(String(describing: untrusted))")
    }

    /// Daemons killed: host down, within the timeout.
    @Test func aKilledDaemonIsHostDown() throws {
        let (bed, mail) = try MailTestbed.start("mailkill")
        defer { bed.down() }
        for daemon in ["dovecot-neon", "postfix-xalumno"] {
            let pid = try #require(bed.pid(daemon))
            kill(pid, SIGKILL)
            _ = try eventually { kill(pid, 0) == 0 ? nil : true }
        }
        let start = Date()
        let imap = #expect(throws: MailError.self) {
            _ = try IMAPSession(endpoint: mail.imap(.old), credentials: try mail.master(for: "ceres")).messageCount()
        }
        #expect(imap?.kind == .cannotConnect, "\(String(describing: imap))")
        let smtp = #expect(throws: MailError.self) {
            _ = try SMTPProbe.send(MailMessage(from: "probe@relevo.invalid", to: ["ceres@exalumno.unam.mx"], subject: "x"),
                                   via: mail.smtp(.new))
        }
        #expect(smtp?.kind == .cannotConnect, "\(String(describing: smtp))")
        #expect(Date().timeIntervalSince(start) < 10)
    }
}

/// The mail part of a testbed's variables as probe endpoints.
struct MailTestbed {
    enum Side { case old, new }
    let bed: IsolatedTestbed

    init(_ bed: IsolatedTestbed) { self.bed = bed }

    /// A testbed of its own with the mail hosts, started; `down()` it after.
    static func start(_ name: String) throws -> (IsolatedTestbed, MailTestbed) {
        let bed = IsolatedTestbed(name: name, mail: true)
        do { try bed.up() } catch { bed.down(); throw error }
        return (bed, MailTestbed(bed))
    }

    func endpoint(_ variable: String) -> MailEndpoint {
        let value = bed[variable]
        let colon = value.lastIndex(of: ":")!
        return MailEndpoint(host: String(value[..<colon]), port: Int(value[value.index(after: colon)...])!,
                            connectTimeout: 15, timeout: 20)
    }

    func smtp(_ side: Side) -> MailEndpoint { endpoint(side == .old ? "RELEVO_OLD_SMTP" : "RELEVO_NEW_SMTP") }
    func imap(_ side: Side) -> MailEndpoint { endpoint(side == .old ? "RELEVO_OLD_IMAP" : "RELEVO_NEW_IMAP") }
    func pop3(_ side: Side) -> MailEndpoint { endpoint(side == .old ? "RELEVO_OLD_POP3" : "RELEVO_NEW_POP3") }

    /// The master login on behalf of `user`, its password read from the
    /// testbed's 0600 file.
    func master(for user: String) throws -> MailCredentials {
        let file = bed["RELEVO_MAIL_MASTER_PASSWORD_FILE"]
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        return .master(bed["RELEVO_MAIL_MASTER_USER"], password: Secret(bytes: bytes, reference: "file:\(file)"), for: user)
    }
}

/// Retries `body` until it returns a value (mail takes a moment to arrive).
func eventually<T>(seconds: Double = 20, line: Int = #line, _ body: () throws -> T?) throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try body() { return value }
        if Date() > deadline { throw TestbedError(message: "not within \(seconds) s (line \(line))") }
        Thread.sleep(forTimeInterval: 0.2)
    }
}
