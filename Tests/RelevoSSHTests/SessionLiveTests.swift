// Live tests of SSHSession against the testbed's real sshd daemons.
import Foundation
import RelevoBasics
import RelevoSSH
import Testing

@Suite struct SessionLiveTests {
    let live: Live
    init() throws { live = try Live.make() }

    @Test(arguments: Side.allCases)
    func exitStatusesAndSignals(_ side: Side) throws {
        let session = try live.connect(side)
        #expect(try session.run(["true"]).exitStatus == 0)
        #expect(try session.run(["false"]).exitStatus == 1)
        let seven = try session.run(["sh", "-c", "echo out; echo err >&2; exit 7"])
        #expect(seven.exitStatus == 7)
        #expect(seven.signal == nil)
        #expect(seven.stdoutText == "out\n")
        #expect(seven.stderrText == "err\n")
        let killed = try session.run(["sh", "-c", "kill -KILL $$"])
        #expect(killed.signal == "KILL")
        #expect(killed.exitStatus == nil)
        #expect(try session.run(["no-such-program-relevo"]).exitStatus == 127)
    }

    @Test func prefersCurve25519AndReportsTheScannedFingerprint() throws {
        let session = try live.connect(.old)
        #expect(session.algorithms.keyExchange == "curve25519-sha256")
        #expect(session.algorithms.cipher == "aes128-ctr")
        let (host, port) = try live.address(.old)
        let scanned = try scannedKeys(host: host, port: port)
        #expect(scanned.fingerprints.values.contains(session.hostKeyFingerprint),
                "\(session.hostKeyFingerprint) not in \(scanned.fingerprints)")
    }

    static let hostile: [String] = [
        "; rm -rf relevo-nonexistent", "$(touch relevo-pwned)", "`touch relevo-pwned`", "*)(uid=*", "*",
        "line1\nline2", "it's", "''", "'", "\"double\"", "back\\slash", "$HOME", "${IFS}", "-n", "--", "-e",
        "", " leading", "trailing ", "a  b", "tab\there", "!", "#not a comment", "&& false", "| cat", "> out",
        "< in", "~", "\r", "ñandú 漢字 🚀", "%s%d", "\u{7f}\u{1}",
    ]

    @Test func hostileArgumentsComeBackByteIdentical() throws {
        let session = try live.connect(.old)
        let result = try session.run(["printf", "%s\\0"] + Self.hostile)
        #expect(result.exitStatus == 0, "\(result.stderrText)")
        var expected: [UInt8] = []
        for argument in Self.hostile { expected += Array(argument.utf8) + [0] }
        #expect(result.stdout == expected)
        let back = result.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast()
            .map { String(decoding: $0, as: UTF8.self) }
        #expect(Array(back) == Self.hostile)
    }

    @Test func touchWithInjectionCreatesOneLiteralFile() throws {
        let session = try live.connect(.old)
        try live.withScratch(session, .old) { folder in
            let name = "x;rm -rf relevo-nonexistent;y $(touch relevo-pwned) `touch relevo-pwned` *)(uid=*) 'q' \"d\""
            let touched = try session.run(["touch", "--", folder + "/" + name])
            #expect(touched.exitStatus == 0, "\(touched.stderrText)")
            let listing = try session.run(["ls", "-A", "--", folder])
            #expect(listing.stdoutText == name + "\n")
            let sftp = try SFTPClient(session: session)
            #expect(try sftp.list(folder).map(\.name) == [name])
            // Nothing ran in the login directory either.
            #expect(try session.run(["test", "-e", "relevo-pwned"]).exitStatus == 1)
        }
    }

    @Test func stdinPassesThroughBothWays() throws {
        let session = try live.connect(.new)
        // Larger than libssh2's 2 MiB channel window, so writing and reading interleave.
        let input = randomBytes(5 * 1024 * 1024 + 17)
        let echoed = try session.run(["cat"], stdin: input)
        #expect(echoed.exitStatus == 0)
        #expect(echoed.stdout == input)
        #expect(try session.run(["wc", "-c"], stdin: []).stdoutText.trimmingCharacters(in: .whitespaces) == "0\n")
        #expect(try session.run(["cat"]).stdout.isEmpty, "nil stdin is closed at once")
        // A command that does not read its input still ends normally.
        #expect(try session.run(["true"], stdin: randomBytes(4 * 1024 * 1024)).exitStatus == 0)
    }

    @Test func streamsStdoutInChunks() throws {
        let session = try live.connect(.old)
        var total = 0, chunks = 0, largest = 0
        let result = try session.stream(["head", "-c", "6000000", "/dev/zero"]) { chunk in
            total += chunk.count
            chunks += 1
            largest = max(largest, chunk.count)
            #expect(chunk.allSatisfy { $0 == 0 })
        }
        #expect(result.exitStatus == 0)
        #expect(result.stdout.isEmpty)
        #expect(total == 6_000_000)
        #expect(chunks > 1)
        #expect(largest <= 256 * 1024)

        struct Stop: Error {}
        #expect(throws: Stop.self) {
            _ = try session.stream(["head", "-c", "6000000", "/dev/zero"]) { _ in throw Stop() }
        }
        #expect(try session.run(["echo", "still usable"]).stdoutText == "still usable\n")
    }

    @Test func emptyKnownHostsIsUnknownKeyBeforeAuthentication() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let empty = temp.path + "/known_hosts"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let (host, port) = try live.address(.old)
        // A missing identity file would fail authentication: the host key check must come first.
        let endpoint = try live.endpoint(.old, identityFile: .some(temp.path + "/no-such-key"),
                                         knownHostsFile: empty)
        let (error, _) = expectSSHError { _ = try SSHSession(connecting: endpoint) }
        guard case .unknownHostKey(let h, let p, let fingerprint) = error else {
            Issue.record("expected unknownHostKey, got \(String(describing: error))")
            return
        }
        #expect(h == host && p == port)
        let scanned = try scannedKeys(host: host, port: port)
        #expect(scanned.fingerprints.values.contains(fingerprint), "\(fingerprint) vs \(scanned.fingerprints)")
        #expect(error!.description.contains("ssh-keyscan -p \(port) \(host) >> known_hosts"))
        // A known_hosts file that does not exist behaves the same.
        let missing = try live.endpoint(.old, knownHostsFile: temp.path + "/absent")
        #expect(expectSSHError { _ = try SSHSession(connecting: missing) }.error?.kind == "unknownHostKey")
    }

    @Test func plainHostEntryDoesNotVouchForAnotherPort() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let (host, port) = try live.address(.old)
        let scanned = try scannedKeys(host: host, port: port)
        // The right keys, filed under the bare host name (which means port 22).
        let plain = scanned.lines.map { line -> String in
            let fields = line.split(separator: " ", maxSplits: 1)
            return host + " " + fields[1]
        }
        let file = temp.path + "/known_hosts"
        try (plain.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let endpoint = try live.endpoint(.old, knownHostsFile: file)
        #expect(expectSSHError { _ = try SSHSession(connecting: endpoint) }.error?.kind == "unknownHostKey")
    }

    @Test func hashedKnownHostsEntriesMatch() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let (host, port) = try live.address(.old)
        let file = temp.path + "/known_hosts"
        try (try scannedKeys(host: host, port: port).lines.joined(separator: "\n") + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let hashed = try local(["ssh-keygen", "-H", "-f", file])
        try #require(hashed.status == 0, "\(hashed.stderr)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.hasPrefix("|1|"))
        #expect(!text.contains(host))
        let session = try SSHSession(connecting: try live.endpoint(.old, knownHostsFile: file))
        #expect(try session.run(["true"]).succeeded)
    }

    @Test func differentKeyForTheHostIsAMismatch() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let (host, port) = try live.address(.old)
        let scanned = try scannedKeys(host: host, port: port)
        // Another key of each type the host has, filed under its name.
        var lines: [String] = []
        for (index, line) in scanned.lines.enumerated() {
            let type = String(line.split(separator: " ")[1])
            let keygenType: [String]
            switch type {
            case "ssh-ed25519": keygenType = ["-t", "ed25519"]
            case "ecdsa-sha2-nistp256": keygenType = ["-t", "ecdsa", "-b", "256"]
            case "ecdsa-sha2-nistp384": keygenType = ["-t", "ecdsa", "-b", "384"]
            case "ecdsa-sha2-nistp521": keygenType = ["-t", "ecdsa", "-b", "521"]
            default: keygenType = ["-t", "rsa", "-b", "2048"]
            }
            let keyFile = temp.path + "/other\(index)"
            try #require(try local(["ssh-keygen", "-q", "-N", ""] + keygenType + ["-f", keyFile]).status == 0)
            let publicKey = try String(contentsOfFile: keyFile + ".pub", encoding: .utf8).split(separator: " ")
            lines.append("[\(host)]:\(port) \(publicKey[0]) \(publicKey[1])")
        }
        let file = temp.path + "/known_hosts"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let (error, _) = expectSSHError { _ = try SSHSession(connecting: try live.endpoint(.old, knownHostsFile: file)) }
        guard case .hostKeyMismatch(let h, let p, let fingerprint) = error else {
            Issue.record("expected hostKeyMismatch, got \(String(describing: error))")
            return
        }
        #expect(h == host && p == port)
        #expect(scanned.fingerprints.values.contains(fingerprint))
    }

    @Test func revokedKeyIsAMismatchEvenWhenAlsoListed() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let (host, port) = try live.address(.old)
        let scanned = try scannedKeys(host: host, port: port)
        let revoked = scanned.lines.map { line -> String in
            let fields = line.split(separator: " ")
            return "@revoked * \(fields[1]) \(fields[2])"
        }
        let file = temp.path + "/known_hosts"
        try ((scanned.lines + revoked).joined(separator: "\n") + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let endpoint = try live.endpoint(.old, knownHostsFile: file)
        #expect(expectSSHError { _ = try SSHSession(connecting: endpoint) }.error?.kind == "hostKeyMismatch")
    }

    @Test func wrongOrMissingIdentityFailsAuthentication() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let wrongKey = temp.path + "/wrong"
        try #require(try local(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", wrongKey]).status == 0)
        let wrong = try live.endpoint(.old, identityFile: .some(wrongKey))
        let (error, _) = expectSSHError { _ = try SSHSession(connecting: wrong) }
        #expect(error?.kind == "authenticationFailed", "\(String(describing: error))")
        let missing = try live.endpoint(.old, identityFile: .some(temp.path + "/absent"))
        let (missingError, _) = expectSSHError { _ = try SSHSession(connecting: missing) }
        #expect(missingError?.kind == "authenticationFailed")
        #expect(missingError?.description.contains("cannot read the private key file") == true)
    }

    @Test func encryptedKeyWithPassphrase() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let copy = temp.path + "/encrypted"
        try FileManager.default.copyItem(atPath: live.testbed["RELEVO_SSH_IDENTITY"], toPath: copy)
        try #require(try local(["ssh-keygen", "-q", "-p", "-P", "", "-N", "correct horse", "-f", copy]).status == 0)
        var endpoint = try live.endpoint(.old, identityFile: .some(copy))
        endpoint.passphrase = Secret(bytes: Array("correct horse".utf8), reference: "env:TEST_PASSPHRASE")
        let session = try SSHSession(connecting: endpoint)
        #expect(try session.run(["true"]).succeeded)

        endpoint.passphrase = Secret(bytes: Array("wrong horse".utf8), reference: "env:TEST_PASSPHRASE")
        let (error, _) = expectSSHError { _ = try SSHSession(connecting: endpoint) }
        #expect(error?.kind == "authenticationFailed")
        #expect(error?.description.contains("horse") == false, "the passphrase must never print")
    }

    @Test func authenticatesThroughAnAgent() throws {
        let temp = try LocalTemp()
        defer { temp.remove() }
        let socket = temp.path + "/agent.sock"
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        agent.arguments = ["ssh-agent", "-D", "-a", socket]
        agent.standardOutput = FileHandle.nullDevice
        try agent.run()
        // SIGKILL: the agent inherits the test runner's blocked signals, SIGTERM among them.
        defer { kill(agent.processIdentifier, SIGKILL); agent.waitUntilExit() }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }

        var endpoint = try live.endpoint(.old, identityFile: .some(nil))
        endpoint.agentSocket = socket
        let (empty, _) = expectSSHError { _ = try SSHSession(connecting: endpoint) }
        #expect(empty?.kind == "authenticationFailed")
        #expect(empty?.description.contains("no keys") == true)

        let added = try local(["ssh-add", live.testbed["RELEVO_SSH_IDENTITY"]], environment: ["SSH_AUTH_SOCK": socket])
        try #require(added.status == 0, "ssh-add: \(added.stderr)")
        let session = try SSHSession(connecting: endpoint)
        #expect(try session.run(["true"]).succeeded)
    }

    @Test func closedPortFailsFast() throws {
        // A port that was free a moment ago and has no listener.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(fd)
        var endpoint = try live.endpoint(.old)
        endpoint.host = "127.0.0.1"
        endpoint.port = port
        let (error, seconds) = expectSSHError { _ = try SSHSession(connecting: endpoint) }
        guard case .connectionFailed(let host, let p, let reason) = error else {
            Issue.record("expected connectionFailed, got \(String(describing: error))")
            return
        }
        #expect(host == "127.0.0.1" && p == port)
        #expect(reason.lowercased().contains("refused"))
        #expect(seconds < 1)
    }

    @Test func silentServerTimesOutInBoundedTime() throws {
        // Accepts TCP connections (the kernel does, from the backlog) but never speaks SSH.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        try #require(listen(fd, 4) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        var endpoint = try live.endpoint(.old, timeout: 1.5)
        endpoint.host = "127.0.0.1"
        endpoint.port = port
        let (error, seconds) = expectSSHError { _ = try SSHSession(connecting: endpoint) }
        guard case .timeout(let host, let p, _) = error else {
            Issue.record("expected timeout, got \(String(describing: error))")
            return
        }
        #expect(host == "127.0.0.1" && p == port)
        #expect(error!.description.contains("127.0.0.1:\(port)"))
        #expect(seconds >= 1.4 && seconds < 5, "took \(seconds) s")
    }

    @Test func stoppedServerProcessTimesOutAndClosesTheSession() throws {
        let victim = try live.connect(.old, timeout: 2)
        let control = try live.connect(.old)
        let pid = try victim.run(["sh", "-c", sshdPidScript]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(Int(pid) != nil, "no sshd pid: \(pid)")
        try #require(try control.run(["kill", "-STOP", pid]).succeeded)
        defer { _ = try? control.run(["kill", "-KILL", pid]) }
        let (error, seconds) = expectSSHError { _ = try victim.run(["true"]) }
        #expect(error?.kind == "timeout", "\(String(describing: error))")
        // libssh2 counts its own waits (here: opening the channel) in
        // whole seconds of time(2): a 2 s timeout may end after 1 s.
        #expect(seconds >= 0.9 && seconds < 8, "took \(seconds) s")
        #expect(!victim.isUsable)
        #expect(expectSSHError { _ = try victim.run(["true"]) }.error?.kind == "connectionLost")
    }

    @Test func silentLongCommandIsNotAHungServer() throws {
        let session = try live.connect(.old, timeout: 1.5)
        let start = Date()
        let result = try session.run(["sleep", "4"])
        #expect(result.exitStatus == 0)
        #expect(Date().timeIntervalSince(start) >= 4)
    }

    @Test func commandTimeLimit() throws {
        let session = try live.connect(.old)
        let (error, seconds) = expectSSHError { _ = try session.run(["sleep", "30"], timeout: 1) }
        #expect(error?.kind == "timeout")
        #expect(seconds < 5)
        #expect(try session.run(["echo", "ok"]).stdoutText == "ok\n", "the session survives a command time limit")
    }

    @Test func refusesBadArgumentVectorsBeforeSending() throws {
        let session = try live.connect(.old)
        #expect(expectSSHError { _ = try session.run([]) }.error?.kind == "invalidArgument")
        #expect(expectSSHError { _ = try session.run(["echo", "a\u{0}b"]) }.error?.kind == "invalidArgument")
        #expect(try session.run(["true"]).succeeded)
    }
}
