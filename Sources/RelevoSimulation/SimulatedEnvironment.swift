import Foundation
import RelevoDirectory
import RelevoEngine
import RelevoPlan
import RelevoStore

/// The dry run's `Environment`: the same steps and gates as a live run,
/// performed on a scratch copy of the fixtures, with time charged on a
/// virtual clock from the plan's `fixtures: { timing: ... }` (so the run's
/// duration is an estimate of the live one) and faults injected on demand.
public final class SimulatedEnvironment: Environment, @unchecked Sendable {
    let plan: Plan
    let scratch: Scratch
    let faults: FaultPlan
    let timing: SimulationTiming

    /// `scratch` is created from the fixtures (relative to `fixtureBase`)
    /// unless it already holds an earlier run of the same journal (resume).
    public init(plan: Plan, scratch: URL, fixtureBase: URL, faults: FaultPlan) throws {
        self.plan = plan
        self.scratch = try Scratch(root: scratch, plan: plan, fixtureBase: fixtureBase)
        self.faults = faults
        self.timing = plan.fixtures?.timing ?? SimulationTiming()
    }

    /// Hooks to give the engine: a `crash` fault kills the process right
    /// after the step's effect (once per journal: a resume does not crash
    /// again at the same place).
    public var hooks: EngineHooks {
        EngineHooks { [faults, scratch] key, index in
            guard faults.fault(for: key, memberIndex: index) == .crash,
                  scratch.once("crash-\(key.phase)-\(key.set ?? "")-\(key.index)") else { return }
            kill(getpid(), SIGKILL)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    // MARK: - Members

    public func members(of set: SetSource, plan: Plan) async throws -> (members: [SetMember], refused: [(key: String, reason: String)]) {
        guard let element = plan.element(set.from.name) else { throw Failure("no element '\(set.from.name)'") }
        guard element.kind == .ldap, let directory = scratch.directory(element.name.name) else {
            throw Failure("the dry run lists sets from ldap elements only ('\(element.name.name)' is \(element.kind.rawValue))")
        }
        let base = try DistinguishedName(element.parameters["base"]?.template?.description ?? "")
        let filter = try LDAPFilter(set.filter ?? "(objectClass=*)")
        var members: [SetMember] = []
        var refused: [(key: String, reason: String)] = []
        for entry in try directory.search(base: base, filter: filter) {
            let key = entry.first(set.key.name) ?? ""
            if let problem = Self.keyProblem(key) {
                refused.append((key.isEmpty ? entry.dn.description : key, problem))
                continue
            }
            var fields: [String: String] = [set.key.name: key, "dn": entry.dn.description]
            var problem: String?
            var bytes: Int64 = 0
            var activity = 0.0
            for field in set.fields {
                guard let raw = entry.first(field.attribute) else {
                    problem = problem ?? "no \(field.attribute)"
                    continue
                }
                switch field.type {
                case .path(let under):
                    guard let relative = relativePath(raw, under: under.name) else {
                        problem = problem ?? "\(field.attribute) '\(raw)' is not under the root of \(under.name)"
                        continue
                    }
                    fields[field.name.name] = relative
                    let (count, size) = mailboxSize(store: under.name, relative: relative)
                    activity += Double(count)
                    bytes += size
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
            members.append(SetMember(key: key, dn: entry.dn.description, fields: fields, activity: activity, bytes: bytes))
        }
        return (members, refused)
    }

    /// A key is used in paths, logs and commands: refuse what could be read
    /// as anything but one name.
    static func keyProblem(_ key: String) -> String? {
        if key.isEmpty { return "no key" }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { return "key contains a control character" }
        if key.contains("/") || key == "." || key == ".." { return "key '\(key)' is not a single name" }
        if key.hasPrefix("-") { return "key '\(key)' starts with '-'" }
        return nil
    }

    /// An absolute path from the directory, made relative to a store's root;
    /// nil when it is not under it (or names the root itself, or uses `..`).
    func relativePath(_ raw: String, under store: String) -> String? {
        guard let root = plan.element(store)?.parameters["root"]?.string else { return nil }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard raw.hasPrefix(prefix) else { return nil }
        let rest = String(raw.dropFirst(prefix.count))
        guard (try? StoreRoot.components(ofRelative: rest)) != nil else { return nil }
        return rest
    }

    /// Messages and bytes of a mailbox, from directory listings.
    func mailboxSize(store: String, relative: String) -> (Int, Int64) {
        guard let root = try? scratch.storeRoot(store), let path = try? root.resolve(relative: relative) else { return (0, 0) }
        var count = 0
        var bytes: Int64 = 0
        for sub in ["cur", "new"] {
            let dir = (path as NSString).appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                count += 1
                let size = (try? FileManager.default.attributesOfItem(atPath: (dir as NSString).appendingPathComponent(name)))?[.size] as? Int64
                bytes += size ?? 0
            }
        }
        return (count, bytes)
    }

    // MARK: - Helpers

    func location(_ value: BoundValue?) throws -> StoreLocation {
        guard case .storePath(let store, let path)? = value else { throw Failure("expected STORE:PATH") }
        return try scratch.storeRoot(store).location(path)
    }

    func isMaildir(_ value: BoundValue?) -> Bool {
        guard case .storePath(let store, _)? = value else { return false }
        return plan.element(store)?.kind == .maildirStore
    }

    func dn(_ text: String) throws -> DistinguishedName {
        do { return try DistinguishedName(text) } catch { throw Failure("invalid DN '\(text)': \(error)") }
    }

    /// The per-set redirect point whose switch is `attribute` of entries.
    func point(_ name: String?) throws -> RedirectPoint {
        guard let name, let p = plan.redirect(name) else { throw Failure("no redirect point '\(name ?? "")'") }
        return p
    }

    func injected(_ step: BoundStep) -> FaultPlan.Fault? {
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

    func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return (try? e.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// Time to copy: a round trip per file looked at, plus bytes over the link.
    func copySeconds(files: Int, bytes: UInt64, passes: Int) -> Double {
        Double(files + passes) * timing.latency + Double(bytes) / timing.bandwidth
    }
}
