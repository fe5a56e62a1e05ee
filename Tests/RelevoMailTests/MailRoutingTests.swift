import Foundation
import RelevoBasics
import RelevoMail
import Testing
import TestbedSupport

/// The testbed's mail hosts route by mailHost, as qmail-ldap and Courier
/// did: Postfix delivers where the directory says, and a change of mailHost
/// takes effect with the next message once Postfix has been reloaded (its
/// queue manager keeps the last routing answer for about 30 s: measured,
/// see docs/testbed.md); Dovecot proxies a session to the user's mailHost.
@Suite struct MailRoutingTests {
    @Test func postfixDeliversByMailHostAndDovecotProxiesToIt() throws {
        let (bed, mail) = try MailTestbed.start("mailroute")
        defer { bed.down() }
        let oldBox = bed["RELEVO_OLD_ROOT"] + "/ceres"
        let newBox = bed["RELEVO_NEW_ROOT"] + "/ceres"

        // ceres's mailHost is the old host: mail through the MX (the new
        // host) is relayed to neon and lands in the old Maildir.
        let first = try send(to: "ceres", subject: "before", mail)
        _ = try eventually { try maildir(oldBox, holds: first) ? true : nil }
        #expect(try !maildir(newBox, holds: first))

        // mailHost changed in the directory (and Postfix's routing cache
        // dropped): the next message lands on the new host.
        try ldap(bed, uri: bed["RELEVO_OLD_LDAP_URI"], tool: "ldapmodify", """
            dn: uid=ceres,dc=exalumno,dc=unam,dc=mx
            changetype: modify
            replace: mailHost
            mailHost: \(bed["RELEVO_NEW_MAILHOST"])

            """)
        try reloadPostfix(bed)
        let second = try send(to: "ceres", subject: "after", mail)
        _ = try eventually { try maildir(newBox, holds: second) ? true : nil }
        #expect(try !maildir(oldBox, holds: second))
        let owner = try FileManager.default.attributesOfItem(atPath: newBox + "/new")[.ownerAccountName] as? String
        #expect(owner == "vmail")

        // IMAP on the old host is proxied to the new one: the session sees
        // the new Maildir (the second message, not the first).
        let throughOld = try IMAPSession(endpoint: mail.imap(.old), credentials: try mail.master(for: "ceres"))
        let uids = try throughOld.search(messageID: second)
        #expect(uids.count == 1, "\(uids)")
        #expect(try throughOld.search(messageID: first).isEmpty)
        #expect(try throughOld.messageCount() == 1)
        let log = try String(contentsOfFile: bed.dir + "/log/dovecot-neon.log", encoding: .utf8)
        #expect(log.contains("proxy(ceres,\(bed["RELEVO_NEW_MAIL_ADDRESS"]):"), "neon's Dovecot proxied the session")
        // POP3 too.
        #expect(try POP3Probe.stat(via: mail.pop3(.old), credentials: try mail.master(for: "ceres")).messages == 1)

        // The new directory comes first: once it holds ceres (mailHost the
        // old host), it decides, whatever the old directory says.
        try ldap(bed, uri: bed["RELEVO_LDAP_URI"], tool: "ldapadd", """
            dn: dc=exalumno,dc=unam,dc=mx
            objectClass: dcObject
            objectClass: organization
            o: exalumno
            dc: exalumno

            dn: uid=ceres,dc=exalumno,dc=unam,dc=mx
            objectClass: inetOrgPerson
            objectClass: qmailUser
            uid: ceres
            cn: ceres
            sn: ceres
            mail: ceres@exalumno.unam.mx
            mailMessageStore: \(oldBox)/
            mailHost: \(bed["RELEVO_OLD_MAILHOST"])

            """)
        try reloadPostfix(bed)
        let third = try send(to: "ceres", subject: "new directory", mail)
        _ = try eventually { try maildir(oldBox, holds: third) ? true : nil }
        #expect(try !maildir(newBox, holds: third))
    }

    /// `postfix reload` on both hosts: new queue managers, no cached route.
    func reloadPostfix(_ bed: IsolatedTestbed) throws {
        for host in ["neon", "xalumno"] {
            let result = try ProcessResult.run("/usr/sbin/postfix", ["-c", "\(bed.dir)/mail/postfix-\(host)/etc", "reload"],
                                               environment: bed.environment)
            #expect(result.status == 0, "\(result)")
        }
        Thread.sleep(forTimeInterval: 0.5)
    }

    func send(to user: String, subject: String, _ mail: MailTestbed) throws -> String {
        let message = MailMessage(from: "probe@relevo.invalid", to: ["\(user)@exalumno.unam.mx"], subject: subject)
        _ = try SMTPProbe.send(message, via: mail.smtp(.new))
        return message.messageID
    }

    /// Whether a message with this Message-ID is in the Maildir's new/ or cur/.
    func maildir(_ path: String, holds messageID: String) throws -> Bool {
        for sub in ["new", "cur"] {
            let folder = path + "/" + sub
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
                if text.contains("Message-ID: \(messageID)") { return true }
            }
        }
        return false
    }

    /// ldapmodify/ldapadd as the admin, the password read from its file.
    func ldap(_ bed: IsolatedTestbed, uri: String, tool: String, _ ldif: String) throws {
        let result = try ProcessResult.run("/usr/bin/\(tool)", ["-x", "-H", uri, "-D", bed["RELEVO_LDAP_BIND_DN"],
                                                                 "-y", bed["RELEVO_LDAP_PASSWORD_FILE"]],
                                           environment: bed.environment, stdin: ldif)
        #expect(result.status == 0, "\(result)")
    }
}
