import Foundation
import Testing
import TestbedSupport

/// What one run of an outside tool produced.
struct Run: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

struct ToolTimeout: Error, CustomStringConvertible {
    var command: String
    var description: String { "timed out: \(command)" }
}

enum Tool {
    /// Runs NAME (looked up on PATH by /usr/bin/env) with ARGUMENTS. Output goes
    /// through files, so a daemon the tool leaves behind cannot hold a pipe open
    /// and a chatty tool cannot block. Standard input is `input`, or empty.
    static func run(_ name: String, _ arguments: [String], environment: [String: String]? = nil,
                    input: String? = nil, timeout: TimeInterval = 120) throws -> Run {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("relevo-testbed-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outFile = folder.appendingPathComponent("stdout"), errFile = folder.appendingPathComponent("stderr")
        let inFile = folder.appendingPathComponent("stdin")
        for file in [outFile, errFile] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        _ = FileManager.default.createFile(atPath: inFile.path, contents: Data((input ?? "").utf8))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        if let environment { process.environment = environment }
        let stdout = try FileHandle(forWritingTo: outFile), stderr = try FileHandle(forWritingTo: errFile)
        let stdin = try FileHandle(forReadingFrom: inFile)
        defer { try? stdout.close(); try? stderr.close(); try? stdin.close() }
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
            throw ToolTimeout(command: ([name] + arguments).joined(separator: " "))
        }
        return Run(status: process.terminationStatus,
                   stdout: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }
}

/// One entry of `ldapsearch -LLL` output: its DN and attribute values.
struct LDIFEntry {
    var dn: String
    var attributes: [String: [String]]

    func first(_ name: String) -> String? {
        attributes.first { $0.key.lowercased() == name.lowercased() }?.value.first
    }
}

/// Parses unwrapped LDIF (`-o ldif-wrap=no`), decoding `attr:: base64` values.
func parseLDIF(_ text: String) -> [LDIFEntry] {
    var entries: [LDIFEntry] = []
    var current: LDIFEntry?
    func value(_ line: Substring) -> (String, String)? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let name = String(line[..<colon])
        var rest = line[line.index(after: colon)...]
        if rest.hasPrefix(":") {
            rest = rest.dropFirst().drop { $0 == " " }
            let data = Data(base64Encoded: String(rest)) ?? Data()
            return (name, String(decoding: data, as: UTF8.self))
        }
        return (name, String(rest.drop { $0 == " " }))
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.isEmpty {
            if let entry = current { entries.append(entry) }
            current = nil
            continue
        }
        if line.hasPrefix("#") { continue }
        guard let (name, text) = value(line) else { continue }
        if name.lowercased() == "dn" {
            if let entry = current { entries.append(entry) }
            current = LDIFEntry(dn: text, attributes: [:])
        } else {
            current?.attributes[name, default: []].append(text)
        }
    }
    if let entry = current { entries.append(entry) }
    return entries
}

/// The testbed's client tools, with the options every test uses.
struct Clients {
    var variables: [String: String]

    subscript(_ name: String) -> String {
        guard let value = variables[name] else {
            Issue.record("testbed variable \(name) is not set")
            return ""
        }
        return value
    }

    /// The environment for LDAP tools: the caller's, with TLS settings of our own.
    func ldapEnvironment(caFile: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LDAPTLS_") }
        environment["LDAPTLS_CACERT"] = caFile ?? self["RELEVO_LDAP_CA_FILE"]
        environment["LDAPTLS_REQCERT"] = "demand"
        return environment
    }

    /// `ldapsearch -x -LLL` bound as the admin with the password file.
    func search(_ uri: String, base: String, scope: String = "sub", filter: String = "(objectClass=*)",
                attributes: [String] = [], bind: Bool = true) throws -> Run {
        var arguments = ["-x", "-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=10", "-H", uri]
        if bind { arguments += ["-D", self["RELEVO_LDAP_BIND_DN"], "-y", self["RELEVO_LDAP_PASSWORD_FILE"]] }
        arguments += ["-b", base, "-s", scope, filter] + attributes
        return try Tool.run("ldapsearch", arguments, environment: ldapEnvironment())
    }

    /// `ldapwhoami -x` as the admin; `startTLS` adds -ZZ (StartTLS required).
    func whoami(_ uri: String, startTLS: Bool = false, caFile: String? = nil,
                passwordFile: String? = nil) throws -> Run {
        var arguments = ["-x", "-o", "nettimeout=10", "-H", uri]
        if startTLS { arguments.append("-ZZ") }
        arguments += ["-D", self["RELEVO_LDAP_BIND_DN"], "-y", passwordFile ?? self["RELEVO_LDAP_PASSWORD_FILE"]]
        return try Tool.run("ldapwhoami", arguments, environment: ldapEnvironment(caFile: caFile))
    }

    /// `ssh` to `host:port` with no user or system configuration.
    func ssh(_ hostPort: String, identity: String? = nil, knownHosts: String? = nil,
             extraOptions: [String] = [], command: String) throws -> Run {
        let (host, port) = split(hostPort)
        let arguments = ["-F", "/dev/null",
                         "-i", identity ?? self["RELEVO_SSH_IDENTITY"],
                         "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                         "-o", "UserKnownHostsFile=\(knownHosts ?? self["RELEVO_KNOWN_HOSTS"])",
                         "-o", "GlobalKnownHostsFile=/dev/null",
                         "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10"]
            + extraOptions + ["-p", port, "\(self["RELEVO_SSH_USER"])@\(host)", command]
        return try Tool.run("ssh", arguments)
    }

    func split(_ hostPort: String) -> (String, String) {
        guard let colon = hostPort.lastIndex(of: ":") else { return (hostPort, "22") }
        return (String(hostPort[..<colon]), String(hostPort[hostPort.index(after: colon)...]))
    }
}

/// A scratch folder, removed when the value goes away.
final class Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("relevo-testbed-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}

/// Every process's command line, NULs turned into spaces, keyed by pid.
func commandLines() -> [String: Data] {
    var result: [String: Data] = [:]
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for name in names where !name.isEmpty && name.allSatisfy(\.isNumber) {
        if let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") {
            result[name] = Data(data.map { $0 == 0 ? 0x20 : $0 })
        }
    }
    return result
}

/// The variables every `scripts/testbed up` must print (docs/testbed.md).
let requiredVariables = [
    "RELEVO_LDAP_URI", "RELEVO_LDAP_BASE", "RELEVO_LDAP_BIND_DN", "RELEVO_LDAP_PASSWORD_FILE",
    "RELEVO_OLD_LDAP_URI", "RELEVO_OLD_LDAP_BASE", "RELEVO_LDAPS_URI", "RELEVO_OLD_LDAPS_URI",
    "RELEVO_LDAP_CA_FILE", "RELEVO_OLD_SSH", "RELEVO_NEW_SSH", "RELEVO_SSH_USER", "RELEVO_KNOWN_HOSTS",
    "RELEVO_SSH_IDENTITY", "RELEVO_OLD_ROOT", "RELEVO_NEW_ROOT", "RELEVO_OLD_MAILHOST",
    "RELEVO_NEW_MAILHOST", "RELEVO_TESTBED_DIR",
]

let suffix = "dc=exalumno,dc=unam,dc=mx"
let adminDN = "cn=Siteadmin,dc=mx"

/// The fixture the old side is loaded from.
let fixtureLDIF = Testbed.root.appendingPathComponent("examples/exalumno/neon.ldif").path
let fixtureMaildirs = Testbed.root.appendingPathComponent("examples/exalumno/neon/home1/maildirs").path

/// Relative path → (size, mtime in whole seconds, is folder) for everything under `root`.
func tree(_ root: String) -> [String: String] {
    var result: [String: String] = [:]
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return result }
    while let relative = enumerator.nextObject() as? String {
        let full = (root as NSString).appendingPathComponent(relative)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: full) else { continue }
        let type = attributes[.type] as? FileAttributeType
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        let mtime = Int((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1)
        result[relative] = type == .typeDirectory ? "dir \(mtime)" : "file \(size) \(mtime)"
    }
    return result
}
