// Helpers for the live tests: endpoints from the testbed, a fresh folder on
// a host for each test, local tools (ssh-keygen, ssh-keyscan, sha256sum).
import Foundation
import RelevoSSH
import TestbedSupport
import Testing

/// The two sshd hosts of the testbed.
enum Side: String, CaseIterable, Sendable {
    case old = "OLD"
    case new = "NEW"
}

struct Live: Sendable {
    let testbed: Testbed

    static func make() throws -> Live { Live(testbed: try Testbed.shared()) }

    func address(_ side: Side) throws -> (host: String, port: Int) {
        let text = testbed["RELEVO_\(side.rawValue)_SSH"]
        guard let address = SSHEndpoint.parseAddress(text) else {
            throw LiveTestError(message: "RELEVO_\(side.rawValue)_SSH is not host:port: \(text)")
        }
        return address
    }

    /// The testbed's endpoint for `side`, with optional replacements.
    func endpoint(_ side: Side = .old, timeout: Double = 10, identityFile: String?? = .none,
                  knownHostsFile: String? = nil) throws -> SSHEndpoint {
        let (host, port) = try address(side)
        let identity: String? = identityFile ?? testbed["RELEVO_SSH_IDENTITY"]
        return SSHEndpoint(host: host, port: port, user: testbed["RELEVO_SSH_USER"], identityFile: identity,
                           knownHostsFile: knownHostsFile ?? testbed["RELEVO_KNOWN_HOSTS"], timeout: timeout,
                           name: "\(side.rawValue.lowercased()) host")
    }

    func root(_ side: Side) -> String { testbed["RELEVO_\(side.rawValue)_ROOT"] }

    func connect(_ side: Side = .old, timeout: Double = 10) throws -> SSHSession {
        try SSHSession(connecting: try endpoint(side, timeout: timeout))
    }

    /// Runs `body` with a fresh folder `<root>/.t-<random>` on `side`,
    /// removed afterwards (also when `body` throws).
    func withScratch<R>(_ session: SSHSession, _ side: Side = .old,
                        _ body: (String) throws -> R) throws -> R {
        let folder = root(side) + "/.t-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let made = try session.run(["mkdir", "--", folder])
        try #require(made.succeeded, "mkdir \(folder): \(made.stderrText)")
        defer { _ = try? session.run(["rm", "-rf", "--", folder]) }
        return try body(folder)
    }
}

struct LiveTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A local temporary folder, removed by `remove()`.
struct LocalTemp {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "relevo-ssh-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs a local program (found on PATH) and returns its exit status and output.
@discardableResult
func local(_ argv: [String], stdin: [UInt8]? = nil, environment: [String: String]? = nil) throws
    -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
    try input.fileHandleForWriting.close()
    // stderr is read on another thread so that neither pipe can fill up.
    nonisolated(unsafe) var stderrData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        stderrData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdoutData, as: UTF8.self),
            String(decoding: stderrData, as: UTF8.self))
}

/// The fingerprints `ssh-keyscan` + `ssh-keygen -lf -` report for the host,
/// by key type (`ED25519`, `ECDSA`, `RSA`), and the raw keyscan lines.
func scannedKeys(host: String, port: Int) throws -> (fingerprints: [String: String], lines: [String]) {
    let scan = try local(["ssh-keyscan", "-p", String(port), host])
    let lines = scan.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
    try #require(!lines.isEmpty, "ssh-keyscan found no keys: \(scan.stderr)")
    let listed = try local(["ssh-keygen", "-lf", "-"], stdin: Array(scan.stdout.utf8))
    var fingerprints: [String: String] = [:]
    // "256 SHA256:xxxx [127.0.0.22]:2322 (ED25519)"
    for line in listed.stdout.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count >= 4 else { continue }
        let type = fields.last!.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        fingerprints[type] = String(fields[1])
    }
    return (fingerprints, lines)
}

/// SHA-256 of `bytes` by the local `sha256sum`, as hex.
func localSHA256(_ bytes: [UInt8]) throws -> String {
    let result = try local(["sha256sum"], stdin: bytes)
    return String(result.stdout.prefix(64))
}

/// A shell script that prints the pid of the nearest sshd ancestor of the
/// shell: the sshd process serving this SSH connection.
let sshdPidScript = """
p=$$
while [ "$p" -gt 1 ]; do
  if [ "$(cat /proc/$p/comm)" = sshd ]; then echo "$p"; exit 0; fi
  p=$(awk '{print $4}' /proc/$p/stat)
done
exit 1
"""

/// Random bytes (not cryptographic; fast).
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = generator.next()
        for _ in 0..<8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}

extension SSHError {
    /// The case name, for readable expectations.
    var kind: String {
        switch self {
        case .invalidArgument: return "invalidArgument"
        case .connectionFailed: return "connectionFailed"
        case .timeout: return "timeout"
        case .unknownHostKey: return "unknownHostKey"
        case .hostKeyMismatch: return "hostKeyMismatch"
        case .authenticationFailed: return "authenticationFailed"
        case .connectionLost: return "connectionLost"
        case .channelFailed: return "channelFailed"
        case .sftp: return "sftp"
        case .undecodableName: return "undecodableName"
        case .library: return "library"
        }
    }
}

/// Runs `body`, expecting an SSHError; returns it and the seconds it took.
func expectSSHError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation)
    -> (error: SSHError?, seconds: Double) {
    let start = Date()
    do {
        try body()
        Issue.record("expected an SSHError, got success", sourceLocation: sourceLocation)
        return (nil, Date().timeIntervalSince(start))
    } catch let error as SSHError {
        return (error, Date().timeIntervalSince(start))
    } catch {
        Issue.record("expected an SSHError, got \(error)", sourceLocation: sourceLocation)
        return (nil, Date().timeIntervalSince(start))
    }
}
