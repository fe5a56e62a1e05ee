import Foundation
import RelevoBasics
import RelevoDirectory
import RelevoEngine
import RelevoLDAP
import RelevoOperations
import RelevoPlan
import RelevoSSH
import RelevoStore

/// The live run's environment: every step and gate of `PlanEnvironment`,
/// acting on the real systems the plan names.
///
/// - `ldap` elements are LDAP servers, reached with libldap (`url`,
///   `starttls`, `tls-reqcert`, `ca-file`, `bind`), one connection per
///   element, opened on first use and opened again once after it drops.
/// - Store roots are on their hosts, reached over SSH (`hosts.NAME.ssh`)
///   with the SFTP file system; connections are reused across sets, one per
///   host for each of the run's concurrent lanes (`EngineLane`), so sets in
///   flight at once each have their own.
/// - Local work files of global steps (LDIF dumps) go to `workDirectory`
///   (beside the journal), notifications to `workDirectory/notifications.log`
///   and by mail through the notify target's `via` SMTP element.
/// - Mail elements (`smtp`, `imap`, `pop3`) are probed with `RelevoMail`
///   on libcurl: `smtp-send`, `imap-login`, `pop3-login`, `smtp-accept`.
///
/// Secrets are read from their references only when a connection is
/// opened, and never leave the driver that needs them.
public final class LiveEnvironment: PlanEnvironment, @unchecked Sendable {
    // @unchecked Sendable: the caches are guarded by `lock`; the drivers
    // serialize their own use.
    public let workDirectory: URL
    let planDirectory: String
    let environment: [String: String]
    private let lock = NSLock()
    /// SSH connections, one pool per lane (lane 0: global phases, preflight).
    private var pools: [Int: SSHPool] = [:]
    private var directories: [String: LiveDirectory] = [:]
    private var fileSystems: [String: SFTPFileSystem] = [:]
    private var storeRoots: [String: StoreRoot] = [:]

    public struct ConfigurationError: Error, CustomStringConvertible {
        public var description: String
    }

    /// `planDirectory` anchors relative paths of the plan (known_hosts,
    /// CA files, `file:` secrets).
    public init(plan: Plan, planDirectory: String, workDirectory: URL,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                faults: FaultPlan = FaultPlan(seed: 1)) throws {
        self.workDirectory = workDirectory
        self.planDirectory = planDirectory
        self.environment = environment
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        super.init(plan: plan, faults: faults, timing: plan.fixtures?.timing ?? SimulationTiming())
    }

    deinit { for pool in pools.values { pool.closeAll() } }

    /// The connections of the current lane.
    var pool: SSHPool {
        let lane = EngineLane.current
        return lock.withLock {
            if let known = pools[lane] { return known }
            let made = SSHPool()
            pools[lane] = made
            return made
        }
    }

    public override var appliesOwnership: Bool { true }

    // MARK: - Directories

    public override func directory(_ element: String) throws -> (any DirectoryAccess)? {
        guard let e = plan.element(element), e.kind == .ldap else { return nil }
        return try lock.withLock {
            if let known = directories[element] { return known }
            let made = LiveDirectory(endpoint: try ldapEndpoint(e), base: try DistinguishedName(e.parameters["base"]?.string ?? ""))
            directories[element] = made
            return made
        }
    }

    /// The endpoint of an `ldap` element, with its bind password resolved.
    public func ldapEndpoint(_ e: Element) throws -> LDAPEndpoint {
        let p = e.parameters
        guard let url = p["url"]?.string else { throw ConfigurationError(description: "\(e.name.name) has no url") }
        var bindDN: String?
        var password: Secret?
        if let bind = p["bind"] {
            bindDN = bind["dn"]?.string
            if let ref = bind["password"]?.secret {
                password = try ref.resolve(environment: environment, directory: planDirectory)
            }
        }
        let check: LDAPEndpoint.CertificateCheck
        switch p["tls-reqcert"]?.string {
        case "never"?: check = .never
        case "allow"?, "try"?: check = .allow
        default: check = .demand
        }
        return LDAPEndpoint(url: url, startTLS: p["starttls"]?.bool ?? false,
                            caFile: p["ca-file"]?.string.map(absolute), certificateCheck: check,
                            timeout: { if case .duration(let d)? = p["timeout"]?.content { d } else { 10 } }(), bindDN: bindDN, password: password)
    }

    // MARK: - Hosts and stores

    public override func storeRoot(_ element: String) throws -> StoreRoot {
        guard let e = plan.element(element), e.kind.isStore, let host = e.host?.name,
              let root = e.parameters["root"]?.string else {
            throw ConfigurationError(description: "'\(element)' is not a store on a host")
        }
        // Resolved once per connection (a realpath and an lstat over SFTP),
        // not once per step: a root is configuration, and every path below it
        // is still checked component by component on each use.
        let fs = try fileSystem(host: host)
        let key = "\(element)#\(EngineLane.current)"
        if let known = lock.withLock({ storeRoots[key] }), known.fileSystem === fs { return known }
        let made = try StoreRoot(root, on: fs)
        lock.withLock { storeRoots[key] = made }
        return made
    }

    /// The SFTP file system of a host in the current lane, connected on first use.
    public func fileSystem(host name: String) throws -> SFTPFileSystem {
        let endpoint = try sshEndpoint(host: name)
        let pool = self.pool
        let key = "\(name)#\(EngineLane.current)"
        if let known = lock.withLock({ fileSystems[key] }), known.client.session.isUsable { return known }
        let made = SFTPFileSystem(client: try pool.sftp(for: endpoint), name: endpoint.name)
        lock.withLock { fileSystems[key] = made }
        return made
    }

    public override func runCommand(_ argv: [String], on host: String) throws -> HostCommandResult? {
        let result: CommandResult
        do {
            result = try run(argv, on: host)
        } catch {
            throw StepFailure("\(host): \(error)")
        }
        return HostCommandResult(exitStatus: result.exitStatus, signal: result.signal, output: result.stdoutText,
                                 firstError: result.stderrText.split(separator: "\n").first.map(String.init) ?? "")
    }

    /// The commands in one script for `sh -s`, sent on its standard input
    /// (so any number of them is one request): each argument quoted
    /// (`ShellQuoting`), each command in a
    /// subshell of its own (`$(...)`) with standard input from /dev/null
    /// and standard output discarded; its exit status and the first line
    /// of its standard error are written as one line `R INDEX STATUS ERROR`.
    public override func runCommands(_ argvs: [[String]], on host: String) throws -> [HostCommandResult]? {
        // `nl` holds a newline: `${e%%"$nl"*}` is the first line of `e`.
        // The script goes to `sh -s` on its standard input (one command
        // whatever its length); each command's own input is /dev/null, so
        // none reads the rest of the script.
        var script = "nl='\n'\n"
        for (k, argv) in argvs.enumerated() {
            guard !argv.isEmpty, let quoted = try? argv.map(ShellQuoting.quote).joined(separator: " ") else { return nil }
            script += "e=$(\(quoted) 2>&1 >/dev/null </dev/null); printf 'R \(k) %d %s\\n' \"$?\" \"${e%%\"$nl\"*}\"\n"
        }
        let result: CommandResult
        do {
            result = try pool.run(["sh", "-s"], on: try sshEndpoint(host: host), stdin: Array(script.utf8))
        } catch {
            throw StepFailure("\(host): \(error)")
        }
        var byIndex: [Int: HostCommandResult] = [:]
        for line in result.stdoutText.split(separator: "\n") where line.hasPrefix("R ") {
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, let index = Int(parts[1]), let status = Int32(parts[2]) else { continue }
            byIndex[index] = HostCommandResult(exitStatus: status, signal: nil,
                                               firstError: parts.count == 4 ? String(parts[3]) : "")
        }
        var results: [HostCommandResult] = []
        for k in argvs.indices {
            guard let answer = byIndex[k] else { return nil }
            results.append(answer)
        }
        return results
    }

    /// Runs an argument vector on a host (never through a shell's parsing).
    public func run(_ argv: [String], on host: String) throws -> CommandResult {
        try pool.run(argv, on: try sshEndpoint(host: host))
    }

    /// The SSH endpoint of a plan host. `address` may carry the port
    /// (`127.0.0.2:2222`) or `ssh.port` gives it. `ssh.identity` names the
    /// private key file: `file:PATH` directly, `env:NAME` through a variable
    /// holding the path; without it the ssh-agent is used. `known-hosts` is
    /// required: a host whose key is not there is refused.
    public func sshEndpoint(host name: String) throws -> SSHEndpoint {
        guard let host = plan.host(name) else { throw ConfigurationError(description: "no host '\(name)'") }
        guard let ssh = host.ssh else {
            throw ConfigurationError(description: "host \(name) has no `ssh:` access; a live run reaches stores over SSH")
        }
        var address = host.address
        var port = ssh.port ?? 22
        if let parsed = SSHEndpoint.parseAddress(host.address) {
            address = parsed.host
            if ssh.port == nil { port = parsed.port }
        }
        var identity: String?
        if let ref = ssh.identity {
            switch ref.source {
            case .file: identity = absolute(ref.name)
            case .env:
                guard let path = environment[ref.name], !path.isEmpty else {
                    throw ConfigurationError(description: "host \(name): the environment variable \(ref.name) (the SSH key's path) is not set")
                }
                identity = absolute(path)
            }
        }
        // The private key is a secret file: refused when its group or
        // others may read it, as ssh does.
        if let identity, let ref = ssh.identity {
            try SecretRef.checkPrivateFile(identity, reference: ref.description)
        }
        guard let knownHosts = ssh.knownHosts else {
            throw ConfigurationError(description: "host \(name): `ssh.known-hosts` is required: Relevo never trusts an unknown host key")
        }
        return SSHEndpoint(host: address, port: port, user: ssh.user, identityFile: identity,
                           knownHostsFile: absolute(knownHosts), timeout: 15, name: "\(name) (\(address):\(port))")
    }

    // MARK: - Before the first step

    /// Connects to every host that holds a store and binds to every
    /// directory the plan names, before anything changes: an unknown host
    /// key, a wrong password or a host down stops the run here, with
    /// nothing done. Returns one line per system checked.
    public func preflight() throws -> [String] {
        var checked: [String] = []
        var hosts: [String] = []
        for element in plan.elements where element.kind.isStore {
            if let host = element.host?.name, !hosts.contains(host) { hosts.append(host) }
        }
        for host in hosts {
            let fs = try fileSystem(host: host)
            checked.append("\(fs.name): SSH host key \(fs.client.session.hostKeyFingerprint) known, logged in")
        }
        for element in plan.elements where element.kind == .ldap {
            // The connection the run will use: bound now, reused by the steps.
            guard let directory = try directory(element.name.name) as? LiveDirectory else { continue }
            let (identity, encrypted) = try directory.whoAmI()
            checked.append("\(element.name.name) (\(directory.endpoint.url)): bound as \(identity)" + (encrypted ? ", TLS" : ""))
        }
        return checked
    }

    // MARK: - Local files, notifications

    public override func workFile(_ relative: String) throws -> URL {
        let components = try StoreRoot.components(ofRelative: relative)
        let url = components.reduce(workDirectory) { $0.appendingPathComponent($1) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        return url
    }

    public override func recordNotification(_ line: String) throws {
        let file = workDirectory.appendingPathComponent("notifications.log")
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line + "\n").utf8))
        try handle.synchronize()
    }

    // MARK: - Gates only a live run has

    public override func protocolGate(_ step: BoundStep) throws -> StepOutcome? {
        switch step.operation.name {
        default:
            // Mail gates on RelevoMail (LiveMail.swift); any other (http-get)
            // fails rather than pass unchecked.
            if let outcome = mailGate(step) { return outcome }
            return StepOutcome(status: .failed, evidence: "\(step.operation.name) is not available in a live run yet")
        }
    }

    public override func smtpSend(_ step: BoundStep) throws -> StepOutcome {
        try sendProbe(step)
    }

    public override func sendNotification(_ target: NotifyTarget, message: String) throws {
        try mailNotification(target, message: message)
    }

    /// A live gate waiting for mail looks again every half second.
    public override var deliveryPollInterval: Double? { 0.5 }

    /// A plan path made absolute against the plan's folder.
    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: planDirectory).appendingPathComponent(path).standardizedFileURL.path
    }
}

/// An LDAP server as `DirectoryAccess`, connected on first use and once
/// more after the connection dropped (a server restarted mid-run).
final class LiveDirectory: DirectoryAccess, @unchecked Sendable {
    let endpoint: LDAPEndpoint
    let base: DistinguishedName
    private let lock = NSLock()
    private var connection: LDAPConnection?

    init(endpoint: LDAPEndpoint, base: DistinguishedName) {
        self.endpoint = endpoint
        self.base = base
    }

    /// Runs `body` on the connection, opening it when needed. When the
    /// server went away the connection is dropped (the next call opens a new
    /// one); a read is tried once more on a new connection, a write is not:
    /// its outcome is unknown, and the engine reads the real state back.
    private func using<T>(retry: Bool, _ body: (LDAPConnection) throws -> T) throws -> T {
        try lock.withLock {
            var attempt = 0
            while true {
                let current: LDAPConnection
                if let connection { current = connection } else {
                    current = try LDAPConnection(endpoint)
                    connection = current
                }
                do {
                    return try body(current)
                } catch let error as LDAPError where error.kind == .cannotConnect {
                    connection = nil
                    attempt += 1
                    if !retry || attempt > 1 { throw error }
                }
            }
        }
    }

    /// Who the connection is bound as, and whether it is encrypted.
    func whoAmI() throws -> (String, Bool) {
        try using(retry: true) { (try $0.whoAmI(), $0.isEncrypted) }
    }

    func entry(_ dn: DistinguishedName) throws -> Entry? {
        try using(retry: true) { try $0.read(dn) }
    }

    func entries(_ dns: [DistinguishedName]) -> [Result<Entry?, any Error>] {
        do {
            return try using(retry: true) { try $0.readMany(dns) }.map { $0.mapError { $0 as any Error } }
        } catch {
            return dns.map { _ in .failure(error) }
        }
    }

    func search(base: DistinguishedName, filter: LDAPFilter) throws -> [Entry] {
        try using(retry: true) { try $0.search(base: base, filter: filter) }
    }

    func apply(_ record: LDIFChangeRecord) throws {
        try using(retry: false) { connection in
            switch record.change {
            case .add(let attributes):
                try connection.add(Entry(dn: record.dn, attributes: attributes))
            case .delete:
                try connection.delete(record.dn)
            case .modify(let modifications):
                _ = try connection.modifyAndReadBack(record.dn, modifications)
            default:
                throw PlanEnvironment.Failure("\(record.dn): this change is not supported on a live directory")
            }
        }
    }

    /// Modifications in one transaction (`LDAPConnection.modifyInTransaction`):
    /// one commit, so one write on the server, for a batch's redirects;
    /// anything else, or a transaction the server would not take, one by one.
    func applyMany(_ records: [LDIFChangeRecord]) -> [Result<Void, any Error>] {
        var items: [(dn: DistinguishedName, modifications: [Modification])] = []
        for record in records {
            guard case .modify(let modifications) = record.change else { return records.map { r in Result { try apply(r) } } }
            items.append((record.dn, modifications))
        }
        do {
            if records.count > 1, let done = try using(retry: false, { try $0.modifyInTransaction(items) }) {
                return done.map { $0.map { _ in () }.mapError { $0 as any Error } }
            }
        } catch {
            return records.map { _ in .failure(error) }
        }
        return records.map { r in Result { try apply(r) } }
    }

    func exportLDIF() throws -> (text: String, count: Int) {
        try using(retry: true) { connection in
            let entries = try connection.exportEntries(base: base)
            return (LDIFWriter().write(entries.map { .content($0) }), entries.count)
        }
    }
}
