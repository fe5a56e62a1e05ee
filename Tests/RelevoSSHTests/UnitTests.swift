// Unit tests: no server needed.
import Foundation
import RelevoBasics
@testable import RelevoSSH
import Testing

@Suite struct ShellQuotingTests {
    @Test func everyArgumentIsSingleQuoted() throws {
        #expect(try ShellQuoting.command(["ls", "-l", "a b"]) == "'ls' '-l' 'a b'")
        #expect(try ShellQuoting.quote("") == "''")
        #expect(try ShellQuoting.quote("plain") == "'plain'")
    }

    @Test func singleQuotesAreClosedEscapedAndReopened() throws {
        #expect(try ShellQuoting.quote("it's") == "'it'\\''s'")
        #expect(try ShellQuoting.quote("'") == "''\\'''")
        #expect(try ShellQuoting.quote("''") == "''\\'''\\'''")
    }

    @Test(arguments: [
        "; rm -rf /", "$(touch pwned)", "`id`", "*)(uid=*", "a\nb", "\"x\"", "\\", "$HOME", "-n", "--",
        "!", "#c", "a  b", "tab\there", "ñ 漢字", "&& true", "| cat", "> out", "~", "\r", "${IFS}",
    ])
    func hostileTextStaysInsideQuotes(_ text: String) throws {
        let quoted = try ShellQuoting.quote(text)
        #expect(quoted.hasPrefix("'") && quoted.hasSuffix("'"))
        // Between the outer quotes, a quote only ever appears as '\''.
        let inner = String(quoted.dropFirst().dropLast())
        #expect(inner.replacingOccurrences(of: "'\\''", with: "").contains("'") == false)
        #expect(inner.replacingOccurrences(of: "'\\''", with: "'") == text)
    }

    @Test func variablesAreSetByTheShellWhichThenBecomesTheProgram() throws {
        #expect(try ShellQuoting.command(["find", "-P", "a b"], environment: [("LC_ALL", "C")])
                == "LC_ALL='C' exec 'find' '-P' 'a b'")
        #expect(try ShellQuoting.command(["ls"], environment: []) == "'ls'")
        #expect(try ShellQuoting.command(["ls"], environment: [("_A1", "it's"), ("B", "")])
                == "_A1='it'\\''s' B='' exec 'ls'")
        for name in ["", "1A", "A-B", "A=B", "A B", "$X", "A;B", "ñ", "`id`"] {
            #expect(throws: SSHError.self, "\(name)") { try ShellQuoting.command(["ls"], environment: [(name, "x")]) }
        }
        #expect(throws: SSHError.self) { try ShellQuoting.command(["ls"], environment: [("A", "x\u{0}")]) }
        #expect(throws: SSHError.self) { try ShellQuoting.command([], environment: [("A", "x")]) }
    }

    /// `check` refuses exactly what building the line refuses (the agent's
    /// requests are checked with it).
    @Test func checkRefusesWhatTheCommandLineRefuses() throws {
        let cases: [(argv: [String], environment: [(name: String, value: String)])] = [
            (["ls"], []), (["ls", "a b", "it's"], [("LC_ALL", "C"), ("_A1", "")]),
            ([], []), ([], [("A", "x")]), (["ls", "a\u{0}b"], []), (["\u{0}"], []), (["ls"], [("A", "x\u{0}")]),
            (["ls"], [("", "x")]), (["ls"], [("A=B", "x")]), (["ls"], [("1A", "x")]), (["ls"], [("ñ", "x")]),
        ]
        for (argv, environment) in cases {
            let built = (try? ShellQuoting.command(argv, environment: environment)) != nil
            let checked = (try? ShellQuoting.check(argv, environment: environment)) != nil
            #expect(built == checked, "\(argv) \(environment)")
        }
        try ShellQuoting.check(["ls", "-l"], environment: [("LC_ALL", "C")])
        #expect(throws: SSHError.self) { try ShellQuoting.check(["ls"], environment: [("A B", "x")]) }
    }

    /// The line run by real shells: the program gets the variable and its
    /// arguments exactly, whatever they hold.
    @Test(arguments: ["/bin/sh", "/bin/bash"])
    func aRealShellSetsTheVariableExactly(_ shell: String) throws {
        let values = ["C", "$(touch /tmp/relevo-pwned)", "a'b", "`id`", "x\ny", "; exit 3", "${IFS}", "ñ 漢字", ""]
        for value in values {
            let line = try ShellQuoting.command(["printenv", "RELEVO_VALUE"], environment: [("RELEVO_VALUE", value)])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: shell)
            process.arguments = ["-c", line]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(shell): \(line)")
            #expect(String(decoding: output, as: UTF8.self) == value + "\n", "\(shell): \(line)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/relevo-pwned"))
    }

    @Test func nulAndEmptyVectorsAreRefused() {
        #expect(throws: SSHError.self) { try ShellQuoting.quote("a\u{0}b") }
        #expect(throws: SSHError.self) { try ShellQuoting.command([]) }
        #expect(throws: SSHError.self) { try ShellQuoting.command(["echo", "x\u{0}"]) }
        do {
            _ = try ShellQuoting.command([])
        } catch let error as SSHError {
            guard case .invalidArgument = error else { Issue.record("wrong case \(error)"); return }
        } catch { Issue.record("unexpected \(error)") }
    }
}

@Suite struct FingerprintTests {
    @Test func sha256OfNothingAsOpenSSHPrintsIt() {
        // SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855
        let digest: [UInt8] = [0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
                               0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
                               0x78, 0x52, 0xb8, 0x55]
        #expect(SSHFingerprint.sha256(digest: digest) == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")
    }

    @Test func base64MatchesRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
                       "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.encode(Array(plain.utf8), padding: false) == encoded.replacingOccurrences(of: "=", with: ""))
        }
        #expect(Base64.encode([0xfb, 0xff]) == "+/8=")
    }
}

@Suite struct EndpointAndErrorTests {
    @Test func parsesAddresses() {
        #expect(SSHEndpoint.parseAddress("127.0.0.22:2322")! == ("127.0.0.22", 2322))
        #expect(SSHEndpoint.parseAddress("mail.example.org")! == ("mail.example.org", 22))
        #expect(SSHEndpoint.parseAddress("[::1]:2200")! == ("::1", 2200))
        #expect(SSHEndpoint.parseAddress("[::1]")! == ("::1", 22))
        #expect(SSHEndpoint.parseAddress("::1")! == ("::1", 22))
        #expect(SSHEndpoint.parseAddress("host:0") == nil)
        #expect(SSHEndpoint.parseAddress("host:x") == nil)
        #expect(SSHEndpoint.parseAddress(":22") == nil)
    }

    @Test func passphraseNeverPrints() {
        let endpoint = SSHEndpoint(host: "h", port: 2222, user: "root", identityFile: "/k",
                                   passphrase: Secret(bytes: Array("hunter2".utf8), reference: "env:KEY_PASS"),
                                   knownHostsFile: "/kh")
        #expect(endpoint.description == "root@h:2222")
        #expect(!"\(endpoint)".contains("hunter2"))
        #expect(!String(reflecting: endpoint).contains("hunter2"))
        var dumped = ""
        dump(endpoint, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }

    @Test func hostKeyErrorsCarryFingerprintAndHint() {
        let unknown = SSHError.unknownHostKey(host: "10.0.0.5", port: 2222, fingerprint: "SHA256:abc")
        #expect(unknown.description.contains("10.0.0.5:2222"))
        #expect(unknown.description.contains("SHA256:abc"))
        #expect(unknown.hint?.contains("ssh-keyscan -p 2222 10.0.0.5 >> known_hosts") == true)
        let mismatch = SSHError.hostKeyMismatch(host: "10.0.0.5", port: 2222, fingerprint: "SHA256:abc")
        #expect(mismatch.hint?.contains("ssh-keygen -R '[10.0.0.5]:2222'") == true)
        #expect(SSHError.hostKeyMismatch(host: "h", port: 22, fingerprint: "f").hint?.contains("-R 'h'") == true)
    }

    @Test func sftpStatusNames() {
        #expect(SFTPStatus.noSuchFile.name == "no such file")
        #expect(SFTPStatus.permissionDenied.name == "permission denied")
        #expect(SFTPStatus.failure.name == "failure")
        #expect(SFTPStatus(code: 99).name == "status 99")
        let error = SSHError.sftp(operation: "open", path: "/x", code: .noSuchFile)
        #expect(error.description == "sftp open /x: no such file (2)")
        #expect(SSHError.sftp(operation: "fsync", path: "/x", code: .operationUnsupported).description
            .contains("does not support"))
    }

    @Test func renameNeverAsksToOverwrite() {
        // LIBSSH2_SFTP_RENAME_OVERWRITE = 1, NATIVE = 4 (the server may overwrite).
        #expect(SFTPClient.noReplaceRenameFlags & 0x1 == 0)
        #expect(SFTPClient.noReplaceRenameFlags & 0x4 == 0)
    }

    @Test func knownHostsNames() {
        #expect(KnownHosts.entryName(host: "h", port: 22) == "h")
        #expect(KnownHosts.entryName(host: "h", port: 2322) == "[h]:2322")
    }
}

@Suite struct CommandAgentProtocolTests {
    func answer(_ text: String) throws -> CommandResult? { try CommandAgent.answer(Array(text.utf8)) }

    @Test func requestsCarryLengthsNotSeparators() {
        let request = CommandAgent.request(["printf", "a\nb", ""], environment: [("LC_ALL", "C")], stdin: [0, 10, 255])
        #expect(request == Array("RUN 1 3 3\n8\nLC_ALL=C6\nprintf3\na\nb0\n".utf8) + [0, 10, 255])
    }

    @Test func wholeAnswersAreResults() throws {
        #expect(try answer("DONE 0 - 3 2\nouter") == CommandResult(exitStatus: 0, signal: nil, stdout: Array("out".utf8),
                                                                     stderr: Array("er".utf8)))
        #expect(try answer("DONE -1 KILL 0 0\n") == CommandResult(exitStatus: nil, signal: "KILL", stdout: [], stderr: []))
        // Output holding what looks like another answer is only output.
        #expect(try answer("DONE 1 - 18 0\nDONE 0 - 0 0\nxxxxx")?.stdoutText == "DONE 0 - 0 0\nxxxxx")
    }

    @Test func partAnswersWait() throws {
        #expect(try answer("") == nil)
        #expect(try answer("DONE 0 - 3") == nil)
        #expect(try answer("DONE 0 - 3 2\nout") == nil)
    }

    @Test(arguments: ["DONE 0 - 3 2\nouterr!", "HELLO\n", "DONE x - 0 0\n", "DONE 0 - -1 0\n", "DONE -1 - 0 0\n",
                      "DONE 0 KILL 0 0\n", "DONE 0  0 0\n", "DONE 0 - 0\n", String(repeating: "x", count: 300)])
    func anythingElseIsRefused(_ text: String) {
        #expect(throws: CommandAgent.AnswerError.self) { try answer(text) }
    }
}
