import Foundation
import Testing
import TestbedSupport

/// A testbed of its own (own state folder, own loopback addresses), so that
/// this test can check the exact initial state and take the testbed through
/// up, up again, reset, a crash, a stale pid file and down without disturbing
/// the shared testbed the other tests use.
final class PrivateTestbed {
    let dir: String
    let oldAddress: String
    let newAddress: String

    init() {
        dir = "/tmp/relevo-testbed-lifecycle-\(UUID().uuidString.prefix(8).lowercased())"
        // Loopback addresses nobody else uses: 127.1xx.yyy.2 and .3.
        let a = Int.random(in: 100...199), b = Int.random(in: 1...250)
        oldAddress = "127.\(a).\(b).2"
        newAddress = "127.\(a).\(b).3"
    }

    var environment: [String: String] {
        // Nothing of the shared testbed's variables (scripts/test exports them).
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RELEVO_") }
        environment["RELEVO_TESTBED_DIR"] = dir
        environment["RELEVO_TESTBED_OLD_ADDRESS"] = oldAddress
        environment["RELEVO_TESTBED_NEW_ADDRESS"] = newAddress
        return environment
    }

    func script(_ command: String) throws -> Run {
        try Tool.run("bash", [Testbed.root.appendingPathComponent("scripts/testbed").path, command],
                     environment: environment, timeout: 600)
    }

    func pid(_ daemon: String) -> String? {
        guard let text = try? String(contentsOfFile: "\(dir)/run/\(daemon).pid", encoding: .utf8) else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func pids() -> [String?] { ["slapd-old", "slapd-new", "sshd-neon", "sshd-xalumno"].map(pid) }

    func tearDown() {
        if let down = try? script("down"), down.status != 0 {
            Issue.record("scripts/testbed down failed: \(down)")
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite struct TestbedLifecycleTests {
    @Test func upUpResetCrashStalePidDown() throws {
        let bed = PrivateTestbed()
        defer { bed.tearDown() }

        // First up: everything created and started; stdout holds only exports.
        let first = try bed.script("up")
        try #require(first.status == 0, "\(first)")
        let lines = first.stdout.split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.hasPrefix("export RELEVO_") }, "\(first.stdout)")
        let variables = Testbed.parseExports(first.stdout)
        for name in requiredVariables { #expect(variables[name] != nil, "\(name) missing") }
        let clients = Clients(variables: variables)
        #expect(clients["RELEVO_TESTBED_DIR"] == bed.dir)
        #expect(clients["RELEVO_LDAP_URI"] == "ldap://\(bed.newAddress):3389")
        #expect(clients["RELEVO_LDAPS_URI"] == "ldaps://\(bed.newAddress):3636")
        #expect(clients["RELEVO_OLD_LDAP_URI"] == "ldap://\(bed.oldAddress):3389")
        #expect(clients["RELEVO_OLD_LDAPS_URI"] == "ldaps://\(bed.oldAddress):3636")
        #expect(clients["RELEVO_OLD_SSH"] == "\(bed.oldAddress):2222")
        #expect(clients["RELEVO_NEW_SSH"] == "\(bed.newAddress):2222")
        #expect(clients["RELEVO_OLD_ROOT"] == "\(bed.dir)/hosts/neon/home1/maildirs")
        #expect(clients["RELEVO_NEW_ROOT"] == "\(bed.dir)/hosts/xalumno/var/qmail/maildirs")
        let password = try Data(contentsOf: URL(fileURLWithPath: clients["RELEVO_LDAP_PASSWORD_FILE"]))
        #expect(first.stdout.range(of: String(decoding: password, as: UTF8.self)) == nil)
        #expect(first.stderr.range(of: String(decoding: password, as: UTF8.self)) == nil)
        let started = bed.pids()
        #expect(started.allSatisfy { $0 != nil }, "\(started)")

        // Second up: the same variables, the same processes.
        let second = try bed.script("up")
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout == first.stdout)
        #expect(bed.pids() == started)
        let status = try bed.script("status")
        #expect(status.status == 0, "\(status)")

        try expectInitialState(clients)

        // Change all three: the new directory, the old one, the store roots.
        let add = try Tool.run("ldapadd", ["-x", "-H", clients["RELEVO_LDAP_URI"], "-D", adminDN,
                                           "-y", clients["RELEVO_LDAP_PASSWORD_FILE"]],
                               input: "dn: \(suffix)\nobjectClass: top\nobjectClass: dcObject\n"
                                   + "objectClass: organization\no: exalumno\ndc: exalumno\n")
        #expect(add.status == 0, "the admin could not add the base entry to the empty new directory: \(add)")
        let modify = try Tool.run("ldapmodify", ["-x", "-H", clients["RELEVO_OLD_LDAP_URI"], "-D", adminDN,
                                                 "-y", clients["RELEVO_LDAP_PASSWORD_FILE"]],
                                  input: "dn: uid=ceres,\(suffix)\nchangetype: modify\n"
                                      + "replace: mailHost\nmailHost: xalumno.servidores.unam.mx\n")
        #expect(modify.status == 0, "\(modify)")
        try FileManager.default.removeItem(atPath: "\(clients["RELEVO_OLD_ROOT"])/ceres")
        _ = FileManager.default.createFile(atPath: "\(clients["RELEVO_NEW_ROOT"])/stray", contents: Data("x".utf8))
        let changed = try clients.search(clients["RELEVO_LDAP_URI"], base: suffix, scope: "base")
        #expect(changed.status == 0, "\(changed)")

        // Reset: back to the initial state.
        let reset = try bed.script("reset")
        #expect(reset.status == 0, "\(reset)")
        #expect(reset.stdout.isEmpty)
        // Stopped by SIGTERM, cleanly, not killed after the timeout.
        #expect(!reset.stderr.contains("KILL"), "\(reset)")
        try expectInitialState(clients)
        let afterReset = bed.pids()
        #expect(afterReset.allSatisfy { $0 != nil }, "reset stopped something: \(afterReset)")
        #expect(afterReset[2] == started[2] && afterReset[3] == started[3], "reset restarted an sshd")

        // A crash: slapd-new killed, its pid file left behind. up recovers.
        let crashed = try #require(bed.pid("slapd-new"))
        let kill = try Tool.run("bash", ["-c", "kill -KILL \"$1\"", "kill", crashed])
        #expect(kill.status == 0, "\(kill)")
        try waitUntil("slapd-new has died") { !FileManager.default.fileExists(atPath: "/proc/\(crashed)/cmdline") }
        #expect(FileManager.default.fileExists(atPath: "\(bed.dir)/run/slapd-new.pid"))
        let partial = try bed.script("status")
        #expect(partial.status == 1, "\(partial)")
        let recovered = try bed.script("up")
        #expect(recovered.status == 0, "\(recovered)")
        #expect(recovered.stdout == first.stdout)
        #expect(bed.pid("slapd-new") != crashed)
        #expect(bed.pid("slapd-old") == afterReset[0])
        #expect(bed.pid("sshd-neon") == afterReset[2])
        let whoami = try clients.whoami(clients["RELEVO_LDAP_URI"], startTLS: true)
        #expect(whoami.status == 0, "\(whoami)")

        // A stale pid file naming somebody else's process: down must leave it
        // alone, and up must start the daemon anyway.
        let down = try bed.script("down")
        #expect(down.status == 0, "\(down)")
        let bystander = Process()
        bystander.executableURL = URL(fileURLWithPath: "/bin/sleep")
        bystander.arguments = ["120"]
        try bystander.run()
        defer { if bystander.isRunning { bystander.terminate() } }
        let bystanderPid = String(bystander.processIdentifier)
        for daemon in ["slapd-old", "sshd-neon"] {
            try Data(bystanderPid.utf8).write(to: URL(fileURLWithPath: "\(bed.dir)/run/\(daemon).pid"))
        }
        let downAgain = try bed.script("down")
        #expect(downAgain.status == 0, "\(downAgain)")
        #expect(bystander.isRunning, "down killed a process that is not the testbed's")
        let stopped = try bed.script("status")
        #expect(stopped.status == 3, "\(stopped)")
        let upAgain = try bed.script("up")
        #expect(upAgain.status == 0, "\(upAgain)")
        #expect(bystander.isRunning)
        #expect(bed.pid("slapd-old") != bystanderPid && bed.pid("sshd-neon") != bystanderPid)
        let ssh = try clients.ssh(clients["RELEVO_OLD_SSH"], command: "echo up")
        #expect(ssh.status == 0 && ssh.stdout == "up\n", "\(ssh)")
        bystander.terminate()

        // Down: nothing of this testbed runs any more.
        let last = try bed.script("down")
        #expect(last.status == 0, "\(last)")
        #expect(!last.stderr.contains("KILL"), "\(last)")
        for daemon in ["slapd-old", "slapd-new"] {
            let log = (try? String(contentsOfFile: "\(bed.dir)/log/\(daemon).log", encoding: .utf8)) ?? ""
            #expect(log.suffix(400).contains("slapd stopped."), "\(daemon) did not shut down cleanly")
        }
        let gone = try bed.script("status")
        #expect(gone.status == 3, "\(gone)")
        let leftovers = commandLines().filter { $0.value.range(of: Data(bed.dir.utf8)) != nil }
        #expect(leftovers.isEmpty, "still running: \(leftovers.keys.sorted())")
        let refused = try clients.whoami(clients["RELEVO_OLD_LDAP_URI"])
        #expect(refused.status != 0, "something still answers on \(clients["RELEVO_OLD_LDAP_URI"])")
    }

    /// The state of a fresh or reset testbed: the old directory exactly the
    /// fixture LDIF, the new one with its suffix but no entry at all, the old
    /// store root a copy of the fixture Maildirs (times kept), the new one empty.
    func expectInitialState(_ clients: Clients, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fixture = try String(contentsOfFile: fixtureLDIF, encoding: .utf8)
        let fixtureEntries = parseLDIF(fixture.replacingOccurrences(of: "\n ", with: ""))
        #expect(fixtureEntries.count == 22, sourceLocation: sourceLocation)

        let old = try clients.search(clients["RELEVO_OLD_LDAP_URI"], base: suffix,
                                     attributes: ["uid", "mailQuota", "mailMessageStore", "mailHost"])
        #expect(old.status == 0, "\(old)", sourceLocation: sourceLocation)
        let entries = parseLDIF(old.stdout)
        #expect(Set(entries.map(\.dn)) == Set(fixtureEntries.map(\.dn)), sourceLocation: sourceLocation)
        for expected in fixtureEntries {
            guard let entry = entries.first(where: { $0.dn == expected.dn }) else { continue }
            for name in ["uid", "mailQuota", "mailHost"] {
                #expect(entry.first(name) == expected.first(name), "\(expected.dn) \(name)",
                        sourceLocation: sourceLocation)
            }
            // mailMessageStore names the path on the testbed's neon.
            let store = expected.first("mailMessageStore").map {
                $0.replacingOccurrences(of: "/home1/maildirs/", with: clients["RELEVO_OLD_ROOT"] + "/")
            }
            #expect(entry.first("mailMessageStore") == store, "\(expected.dn) mailMessageStore",
                    sourceLocation: sourceLocation)
        }
        let ceres = entries.first { $0.first("uid") == "ceres" }
        #expect(ceres?.first("mailHost") == "neon.servidores.unam.mx", sourceLocation: sourceLocation)
        #expect(ceres?.first("mailQuota") == "10000000S,5000000C", sourceLocation: sourceLocation)

        // New directory: the suffix is served, but there is no entry at all,
        // not even the base entry (the plan's import adds it).
        let root = try clients.search(clients["RELEVO_LDAP_URI"], base: "", scope: "base",
                                      attributes: ["namingContexts"], bind: false)
        #expect(root.stdout.contains("namingContexts: \(suffix)"), "\(root)", sourceLocation: sourceLocation)
        let new = try clients.search(clients["RELEVO_LDAP_URI"], base: suffix)
        #expect(new.status == 32, "the new directory is not empty: \(new)", sourceLocation: sourceLocation)
        #expect(parseLDIF(new.stdout).isEmpty, sourceLocation: sourceLocation)

        let copy = tree(clients["RELEVO_OLD_ROOT"]), original = tree(fixtureMaildirs)
        #expect(original.count > 100, sourceLocation: sourceLocation)
        #expect(copy == original, "the old store root differs from the fixture", sourceLocation: sourceLocation)
        let newRoot = try FileManager.default.contentsOfDirectory(atPath: clients["RELEVO_NEW_ROOT"])
        #expect(newRoot.isEmpty, "\(newRoot)", sourceLocation: sourceLocation)
    }

    func waitUntil(_ what: String, seconds: Double = 10, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { throw ToolTimeout(command: "waiting until \(what)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
