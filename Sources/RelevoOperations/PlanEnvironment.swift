import Foundation
import RelevoBasics
import RelevoDirectory
import RelevoEngine
import RelevoPlan
import RelevoStore

/// A directory a run reads and changes: the dry run's in-memory copy of an
/// LDIF fixture, or a live LDAP server.
public protocol DirectoryAccess: AnyObject {
    /// The entry at `dn`, or nil when there is none.
    func entry(_ dn: DistinguishedName) throws -> Entry?
    /// Entries at or below `base` matching `filter`.
    func search(base: DistinguishedName, filter: LDAPFilter) throws -> [Entry]
    /// Applies a change (add, delete, modify) and makes it durable.
    func apply(_ record: LDIFChangeRecord) throws
    /// The whole directory as LDIF, parents before children, and its entry count.
    func exportLDIF() throws -> (text: String, count: Int)
    /// Applies several changes, each as `apply` would, together where the
    /// directory can (a live LDAP server: one transaction, committed with
    /// one write); each result is that change's. The default applies them
    /// one after another.
    func applyMany(_ records: [LDIFChangeRecord]) -> [Result<Void, any Error>]
    /// The entries at `dns`, as `entry` reads each, read together where the
    /// directory can (a live LDAP server: the reads in flight at once).
    /// The default reads them one after another.
    func entries(_ dns: [DistinguishedName]) -> [Result<Entry?, any Error>]
}

extension DirectoryAccess {
    public func entries(_ dns: [DistinguishedName]) -> [Result<Entry?, any Error>] {
        dns.map { dn in Result { try entry(dn) } }
    }

    public func applyMany(_ records: [LDIFChangeRecord]) -> [Result<Void, any Error>] {
        records.map { record in Result { try apply(record) } }
    }
}

/// What a command run on a host by `runCommand` did.
public struct HostCommandResult: Sendable {
    /// The exit status, or nil when a signal ended it.
    public var exitStatus: Int32?
    /// The signal that ended it (`KILL`), or nil.
    public var signal: String?
    /// Its standard output.
    public var output: String
    /// The first line of its standard error.
    public var firstError: String

    public init(exitStatus: Int32?, signal: String?, output: String = "", firstError: String) {
        self.exitStatus = exitStatus
        self.signal = signal
        self.output = output
        self.firstError = firstError
    }
}

/// The meaning of every step and gate of the plan language, written once
/// for the dry run and the live run. What differs is where the steps act,
/// given by the subclass through the hooks below: directories
/// (`DirectoryAccess`), store roots (a `StoreRoot` on the local or an SFTP
/// file system), local work files, the DNS, notifications and mail probes.
///
/// Each outcome's `seconds` is charged from `timing` (the dry run's virtual
/// clock); a live run replaces it with the time measured.
open class PlanEnvironment: Environment, @unchecked Sendable {
    public let plan: Plan
    public let faults: FaultPlan
    public let timing: SimulationTiming

    public init(plan: Plan, faults: FaultPlan = FaultPlan(seed: 1), timing: SimulationTiming) {
        self.plan = plan
        self.faults = faults
        self.timing = timing
    }

    // MARK: - Hooks (where the steps act)

    /// The directory behind an `ldap` element, or nil when there is none.
    open func directory(_ element: String) throws -> (any DirectoryAccess)? {
        fatalError("\(type(of: self)) must override directory(_:)")
    }

    /// The root of a store element on its host's file system.
    open func storeRoot(_ element: String) throws -> StoreRoot {
        fatalError("\(type(of: self)) must override storeRoot(_:)")
    }

    /// A local work file of a global step (`work/neon.ldif`); `..` refused.
    open func workFile(_ relative: String) throws -> URL {
        fatalError("\(type(of: self)) must override workFile(_:)")
    }

    /// The MX answer for `domain`, or nil.
    open func mx(_ domain: String) -> String? { nil }

    /// Switches the MX of `domain` (a global redirect point).
    open func setMX(_ domain: String, _ host: String) throws {
        throw StepFailure("switching the MX of \(domain) is the DNS administrator's: put an approval before a dns-mx gate")
    }

    /// Records or sends a notification line.
    open func recordNotification(_ line: String) throws {}

    /// Tells a notify target (an `on-failure` notify, a `notify` step). By
    /// default a line for `recordNotification`; a live run also mails it
    /// through the target's `via` SMTP element.
    open func sendNotification(_ target: NotifyTarget, message: String) throws {
        try recordNotification("\(target.name.name) <\(target.to)>: \(message)")
    }

    /// How often a gate that waits for mail (`maildir-has ... within`)
    /// looks again; nil: it looks once (the dry run's fixtures do not change).
    open var deliveryPollInterval: Double? { nil }

    /// Sends a probe message (`smtp-send`).
    open func smtpSend(_ step: BoundStep) throws -> StepOutcome {
        throw StepFailure("smtp-send is not available in this environment")
    }

    /// A mail protocol gate (`imap-login`, `pop3-login`, `smtp-accept`,
    /// `http-get`); nil when this environment does not handle it (then it
    /// passes with "nothing to check").
    open func protocolGate(_ step: BoundStep) throws -> StepOutcome? { nil }

    /// Runs an argument vector on a plan host (`run-command` steps,
    /// `remote-command` gates): its exit status, or the signal that ended it,
    /// and the first line of its standard error. Nil when this environment
    /// runs no commands (the dry run records the step instead).
    open func runCommand(_ argv: [String], on host: String) throws -> HostCommandResult? { nil }

    /// Runs several argument vectors on one host, one after the other, in
    /// one request where the environment can (a live run: one shell over
    /// SSH for a batch's `remote-command` gates): each one's result as
    /// `runCommand` gives it, except that a command ended by a signal is
    /// reported as its shell reports it (exit status 128 + the signal's
    /// number). Nil when the environment cannot: then each is run alone.
    open func runCommands(_ argvs: [[String]], on host: String) throws -> [HostCommandResult]? { nil }

    /// How often a `flush-queue` step looks at the queue again; nil: it
    /// looks once.
    open var queuePollInterval: Double? { deliveryPollInterval }

    /// Whether `chown` changes owners (live) or only records what it would
    /// change (the dry run, whose scratch trees are not the real hosts).
    open var appliesOwnership: Bool { false }

    /// Applies a change to the directory behind `element`.
    public func change(_ element: String, _ record: LDIFChangeRecord) throws {
        guard let directory = try directory(element) else { throw Failure("no directory '\(element)'") }
        try directory.apply(record)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    // MARK: - Members

    public func members(of set: SetSource, plan: Plan) async throws -> (members: [SetMember], refused: [(key: String, reason: String)]) {
        guard let element = plan.element(set.from.name) else { throw Failure("no element '\(set.from.name)'") }
        guard element.kind == .ldap, let directory = try directory(element.name.name) else {
            throw Failure("the dry run lists sets from ldap elements only ('\(element.name.name)' is \(element.kind.rawValue))")
        }
        let base = try DistinguishedName(element.parameters["base"]?.template?.description ?? "")
        let filter = try LDAPFilter(set.filter ?? "(objectClass=*)")
        var members: [SetMember] = []
        var refused: [(key: String, reason: String)] = []
        var sized: [(member: Int, store: String, relative: String)] = []
        for entry in try directory.search(base: base, filter: filter) {
            let key = entry.first(set.key.name) ?? ""
            if let problem = Self.keyProblem(key) {
                // Shown with its control characters escaped: a refused value
                // must not write lines of its own into the output or the journal.
                refused.append((Self.shown(key.isEmpty ? entry.dn.description : key), problem))
                continue
            }
            let dn = entry.dn.description  // written once for the field and the member
            var fields: [String: String] = [set.key.name: key, "dn": dn]
            var problem: String?
            var mailboxes: [(store: String, relative: String)] = []
            for field in set.fields {
                guard let raw = entry.first(field.attribute) else {
                    problem = problem ?? "no \(field.attribute)"
                    continue
                }
                switch field.type {
                case .path(let under):
                    if Self.hasControlCharacter(raw) {
                        problem = problem ?? "\(field.attribute) '\(Self.shown(raw))' contains a control character"
                        continue
                    }
                    guard let relative = relativePath(raw, under: under.name) else {
                        problem = problem ?? "\(field.attribute) '\(raw)' is not under the root of \(under.name)"
                        continue
                    }
                    fields[field.name.name] = relative
                    mailboxes.append((under.name, relative))
                case .redirectValue(let point):
                    let values = plan.redirect(point.name)?.values ?? []
                    fields[field.name.name] = values.first { $0.raw.lowercased() == raw.lowercased() }?.name.name ?? raw
                default:
                    fields[field.name.name] = raw
                }
            }
            if let problem {
                refused.append((key, problem))
                continue
            }
            sized += mailboxes.map { (members.count, $0.store, $0.relative) }
            members.append(SetMember(key: key, dn: dn, fields: fields, activity: 0, bytes: 0, messages: 0))
        }
        // Each member's mailboxes measured from listings, all of a store together.
        for (store, items) in Dictionary(grouping: sized, by: \.store).sorted(by: { $0.key < $1.key }) {
            for (item, size) in zip(items, mailboxSizes(store: store, relatives: items.map(\.relative))) {
                members[item.member].activity += Double(size.messages)
                members[item.member].messages = (members[item.member].messages ?? 0) + size.messages
                members[item.member].bytes += size.bytes
            }
        }
        return (members, refused)
    }

    /// A key is used in paths, logs and commands: refuse what could be read
    /// as anything but one name.
    public static func keyProblem(_ key: String) -> String? {
        if key.isEmpty { return "no key" }
        if hasControlCharacter(key) { return "key contains a control character" }
        if key.contains("/") || key == "." || key == ".." { return "key '\(key)' is not a single name" }
        if key.hasPrefix("-") { return "key '\(key)' starts with '-'" }
        return nil
    }

    /// Whether `value` holds a C0 control character (NUL, newline...) or DEL.
    public static func hasControlCharacter(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }

    /// `value` with its control characters written as escapes (`\n`, `\0`,
    /// `\u{1b}`), for a message that quotes data from a directory.
    public static func shown(_ value: String) -> String {
        guard hasControlCharacter(value) else { return value }
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0: out += "\\0"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7f: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An absolute path from the directory, made relative to a store's root;
    /// nil when it is not under it (or names the root itself, or uses `..`).
    public func relativePath(_ raw: String, under store: String) -> String? {
        guard let root = plan.element(store)?.parameters["root"]?.string else { return nil }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard raw.hasPrefix(prefix) else { return nil }
        let rest = String(raw.dropFirst(prefix.count))
        guard (try? StoreRoot.components(ofRelative: rest)) != nil else { return nil }
        return rest
    }

    /// `mailboxSize` of each of `relatives` in `store`, listed together
    /// (`StoreLocation.sizeMany`: over SSH, one `find` for many).
    public func mailboxSizes(store: String, relatives: [String]) -> [(messages: Int, bytes: Int64)] {
        guard let root = try? storeRoot(store) else { return relatives.map { _ in (0, 0) } }
        let located = root.locations(relatives)
        let found = located.indices.filter { (try? located[$0].get()) != nil }
        var sizes: [(messages: Int, bytes: Int64)] = relatives.map { _ in (0, 0) }
        let measured = StoreLocation.sizeMany(found.map { try! located[$0].get() }, subfolders: ["cur", "new"])
        for (i, size) in zip(found, measured) {
            if let size = try? size.get() { sizes[i] = (size.files, Int64(size.bytes)) }
        }
        return sizes
    }

    /// Messages and bytes of a mailbox, from directory listings.
    public func mailboxSize(store: String, relative: String) -> (Int, Int64) {
        guard let location = try? storeRoot(store).location(relative),
              let size = try? location.size(subfolders: ["cur", "new"]) else { return (0, 0) }
        return (size.files, Int64(size.bytes))
    }

    // MARK: - Helpers

    public func location(_ value: BoundValue?) throws -> StoreLocation {
        guard case .storePath(let store, let path)? = value else { throw Failure("expected STORE:PATH") }
        return try storeRoot(store).location(path)
    }

    /// `location(_:)` of each of `values`, with one request per store for
    /// the many (`StoreRoot.locations`); each result is what
    /// `location(_:)` would return or throw.
    public func locations(_ values: [BoundValue?]) -> [Result<StoreLocation, any Error>] {
        byStore(values, { try location($0) }) { root, paths in root.locations(paths) }
    }

    /// `locations(_:)`, each with whether it exists (`exists()`), from the
    /// same request where the store can answer so.
    public func locationsExisting(_ values: [BoundValue?], thenListed: Bool = false)
        -> [Result<(location: StoreLocation, exists: Bool), any Error>] {
        byStore(values, { value in let location = try location(value); return (location, try location.exists()) }) { root, paths in
            root.locationsExisting(paths, thenListed: thenListed)
        }
    }

    /// `many` for the paths of each store among `values` (STORE:PATH), `one`
    /// for any other value; results in the order of `values`.
    private func byStore<T>(_ values: [BoundValue?], _ one: (BoundValue?) throws -> T,
                            _ many: (StoreRoot, [String]) -> [Result<T, any Error>]) -> [Result<T, any Error>] {
        var results: [Result<T, any Error>?] = values.map { value in
            guard case .storePath? = value else { return Result { try one(value) } }
            return nil
        }
        var groups: [String: [Int]] = [:]
        for (i, value) in values.enumerated() {
            if case .storePath(let store, _)? = value { groups[store, default: []].append(i) }
        }
        for (store, indices) in groups.sorted(by: { $0.key < $1.key }) {
            do {
                let root = try storeRoot(store)
                let paths = indices.map { i -> String in
                    guard case .storePath(_, let path)? = values[i] else { return "" }
                    return path
                }
                for (i, result) in zip(indices, many(root, paths)) { results[i] = result }
            } catch {
                for i in indices { results[i] = .failure(error) }
            }
        }
        return results.map { $0! }
    }

    func isMaildir(_ value: BoundValue?) -> Bool {
        guard case .storePath(let store, _)? = value else { return false }
        return plan.element(store)?.kind == .maildirStore
    }

    public func dn(_ text: String) throws -> DistinguishedName {
        do { return try DistinguishedName(text) } catch { throw Failure("invalid DN '\(text)': \(error)") }
    }

    /// The per-set redirect point whose switch is `attribute` of entries.
    public func point(_ name: String?) throws -> RedirectPoint {
        guard let name, let p = plan.redirect(name) else { throw Failure("no redirect point '\(name ?? "")'") }
        return p
    }

    public func injected(_ step: BoundStep) -> FaultPlan.Fault? {
        faults.fault(for: step.key, memberIndex: step.member?.index ?? -1)
    }

    /// Fails a step as its injected fault says (other than crash and partial).
    func applyFault(_ step: BoundStep) throws {
        switch injected(step) {
        case .fail?: throw StepFailure("injected failure")
        case .timeout?: throw StepFailure("timed out (injected)", partial: StepOutcome(status: .failed, seconds: 60))
        default: break
        }
    }

    public func json<T: Encodable>(_ value: T) -> String {
        // A list of strings (an import's added entries: one per entry) is
        // written without JSONEncoder when it gives the same text.
        if let strings = value as? [String], let text = JSONString.encoderArray(strings) { return text }
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return (try? e.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    public func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// Time to copy: a round trip per file looked at, plus bytes over the link.
    func copySeconds(files: Int, bytes: UInt64, passes: Int) -> Double {
        Double(files + passes) * timing.latency + Double(bytes) / timing.bandwidth
    }
}
