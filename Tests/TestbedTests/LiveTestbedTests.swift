import Foundation
import Testing
import TestbedSupport

/// Checks, with the real client tools, the shared testbed the other live
/// tests use (`Testbed.shared()`: started by scripts/test, by a developer's
/// `eval "$(scripts/testbed up)"`, or here). Other suites may change its
/// data, so these tests check what no plan changes; the exact initial state
/// (new directory empty, the old one as the LDIF) is checked on a private
/// testbed by TestbedLifecycleTests.
@Suite struct LiveTestbedTests {
    let bed: Clients

    init() throws {
        bed = Clients(variables: try Testbed.shared().variables)
    }

    @Test func printsEveryVariable() {
        for name in requiredVariables {
            #expect(bed.variables[name]?.isEmpty == false, "\(name) missing")
        }
        #expect(bed["RELEVO_LDAP_BASE"] == suffix)
        #expect(bed["RELEVO_OLD_LDAP_BASE"] == suffix)
        #expect(bed["RELEVO_LDAP_BIND_DN"] == adminDN)
        #expect(bed["RELEVO_SSH_USER"] == "root")
        #expect(bed["RELEVO_OLD_MAILHOST"] == "neon.servidores.unam.mx")
        #expect(bed["RELEVO_NEW_MAILHOST"] == "xalumno.servidores.unam.mx")
        #expect(bed["RELEVO_LDAP_URI"].hasPrefix("ldap://"))
        #expect(bed["RELEVO_LDAPS_URI"].hasPrefix("ldaps://"))
        #expect(bed["RELEVO_LDAP_URI"] != bed["RELEVO_OLD_LDAP_URI"])
        #expect(bed["RELEVO_OLD_SSH"] != bed["RELEVO_NEW_SSH"])
    }

    @Test func oldDirectoryHasTheFixtureUsersWithMailQuota() throws {
        let run = try bed.search(bed["RELEVO_OLD_LDAP_URI"], base: bed["RELEVO_OLD_LDAP_BASE"],
                                 filter: "(objectClass=qmailUser)",
                                 attributes: ["uid", "mailQuota", "mailMessageStore", "mailHost"])
        #expect(run.status == 0, "\(run)")
        let users = parseLDIF(run.stdout)
        #expect(users.count >= 20, "\(users.count) qmailUser entries")
        for uid in ["ceres", "calewiro", "icovilla"] {
            guard let user = users.first(where: { $0.first("uid") == uid }) else {
                Issue.record("uid=\(uid) missing from the old directory")
                continue
            }
            #expect(user.dn == "uid=\(uid),\(suffix)")
            #expect(user.first("mailMessageStore") == bed["RELEVO_OLD_ROOT"] + "/\(uid)/",
                    "the path on the testbed's neon")
            #expect(user.first("mailHost")?.hasSuffix(".servidores.unam.mx") == true)
        }
        for user in users {
            let quota = user.first("mailQuota") ?? ""
            #expect(quota.wholeMatch(of: /[0-9]+S,[0-9]+C/) != nil, "\(user.dn): mailQuota \(quota)")
        }
    }

    @Test(arguments: ["RELEVO_OLD_LDAP_URI", "RELEVO_LDAP_URI"])
    func directoryServesTheSuffixAndTheAdmin(uriVariable: String) throws {
        let uri = bed[uriVariable]
        let root = try bed.search(uri, base: "", scope: "base", attributes: ["namingContexts"], bind: false)
        #expect(root.status == 0, "\(root)")
        let contexts = parseLDIF(root.stdout).first?.attributes["namingContexts"] ?? []
        #expect(contexts.contains(suffix), "\(contexts)")
        let whoami = try bed.whoami(uri)
        #expect(whoami.status == 0, "\(whoami)")
        #expect(whoami.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "dn:\(adminDN)")
    }

    @Test func wrongPasswordAndAnonymousReadsAreRefused() throws {
        let scratch = try Scratch()
        let wrong = scratch.file("wrong")
        try Data("not-the-password".utf8).write(to: URL(fileURLWithPath: wrong))
        let bind = try bed.whoami(bed["RELEVO_OLD_LDAP_URI"], passwordFile: wrong)
        #expect(bind.status == 49, "\(bind)")  // invalidCredentials
        // The old base entry exists, yet an anonymous client is not told so.
        let anonymous = try bed.search(bed["RELEVO_OLD_LDAP_URI"], base: suffix, scope: "base", bind: false)
        #expect(anonymous.status == 32, "\(anonymous)")
        let admin = try bed.search(bed["RELEVO_OLD_LDAP_URI"], base: suffix, scope: "base")
        #expect(admin.status == 0 && admin.stdout.contains("dn: \(suffix)"), "\(admin)")
    }

    @Test(arguments: [("RELEVO_OLD_LDAP_URI", "RELEVO_OLD_LDAPS_URI"), ("RELEVO_LDAP_URI", "RELEVO_LDAPS_URI")])
    func startTLSAndLDAPSVerifyWithTheCA(uris: (String, String)) throws {
        let (plain, ldaps) = (bed[uris.0], bed[uris.1])
        let startTLS = try bed.whoami(plain, startTLS: true)
        #expect(startTLS.status == 0, "\(startTLS)")
        #expect(startTLS.stdout.contains("dn:\(adminDN)"))
        let tls = try bed.whoami(ldaps)
        #expect(tls.status == 0, "\(tls)")
        #expect(tls.stdout.contains("dn:\(adminDN)"))

        // Another CA does not vouch for the server: both must fail.
        let scratch = try Scratch()
        let otherCA = scratch.file("other-ca.crt")
        let made = try Tool.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                            "-nodes", "-keyout", scratch.file("other-ca.key"), "-out", otherCA,
                                            "-days", "1", "-subj", "/CN=Not the testbed CA"])
        #expect(made.status == 0, "\(made)")
        let badStartTLS = try bed.whoami(plain, startTLS: true, caFile: otherCA)
        #expect(badStartTLS.status != 0, "StartTLS accepted a server the CA file does not vouch for")
        let badTLS = try bed.whoami(ldaps, caFile: otherCA)
        #expect(badTLS.status != 0, "ldaps accepted a server the CA file does not vouch for")
    }

    @Test(arguments: ["RELEVO_OLD_SSH", "RELEVO_NEW_SSH"])
    func sshdAcceptsTheTestbedKey(hostVariable: String) throws {
        let run = try bed.ssh(bed[hostVariable], command: "echo relevo-$((6 * 7)); id -u; test -d \(bed["RELEVO_NEW_ROOT"]) && echo roots")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "relevo-42\n0\nroots\n", "\(run)")
    }

    @Test(arguments: ["RELEVO_OLD_SSH", "RELEVO_NEW_SSH"])
    func emptyKnownHostsIsRefused(hostVariable: String) throws {
        let scratch = try Scratch()
        let empty = scratch.file("known_hosts")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let run = try bed.ssh(bed[hostVariable], knownHosts: empty, command: "true")
        #expect(run.status == 255, "\(run)")
        #expect(run.stderr.contains("Host key verification failed"), "\(run)")
    }

    @Test(arguments: ["RELEVO_OLD_SSH", "RELEVO_NEW_SSH"])
    func anotherKeyIsRefusedAndOnlyKeysAreOffered(hostVariable: String) throws {
        let scratch = try Scratch()
        let key = scratch.file("id_ed25519")
        let made = try Tool.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key])
        #expect(made.status == 0, "\(made)")
        let run = try bed.ssh(bed[hostVariable], identity: key,
                              extraOptions: ["-o", "PreferredAuthentications=publickey,password,keyboard-interactive"],
                              command: "true")
        #expect(run.status == 255, "\(run)")
        // The server lists the methods it allows: public key only.
        #expect(run.stderr.contains("Permission denied (publickey)"), "\(run)")
    }

    @Test func knownHostsNamesBothHostsWithTheirPorts() throws {
        let text = try String(contentsOfFile: bed["RELEVO_KNOWN_HOSTS"], encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        for variable in ["RELEVO_OLD_SSH", "RELEVO_NEW_SSH"] {
            let (host, port) = bed.split(bed[variable])
            let prefix = port == "22" ? "\(host) ssh-ed25519 " : "[\(host)]:\(port) ssh-ed25519 "
            #expect(lines.contains { $0.hasPrefix(prefix) }, "no line starting with \(prefix)")
        }
    }

    @Test func passwordFileIsPrivateWithoutNewline() throws {
        let path = bed["RELEVO_LDAP_PASSWORD_FILE"]
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        #expect(mode == 0o600, "mode \(String(mode, radix: 8))")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.count >= 16)
        #expect(data.last != UInt8(ascii: "\n") && data.last != UInt8(ascii: "\r"))
        #expect(!data.contains(UInt8(ascii: "\n")))
    }

    @Test func passwordIsInNoCommandLine() throws {
        let password = try Data(contentsOf: URL(fileURLWithPath: bed["RELEVO_LDAP_PASSWORD_FILE"]))
        #expect(password.count >= 16)
        let lines = commandLines()
        // The scan sees the testbed's daemons (they name files in its folder)...
        let dir = Data(bed["RELEVO_TESTBED_DIR"].utf8)
        let daemons = lines.filter { $0.value.range(of: dir) != nil }
        #expect(daemons.count >= 4, "the testbed's daemons are not among \(lines.count) command lines")
        // ...and none of them, nor anything else, carries the password.
        for (pid, line) in lines where line.range(of: password) != nil {
            Issue.record("the LDAP password is in /proc/\(pid)/cmdline")
        }
    }

    @Test func storeRootsAndTheStoreOwnerExist() throws {
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: bed["RELEVO_OLD_ROOT"], isDirectory: &isFolder) && isFolder.boolValue)
        #expect(FileManager.default.fileExists(atPath: bed["RELEVO_NEW_ROOT"], isDirectory: &isFolder) && isFolder.boolValue)
        #expect(bed["RELEVO_OLD_ROOT"].hasSuffix("/hosts/neon/home1/maildirs"))
        #expect(bed["RELEVO_NEW_ROOT"].hasSuffix("/hosts/xalumno/var/qmail/maildirs"))
        let passwd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
        let group = try String(contentsOfFile: "/etc/group", encoding: .utf8)
        #expect(passwd.split(separator: "\n").contains { $0.hasPrefix("vmail:") })
        #expect(group.split(separator: "\n").contains { $0.hasPrefix("vmail:") })
    }
}
