import Foundation
import Testing
import TestbedSupport

/// What `relevo run` refuses before its first step (exit 3, "nothing was
/// changed"), against real sshd and slapd: SSH servers whose host key is
/// unknown, changed or revoked, and secret files that others may read, or
/// that are not files. Each time both directories, both stores and the
/// known_hosts file are the same afterwards, and no secret shows.
@Suite(.serialized) struct PreflightRefusalTests {
    @Test func unknownChangedAndRevokedHostKeysAndWideSecretFilesStopTheRunBeforeAnything() throws {
        let bed = try LiveBed("preflight")
        defer { bed.tearDown() }
        let fm = FileManager.default
        let knownHosts = try String(contentsOfFile: bed["RELEVO_KNOWN_HOSTS"], encoding: .utf8)
        let oldAddress = bed.bed.oldAddress, newAddress = bed.bed.newAddress
        let lines = knownHosts.split(separator: "\n").map(String.init)
        let neonLine = try #require(lines.first { $0.hasPrefix("[\(oldAddress)]:") })
        let xalumnoLine = try #require(lines.first { $0.hasPrefix("[\(newAddress)]:") })
        // A key that is no host's: what an impostor would present.
        let fake = bed.work + "/impostor"
        let keygen = try ProcessResult.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", fake])
        try #require(keygen.status == 0, "\(keygen)")
        let fakeKey = try String(contentsOfFile: fake + ".pub", encoding: .utf8).split(separator: " ")[1]
        func replacingKey(_ line: String) -> String {
            var fields = line.split(separator: " ").map(String.init)
            fields[2] = String(fakeKey)
            return fields.joined(separator: " ")
        }
        func write(_ name: String, _ text: String, mode: Int16 = 0o600) throws -> String {
            let path = bed.work + "/" + name
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            #expect(chmod(path, mode_t(mode)) == 0)
            return path
        }
        let password = try String(contentsOfFile: bed["RELEVO_LDAP_PASSWORD_FILE"], encoding: .utf8)
        let identity = try String(contentsOfFile: bed["RELEVO_SSH_IDENTITY"], encoding: .utf8)

        var cases: [(name: String, environment: [String: String], message: String)] = [
            ("unknown host key", ["RELEVO_KNOWN_HOSTS": try write("kh-unknown", xalumnoLine + "\n")],
             "host key of \(oldAddress):2222 is not in known_hosts (SHA256:"),
            ("changed host key (old host)", ["RELEVO_KNOWN_HOSTS": try write("kh-neon", replacingKey(neonLine) + "\n" + xalumnoLine + "\n")],
             "HOST KEY MISMATCH for \(oldAddress):2222"),
            ("changed host key (new host)", ["RELEVO_KNOWN_HOSTS": try write("kh-xalumno", neonLine + "\n" + replacingKey(xalumnoLine) + "\n")],
             "HOST KEY MISMATCH for \(newAddress):2222"),
            ("revoked host key", ["RELEVO_KNOWN_HOSTS": try write("kh-revoked", knownHosts + "@revoked " + neonLine + "\n")],
             "HOST KEY MISMATCH for \(oldAddress):2222"),
        ]
        for mode: Int16 in [0o640, 0o644, 0o604, 0o660, 0o606, 0o700 | 0o004] {
            let file = try write("password-\(String(mode, radix: 8))", password, mode: mode)
            cases.append(("password file mode \(String(mode, radix: 8))",
                          ["RELEVO_LDAP_PASSWORD_FILE": file, "RELEVO_OLD_LDAP_PASSWORD_FILE": file],
                          "\(file) has mode \(String(mode, radix: 8)); group and others must have no access (chmod 600 \(file))"))
        }
        let wideKey = try write("identity-644", identity, mode: 0o644)
        cases.append(("SSH key mode 644", ["RELEVO_SSH_IDENTITY": wideKey],
                      "\(wideKey) has mode 644; group and others must have no access"))
        let linked = bed.work + "/password-link"
        try fm.createSymbolicLink(atPath: linked, withDestinationPath: try write("password-behind", password, mode: 0o644))
        cases.append(("link to a wide password file", ["RELEVO_LDAP_PASSWORD_FILE": linked, "RELEVO_OLD_LDAP_PASSWORD_FILE": linked],
                      "\(linked) has mode 644"))
        let fifo = bed.work + "/password-fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        cases.append(("FIFO as password file", ["RELEVO_LDAP_PASSWORD_FILE": fifo, "RELEVO_OLD_LDAP_PASSWORD_FILE": fifo],
                      "\(fifo) is not a regular file"))

        let stores = [bed["RELEVO_OLD_ROOT"], bed["RELEVO_NEW_ROOT"]]
        let before = try bed.snapshot(trees: stores)
        for (i, c) in cases.enumerated() {
            let journal = bed.work + "/run-\(i).journal"
            let result = try bed.relevo(["run", livePlan, "--yes", "--approve", "all", "--journal", journal], environment: c.environment)
            #expect(result.status == 3, "\(c.name): \(result)")
            #expect(result.stderr.contains("relevo: error: before the first step: "), "\(c.name): \(result.stderr)")
            #expect(result.stderr.contains(c.message), "\(c.name): \(result.stderr)")
            #expect(result.stderr.contains("help: nothing was changed"), "\(c.name): \(result.stderr)")
            let output = result.stdout + result.stderr
            #expect(!output.contains(password) && !output.contains(identity.split(separator: "\n")[1]), "\(c.name): a secret shows")
        }
        let after = try bed.snapshot(trees: stores)
        #expect(differences(before.old, after.old).isEmpty && differences(before.new, after.new).isEmpty)
        #expect(after.new.isEmpty, "the new directory is still empty")
        #expect(after.trees == before.trees)
        #expect(try String(contentsOfFile: bed["RELEVO_KNOWN_HOSTS"], encoding: .utf8) == knownHosts, "relevo never adds a key")
    }
}
