import Foundation
import RelevoStore
import Testing
import TestbedSupport

/// The `relevo` executable built beside the test bundle.
let relevoBinary: String = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("relevo").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return Testbed.root.appendingPathComponent(".build/debug/relevo").path
}()

let livePlan = Testbed.root.appendingPathComponent("examples/exalumno/live.yaml").path

/// A private testbed with what a live-run test needs around it.
final class LiveBed: @unchecked Sendable {
    let bed: IsolatedTestbed
    let work: String

    /// `mail`: the testbed's mail hosts too (Postfix, Dovecot).
    init(_ name: String, mail: Bool = false) throws {
        bed = IsolatedTestbed(name: name, mail: mail)
        work = "/tmp/relevo-live-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try bed.up()
    }

    func tearDown() {
        bed.down()
        try? FileManager.default.removeItem(atPath: work)
    }

    subscript(_ name: String) -> String { bed[name] }

    var journal: String { work + "/run.journal" }

    /// `relevo ARGUMENTS` as a separate process, with the testbed's variables.
    func relevo(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessResult {
        var environment = bed.environment
        for (k, v) in extra { environment[k] = v }
        return try ProcessResult.run(relevoBinary, arguments, environment: environment)
    }

    func startRelevo(_ arguments: [String]) throws -> RunningProcess {
        try ProcessResult.start(relevoBinary, arguments, environment: bed.environment)
    }

    /// `relevo run examples/exalumno/live.yaml` with this bed's journal.
    func run(_ more: [String] = [], plan: String = livePlan) throws -> ProcessResult {
        try relevo(["run", plan, "--yes", "--approve", "all", "--journal", journal, "--format", "json"] + more)
    }

    /// `ldapsearch` on the new (or old) directory, as the acceptance says.
    func search(old: Bool = false, filter: String = "(objectClass=qmailUser)", attributes: [String] = []) throws -> [[String: [String]]] {
        let result = try ProcessResult.run("/usr/bin/ldapsearch", [
            "-LLL", "-x", "-o", "ldif-wrap=no", "-H", old ? self["RELEVO_OLD_LDAP_URI"] : self["RELEVO_LDAP_URI"],
            "-D", self["RELEVO_LDAP_BIND_DN"], "-y", self["RELEVO_LDAP_PASSWORD_FILE"],
            "-b", self["RELEVO_LDAP_BASE"], filter] + attributes)
        guard result.status == 0 || result.status == 32 else { throw TestbedError(message: "ldapsearch: \(result)") }
        return result.stdout.components(separatedBy: "\n\n").compactMap { block in
            var entry: [String: [String]] = [:]
            for line in block.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = String(line[..<colon])
                var value = String(line[line.index(after: colon)...])
                if value.hasPrefix(":") {
                    value = String(decoding: Data(base64Encoded: value.dropFirst().trimmingCharacters(in: .whitespaces)) ?? Data(), as: UTF8.self)
                } else {
                    value = value.trimmingCharacters(in: .whitespaces)
                }
                entry[name, default: []].append(value)
            }
            return entry.isEmpty ? nil : entry
        }
    }

    /// Changes an entry with `ldapmodify` (by hand, as an operator would).
    func ldapmodify(old: Bool = false, _ ldif: String) throws -> ProcessResult {
        try ProcessResult.run("/usr/bin/ldapmodify", [
            "-x", "-H", old ? self["RELEVO_OLD_LDAP_URI"] : self["RELEVO_LDAP_URI"],
            "-D", self["RELEVO_LDAP_BIND_DN"], "-y", self["RELEVO_LDAP_PASSWORD_FILE"]], stdin: ldif)
    }

    /// `ldapadd` of LDIF entries.
    func ldapadd(old: Bool = true, _ ldif: String) throws -> ProcessResult {
        try ProcessResult.run("/usr/bin/ldapadd", [
            "-x", "-H", old ? self["RELEVO_OLD_LDAP_URI"] : self["RELEVO_LDAP_URI"],
            "-D", self["RELEVO_LDAP_BIND_DN"], "-y", self["RELEVO_LDAP_PASSWORD_FILE"]], stdin: ldif)
    }
}

/// Every regular file under `root`: relative path → SHA-256 (links and
/// other entries are listed with a marker so a test sees them).
func files(_ root: String) -> [String: String] {
    var out: [String: String] = [:]
    guard let walker = FileManager.default.enumerator(atPath: root) else { return out }
    while let relative = walker.nextObject() as? String {
        let path = root + "/" + relative
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let type = attributes[.type] as? FileAttributeType else { continue }
        switch type {
        case .typeRegular: out[relative] = (try? SHA256.hashFile(atPath: path)) ?? "?"
        case .typeDirectory: continue
        default: out[relative] = "<\(type.rawValue)>"
        }
    }
    return out
}

/// The messages of a Maildir tree: unique name (before `:2,`) → SHA-256,
/// counting duplicates, so a test can tell lost and duplicated mail apart.
func messages(_ root: String) -> [String: [String]] {
    var out: [String: [String]] = [:]
    for (path, hash) in files(root) {
        let parts = path.split(separator: "/")
        guard parts.count >= 3, ["cur", "new"].contains(String(parts[parts.count - 2])) else { continue }
        let user = parts[0]
        let name = parts.last!.split(separator: ":").first.map(String.init) ?? ""
        out["\(user)/\(name)", default: []].append(hash)
    }
    return out
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
}

/// Kills a process and its descendants (a daemon and its sessions).
func killTree(_ pid: Int32) {
    var children: [Int32: [Int32]] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let p = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 1, let parent = Int32(fields[1]) { children[parent, default: []].append(p) }
    }
    func all(_ p: Int32) -> [Int32] { [p] + (children[p] ?? []).flatMap(all) }
    for p in all(pid).reversed() { kill(p, SIGKILL) }
}

/// Whether `body` comes true within `seconds` (looked at every 0.2 s).
func eventually(seconds: Double = 20, _ body: () throws -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try body() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return false
}
