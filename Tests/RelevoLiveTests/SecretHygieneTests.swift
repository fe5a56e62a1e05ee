import Foundation
import Testing
import TestbedSupport

/// A whole live migration with the mail hosts (examples/exalumno/live-mail.yaml:
/// two directories, SSH to two hosts, IMAP and POP3 gates with Dovecot's
/// master user) with relevo's most verbose output (text: a progress line
/// for every set, phase and gate), sampling the argv and the environment
/// of every process on the machine while it runs (relevo, the sessions
/// sshd starts for its remote commands, slapd, Postfix, Dovecot), then
/// searching stdout, stderr, the journal's bytes (with its WAL), the work
/// files, `relevo status` and every rendered report for each secret: the
/// LDAP password, the mail master password, the SSH private key. Then a
/// run with a wrong master password (the error path, and the alert it
/// mails): its value shows nowhere either.
@Suite(.serialized) struct SecretHygieneTests {
    @Test func noSecretShowsAnywhereDuringAndAfterALiveRun() throws {
        let bed = try LiveBed("secrets", mail: true)
        defer { bed.tearDown() }
        let ldap = try String(contentsOfFile: bed["RELEVO_LDAP_PASSWORD_FILE"], encoding: .utf8)
        let master = try String(contentsOfFile: bed["RELEVO_MAIL_MASTER_PASSWORD_FILE"], encoding: .utf8)
        // The private key's base64 lines: any one of them showing is a leak.
        let key = try String(contentsOfFile: bed["RELEVO_SSH_IDENTITY"], encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
        var secrets = [("LDAP password", ldap), ("mail master password", master)]
        for (i, line) in key.enumerated() where line.count >= 24 { secrets.append(("SSH key line \(i + 1)", line)) }
        try #require(ldap.count >= 16 && master.count >= 16 && secrets.count >= 4)

        let (result, scan) = try Self.runScanning(bed, ["run", liveMailPlan, "--yes", "--approve", "all", "--journal", bed.journal],
                                                  secrets: secrets)
        #expect(result.status == 0, "\(result)")
        #expect(scan.rounds > 0 && scan.processes > 10, "sampled \(scan.rounds) times, \(scan.processes) processes")
        #expect(scan.sawRelevo && scan.sawSSHSession, "the samples include relevo and sshd's sessions for it")
        #expect(scan.hits.isEmpty, "\(scan.hits)")
        #expect(result.stderr.contains("relevo: users: ceres migrated"), "the verbose progress is there")

        var outputs = [("stdout", result.stdout), ("stderr", result.stderr)]
        let status = try bed.relevo(["status", bed.journal])
        #expect(status.status == 0)
        outputs.append(("relevo status", status.stdout + status.stderr))
        for arguments in [["--format", "md"], ["--format", "html"], ["--format", "json"], ["--format", "dot"],
                          ["--report", "plan", "--format", "md"], ["--report", "plan", "--format", "html"]] {
            let report = try bed.relevo(["render", liveMailPlan, "--journal", bed.journal] + arguments)
            #expect(report.status == 0, "\(arguments): \(report)")
            outputs.append(("render \(arguments.joined(separator: " "))", report.stdout + report.stderr))
        }
        let report = try json(try bed.relevo(["render", liveMailPlan, "--journal", bed.journal, "--format", "json"]).stdout)
        let run = try #require((report["runs"] as? [[String: Any]])?.first)
        #expect(run["mode"] as? String == "run")
        let totals = try #require(run["totals"] as? [String: Any])
        #expect(totals["migrated"] as? Int == 20 && (totals["bytes_migrated"] as? Int ?? 0) > 0)
        Self.expectNoSecret(secrets, in: outputs, files: Self.written(bed.journal))

        // The error path: a wrong master password fails the rehearsal's
        // IMAP gate; its value is in no message, file or alert.
        let wrong = "wrong-" + UUID().uuidString
        let wrongFile = bed.work + "/wrong.password"
        FileManager.default.createFile(atPath: wrongFile, contents: Data(wrong.utf8), attributes: [.posixPermissions: 0o600])
        let failedJournal = bed.work + "/failed.journal"
        let (failed, failedScan) = try Self.runScanning(bed, ["run", liveMailPlan, "--yes", "--approve", "all", "--journal", failedJournal],
                                                        environment: ["RELEVO_MAIL_MASTER_PASSWORD_FILE": wrongFile],
                                                        secrets: secrets + [("wrong password", wrong)])
        #expect(failed.status == 3, "\(failed)")
        #expect(failed.stderr.contains("authentication refused"), "\(failed.stderr)")
        #expect(failedScan.hits.isEmpty, "\(failedScan.hits)")
        Self.expectNoSecret(secrets + [("wrong password", wrong)], in: [("stdout", failed.stdout), ("stderr", failed.stderr)],
                            files: Self.written(failedJournal) + Self.maildirFiles(bed["RELEVO_NEW_ROOT"] + "/probe"))
    }

    struct Scan {
        var rounds = 0, processes = 0
        var sawRelevo = false, sawSSHSession = false
        var hits: [String] = []
    }

    /// Runs relevo and, until it ends, reads every process's argv and
    /// environment again and again, looking for each secret.
    static func runScanning(_ bed: LiveBed, _ arguments: [String], environment: [String: String] = [:],
                            secrets: [(String, String)]) throws -> (ProcessResult, Scan) {
        var env = bed.bed.environment
        for (k, v) in environment { env[k] = v }
        let process = try ProcessResult.start(relevoBinary, arguments, environment: env)
        var scan = Scan()
        var seen = Set<Int32>()
        let needles = secrets.map { ($0.0, Data($0.1.utf8)) }
        let me = getpid()
        while process.process.isRunning {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(name), pid != me else { continue }
                let argv = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") ?? Data()
                let environ = FileManager.default.contents(atPath: "/proc/\(name)/environ") ?? Data()
                if seen.insert(pid).inserted { scan.processes += 1 }
                if pid == process.pid { scan.sawRelevo = true }
                if argv.starts(with: Data("sshd: root".utf8)) { scan.sawSSHSession = true }
                for (what, needle) in needles {
                    if argv.range(of: needle) != nil { scan.hits.append("\(what) in the argv of \(pid): \(String(decoding: argv.prefix(200), as: UTF8.self))") }
                    if environ.range(of: needle) != nil { scan.hits.append("\(what) in the environment of \(pid)") }
                }
            }
            scan.rounds += 1
            usleep(10_000)
        }
        return (process.wait(), scan)
    }

    /// The journal with its WAL and shared memory, and every work file.
    static func written(_ journal: String) -> [String] {
        var out = [journal, journal + "-wal", journal + "-shm"].filter { FileManager.default.fileExists(atPath: $0) }
        if let walker = FileManager.default.enumerator(atPath: journal + ".work") {
            while let name = walker.nextObject() as? String { out.append(journal + ".work/" + name) }
        }
        return out
    }

    static func maildirFiles(_ root: String) -> [String] { files(root).keys.map { root + "/" + $0 } }

    static func expectNoSecret(_ secrets: [(String, String)], in outputs: [(String, String)], files: [String],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!files.isEmpty, sourceLocation: sourceLocation)
        for (what, secret) in secrets {
            for (name, text) in outputs {
                #expect(!text.contains(secret), "\(what) in \(name)", sourceLocation: sourceLocation)
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(what) in \(file)", sourceLocation: sourceLocation)
            }
        }
    }
}
