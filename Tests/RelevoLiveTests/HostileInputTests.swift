import Foundation
import RelevoJournal
import Testing
import TestbedSupport

/// Hostile data on the live path: unknown host keys, store paths from the
/// directory that leave the store, links in a Maildir, uids full of shell and
/// LDAP metacharacters. More in the Hostile*Tests suites, PreflightRefusalTests
/// and SecretHygieneTests (docs/security.md).
@Suite(.serialized) struct HostileInputTests {
    @Test func anUnknownHostKeyStopsTheRunBeforeAnythingChanges() throws {
        let bed = try LiveBed("hostkey")
        defer { bed.tearDown() }
        let empty = bed.work + "/known_hosts"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        let result = try bed.relevo(["run", livePlan, "--yes", "--approve", "all", "--journal", bed.journal],
                                    environment: ["RELEVO_KNOWN_HOSTS": empty])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("is not in known_hosts (SHA256:"), "\(result.stderr)")
        #expect(result.stderr.contains(bed.bed.oldAddress), "names the host")
        #expect(result.stderr.contains("nothing was changed"))
        #expect(try bed.search().isEmpty, "the new directory is still empty")
        #expect(files(bed["RELEVO_NEW_ROOT"]).isEmpty)
    }

    @Test func storePathsOutsideTheStoreAndLinksAreRefused() throws {
        let bed = try LiveBed("paths")
        defer { bed.tearDown() }
        let root = bed["RELEVO_OLD_ROOT"]
        // Two users whose mailMessageStore leaves the store root.
        let added = try bed.ldapadd("""
            dn: uid=escape1,dc=exalumno,dc=unam,dc=mx
            objectClass: inetOrgPerson
            objectClass: qmailUser
            uid: escape1
            cn: escape1
            sn: escape1
            mail: escape1@exalumno.unam.mx
            mailQuota: 1000S,10C
            mailMessageStore: \(root)/../../../../../../etc/
            mailHost: \(bed["RELEVO_OLD_MAILHOST"])

            dn: uid=escape2,dc=exalumno,dc=unam,dc=mx
            objectClass: inetOrgPerson
            objectClass: qmailUser
            uid: escape2
            cn: escape2
            sn: escape2
            mail: escape2@exalumno.unam.mx
            mailQuota: 1000S,10C
            mailMessageStore: /etc/
            mailHost: \(bed["RELEVO_OLD_MAILHOST"])

            """)
        try #require(added.status == 0, "\(added)")
        let run = try bed.run()
        #expect(run.status == 3, "refused users count as not migrated: \(run)")
        let summary = try json(run.stdout)
        let sets = try #require(summary["sets"] as? [String: Int])
        #expect(sets["refused"] == 2 && sets["migrated"] == 20, "\(sets)")
        for uid in ["escape1", "escape2"] {
            let entry = try #require(try bed.search(filter: "(uid=\(uid))", attributes: ["mailHost"]).first)
            #expect(entry["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]], "\(uid) untouched")
        }
        #expect(!files(bed["RELEVO_NEW_ROOT"]).keys.contains { $0.contains("passwd") || $0.contains("etc") })

        // A link planted in a Maildir, to a file outside: that user's copy is
        // refused, the file behind the link is never read into the new store.
        let reset = try bed.bed.script("reset")
        try #require(reset.status == 0)
        try? FileManager.default.removeItem(atPath: bed.journal)
        try? FileManager.default.removeItem(atPath: bed.journal + ".work")
        try FileManager.default.createSymbolicLink(atPath: root + "/ceres/cur/1600000000.M1P1.neon,S=10:2,S",
                                                   withDestinationPath: "/etc/passwd")
        let linked = try bed.run()
        #expect(linked.status == 3, "\(linked)")
        let reason = try json(linked.stdout)["halt_reason"] as? String ?? ""
        #expect(reason.contains("ceres") && reason.contains("symbolic link"), "\(reason)")
        let ceres = try #require(try bed.search(filter: "(uid=ceres)", attributes: ["mailHost"]).first)
        #expect(ceres["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]])
        let passwd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
        for path in files(bed["RELEVO_NEW_ROOT"]).keys {
            let text = (try? String(contentsOfFile: bed["RELEVO_NEW_ROOT"] + "/" + path, encoding: .utf8)) ?? ""
            #expect(text != passwd, "\(path) holds /etc/passwd")
        }
    }

    @Test func uidsWithShellAndLDAPMetacharactersTouchOnlyTheirOwnEntry() throws {
        let bed = try LiveBed("uids")
        defer { bed.tearDown() }
        let root = bed["RELEVO_OLD_ROOT"]
        // Keys may not hold '/', so the injected commands touch a file by a
        // relative name: in a remote shell it would land in root's home.
        let marker = "relevo-pwned-\(UUID().uuidString.prefix(8))"
        let hostile = ["semi;colon", "$(touch \(marker))", "*)(uid=*", "back`touch \(marker)`tick"]
        var ldif = ""
        for (i, uid) in hostile.enumerated() {
            let folder = "hostile\(i)"
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(folder)/\(sub)", withIntermediateDirectories: true)
            }
            try Data("Subject: \(uid)\n\nhello\n".utf8).write(to: URL(fileURLWithPath: "\(root)/\(folder)/cur/170000000\(i).M1P1.neon,S=20:2,S"))
            ldif += """
                dn:: \(Data("uid=\(escapeDN(uid)),dc=exalumno,dc=unam,dc=mx".utf8).base64EncodedString())
                objectClass: inetOrgPerson
                objectClass: qmailUser
                uid:: \(Data(uid.utf8).base64EncodedString())
                cn: hostile \(i)
                sn: hostile
                mail: hostile\(i)@exalumno.unam.mx
                mailQuota: 1000S,10C
                mailMessageStore: \(root)/\(folder)/
                mailHost: \(bed["RELEVO_OLD_MAILHOST"])


                """
        }
        // And a uid with a newline: refused, never acted upon.
        ldif += """
            dn: cn=newline,dc=exalumno,dc=unam,dc=mx
            objectClass: inetOrgPerson
            objectClass: qmailUser
            uid:: \(Data("new\nline".utf8).base64EncodedString())
            cn: newline
            sn: newline
            mail: newline@exalumno.unam.mx
            mailQuota: 1000S,10C
            mailMessageStore: \(root)/ceres/
            mailHost: \(bed["RELEVO_OLD_MAILHOST"])

            """
        let added = try bed.ldapadd(ldif)
        try #require(added.status == 0, "\(added)")

        let run = try bed.run()
        #expect(run.status == 3, "the newline uid is refused: \(run)")
        let sets = try #require(try json(run.stdout)["sets"] as? [String: Int])
        #expect(sets["migrated"] == 24 && sets["refused"] == 1, "\(sets)")
        for folder in ["/root", "/", FileManager.default.currentDirectoryPath, bed.work] {
            #expect(!FileManager.default.fileExists(atPath: folder + "/" + marker), "no value reached a shell")
        }
        for (i, uid) in hostile.enumerated() {
            let entries = try bed.search(filter: "(mail=hostile\(i)@exalumno.unam.mx)", attributes: ["uid", "mailHost"])
            #expect(entries.count == 1 && entries.first?["uid"] == [uid])
            #expect(entries.first?["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]], "\(uid) migrated")
            #expect(files(bed["RELEVO_NEW_ROOT"] + "/hostile\(i)").count == 1, "\(uid)'s one message")
        }
        let newline = try #require(try bed.search(filter: "(cn=newline)", attributes: ["mailHost"]).first)
        #expect(newline["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]], "the refused entry is untouched")
        // Nobody else's entry was changed by a filter built from these uids.
        let all = try bed.search(attributes: ["uid", "mailHost"])
        #expect(all.filter { $0["mailHost"] == [bed["RELEVO_NEW_MAILHOST"]] }.count == 25, "24 users and the probe")
    }
}

/// RFC 4514 escaping for the test's DNs.
func escapeDN(_ value: String) -> String {
    var out = ""
    for (i, c) in value.enumerated() {
        if ",+\"\\<>;=".contains(c) || (i == 0 && (c == "#" || c == " ")) { out += "\\" }
        out.append(c)
    }
    return out
}
