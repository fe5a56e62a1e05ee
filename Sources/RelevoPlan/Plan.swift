import RelevoBasics

/// The highest plan language version this Relevo reads.
public let supportedPlanVersion = 1

/// A migration plan, as written: pure values with the source range of every
/// part, produced by the loader and checked by the checker.
public struct Plan: Sendable {
    public var file: String
    public var version: Int
    public var name: String
    public var summary: String?
    public var hosts: [PlanHost] = []
    public var elements: [Element] = []
    public var redirects: [RedirectPoint] = []
    public var flows: [Flow] = []
    public var sets: [SetSource] = []
    public var phases: [Phase] = []
    public var notify: [NotifyTarget] = []
    public var fixtures: Fixtures?
    /// Names declared in the plan whose definitions could not be read (an
    /// unknown kind, a wrong type). References to them are not reported
    /// again: the declaration's own diagnostic says what is wrong.
    public var invalidNames: Set<String> = []

    public init(file: String, version: Int, name: String) {
        self.file = file
        self.version = version
        self.name = name
    }

    public func host(_ name: String) -> PlanHost? { hosts.first { $0.name.name == name } }
    public func element(_ name: String) -> Element? { elements.first { $0.name.name == name } }
    public func redirect(_ name: String) -> RedirectPoint? { redirects.first { $0.name.name == name } }
    public func set(_ name: String) -> SetSource? { sets.first { $0.name.name == name } }
    public func phase(_ name: String) -> Phase? { phases.first { $0.name.name == name } }
    public func notifyTarget(_ name: String) -> NotifyTarget? { notify.first { $0.name.name == name } }

    /// The store `flow` ends in when each per-set redirect point it passes
    /// has the value `values[point]`: the last store on its path, or the
    /// route of the last point that has a value. Nil when it reaches none.
    public func store(reachedBy flow: Flow, values: [String: String]) -> String? {
        var store: String?
        for hop in flow.path {
            if let p = redirect(hop.name), p.isPerSet {
                if let v = values[p.name.name], let target = p.route(v) { store = target.name }
            } else if let e = element(hop.name), e.kind.isStore {
                store = e.name.name
            }
        }
        return store
    }

    /// The elements a flow hop names: itself, or every element a glob such
    /// as `smtp-*` matches (`*` matches any run of characters), in plan order.
    public func elements(matching hop: String) -> [Element] {
        guard hop.contains("*") else { return element(hop).map { [$0] } ?? [] }
        return elements.filter { Self.glob(hop, matches: $0.name.name) }
    }

    /// Whether `name` matches `pattern`, where `*` matches any run of characters.
    public static func glob(_ pattern: String, matches name: String) -> Bool {
        let p = Array(pattern), n = Array(name)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == n.count }
            if p[i] == "*" { return (j...n.count).contains { match(i + 1, $0) } }
            return j < n.count && p[i] == n[j] && match(i + 1, j + 1)
        }
        return match(0, 0)
    }
}

/// A machine reached over SSH.
public struct PlanHost: Sendable {
    public var name: Ref
    public var address: String
    public var role: String?
    public var ssh: SSHAccess?
    /// Most sets in flight at once on this host, across all phases.
    public var concurrency: Int?
    public var range: SourceRange
    public init(name: Ref, address: String, role: String? = nil, ssh: SSHAccess? = nil, concurrency: Int? = nil, range: SourceRange) {
        self.name = name
        self.address = address
        self.role = role
        self.ssh = ssh
        self.concurrency = concurrency
        self.range = range
    }
}

public struct SSHAccess: Sendable {
    public var user: String
    public var port: Int?
    public var identity: SecretRef?
    public var knownHosts: String?
    public init(user: String, port: Int? = nil, identity: SecretRef? = nil, knownHosts: String? = nil) {
        self.user = user
        self.port = port
        self.identity = identity
        self.knownHosts = knownHosts
    }
}

/// A technical component of a kind with known capabilities.
public struct Element: Sendable {
    public var name: Ref
    public var kind: ElementKind
    public var kindRange: SourceRange
    public var host: Ref?
    public var parameters: Parameters
    public var range: SourceRange
    public init(name: Ref, kind: ElementKind, kindRange: SourceRange, host: Ref? = nil, parameters: Parameters, range: SourceRange) {
        self.name = name
        self.kind = kind
        self.kindRange = kindRange
        self.host = host
        self.parameters = parameters
        self.range = range
    }
}

/// Where a flow can be switched between values (old and new): per set (an
/// LDAP attribute of each user) or globally (a DNS record).
public struct RedirectPoint: Sendable {
    public var name: Ref
    /// The element holding the switch.
    public var at: Ref
    /// The attribute switched, for a per-set point in a directory.
    public var attribute: String?
    /// The set whose members each have their own switch; nil for a global point.
    public var per: Ref?
    /// Value names and the raw value written for each (e.g. the mailHost).
    public var values: [(name: Ref, raw: String)]
    /// For each value, the element the flow reaches through it (a store for a
    /// per-set point, an entry element such as an SMTP server for a global one).
    public var routes: [(value: Ref, element: Ref)]
    /// Elements that read the switch and honour it.
    public var honouredBy: [Ref]
    public var range: SourceRange

    public var isPerSet: Bool { per != nil }
    public func raw(_ value: String) -> String? { values.first { $0.name.name == value }?.raw }
    public func route(_ value: String) -> Ref? { routes.first { $0.value.name == value }?.element }
    public init(name: Ref, at: Ref, attribute: String? = nil, per: Ref? = nil, values: [(name: Ref, raw: String)], routes: [(value: Ref, element: Ref)], honouredBy: [Ref], range: SourceRange) {
        self.name = name
        self.at = at
        self.attribute = attribute
        self.per = per
        self.values = values
        self.routes = routes
        self.honouredBy = honouredBy
        self.range = range
    }
}

/// A path data takes through elements, from an entry to a store.
public struct Flow: Sendable {
    public enum Access: String, Sendable { case write, read }
    public var name: Ref
    /// Element names, redirect point names, or element globs such as `smtp-*`.
    public var path: [Ref]
    public var access: Access
    public var range: SourceRange
    public init(name: Ref, path: [Ref], access: Access, range: SourceRange) {
        self.name = name
        self.path = path
        self.access = access
        self.range = range
    }
}

/// A field of the members of a set.
public struct SetField: Sendable {
    public enum FieldType: Sendable, Equatable {
        case string
        case int
        case dn
        case email
        /// A path under the named store's root; exposed relative to that root.
        case path(under: Ref)
        /// The value name of a redirect point (the raw attribute mapped back).
        case redirectValue(point: Ref)
    }
    public var name: Ref
    public var attribute: String
    public var type: FieldType

    public var typeDescription: String {
        switch type {
        case .string: "string"
        case .int: "int"
        case .dn: "dn"
        case .email: "email"
        case .path(let s): "path under \(s.name)"
        case .redirectValue(let p): "value of \(p.name)"
        }
    }
    public init(name: Ref, attribute: String, type: FieldType) {
        self.name = name
        self.attribute = attribute
        self.type = type
    }
}

/// A unit of data migrated independently, enumerated from a source.
public struct SetSource: Sendable {
    public var name: Ref
    public var from: Ref
    public var filter: String?
    public var key: Ref
    public var fields: [SetField]
    public var order: SetOrder?
    public var range: SourceRange

    /// Every field a `${...}` may name: the key, `dn` for a directory source,
    /// and the declared fields.
    public func allFields(fromDirectory: Bool) -> [SetField] {
        var all = [SetField(name: key, attribute: key.name, type: .string)]
        if fromDirectory { all.append(SetField(name: Ref("dn", at: key.range), attribute: "dn", type: .dn)) }
        return all + fields
    }
    public init(name: Ref, from: Ref, filter: String? = nil, key: Ref, fields: [SetField], order: SetOrder? = nil, range: SourceRange) {
        self.name = name
        self.from = from
        self.filter = filter
        self.key = key
        self.fields = fields
        self.order = order
        self.range = range
    }
}

public struct SetOrder: Sendable {
    /// `activity` (messages received lately) or a field name.
    public var by: Ref
    public var ascending: Bool
    public var range: SourceRange
    public init(by: Ref, ascending: Bool, range: SourceRange) {
        self.by = by
        self.ascending = ascending
        self.range = range
    }
}

/// `field == value` / `field != value`, joined by `and`.
public struct Condition: Sendable {
    public struct Clause: Sendable {
        public var field: Ref
        public var equals: Bool
        public var value: Ref
        public init(field: Ref, equals: Bool, value: Ref) {
            self.field = field
            self.equals = equals
            self.value = value
        }
    }
    public var clauses: [Clause]
    public var range: SourceRange
    public init(clauses: [Clause], range: SourceRange) {
        self.clauses = clauses
        self.range = range
    }
}

/// An ordered group of steps, run once (global) or once per member of a set.
public struct Phase: Sendable {
    public var name: Ref
    /// Phases this one runs after; nil when not written (then: the previous phase).
    public var after: [Ref]?
    public var forEach: Ref?
    public var condition: Condition?
    public var canary: Int?
    public var concurrency: Int?
    /// Members taken through the pipeline together, step by step (see
    /// docs/plan-language.md); nil or 1: one at a time.
    public var batch: Int?
    public var rehearsal: Bool
    public var steps: [Step]
    public var gates: [Step]
    public var onFailure: Contingency?
    public var range: SourceRange
    /// True when a step or gate could not be read: analyses that need the
    /// whole pipeline (flows) skip the phase rather than report follow-ups.
    public var incomplete: Bool = false

    public var isPerSet: Bool { forEach != nil }
    public init(name: Ref, after: [Ref]? = nil, forEach: Ref? = nil, condition: Condition? = nil, canary: Int? = nil, concurrency: Int? = nil, rehearsal: Bool, steps: [Step], gates: [Step], onFailure: Contingency? = nil, range: SourceRange) {
        self.name = name
        self.after = after
        self.forEach = forEach
        self.condition = condition
        self.canary = canary
        self.concurrency = concurrency
        self.rehearsal = rehearsal
        self.steps = steps
        self.gates = gates
        self.onFailure = onFailure
        self.range = range
    }
}

/// One step or gate: an operation and its typed parameters.
public struct Step: Sendable {
    public var operation: Ref
    public var parameters: Parameters
    public var range: SourceRange
    public var spec: Operation? { Operations.named(operation.name) }
    public init(operation: Ref, parameters: Parameters, range: SourceRange) {
        self.operation = operation
        self.parameters = parameters
        self.range = range
    }
}

/// What happens when a step or gate fails.
public struct Contingency: Sendable {
    public enum Then: Sendable {
        case halt
        /// Go on with other sets while failures stay within the budget.
        case `continue`(budget: Budget)
    }
    public enum Budget: Sendable {
        case count(Int)
        case percent(Double)
    }
    public var undo: Bool
    public var notify: [Ref]
    public var then: Then
    public var range: SourceRange
    public init(undo: Bool, notify: [Ref], then: Then, range: SourceRange) {
        self.undo = undo
        self.notify = notify
        self.then = then
        self.range = range
    }
}

/// Where alerts go.
public struct NotifyTarget: Sendable {
    public var name: Ref
    public var via: Ref
    public var to: String
    public var range: SourceRange
    public init(name: Ref, via: Ref, to: String, range: SourceRange) {
        self.name = name
        self.via = via
        self.to = to
        self.range = range
    }
}

/// What a dry run uses in place of live systems.
public struct Fixtures: Sendable {
    /// The folder the other paths are relative to, itself relative to the
    /// plan's folder; `relevo simulate --fixtures DIR` replaces it.
    public var folder: (path: String, range: SourceRange)?
    /// An LDIF file loaded into every ldap element that has no file of its own.
    public var directory: (path: String, range: SourceRange)?
    /// An LDIF file per ldap element; an ldap element with none starts empty.
    public var directories: [(element: Ref, path: String)] = []
    /// Per host, a folder standing for the host's file system (a store with
    /// root /home1/maildirs on neon is `HOSTDIR/home1/maildirs`).
    public var hosts: [(host: Ref, path: String)]
    /// What DNS answers in a dry run: domain → MX host.
    public var dns: [(domain: Ref, mx: String)] = []
    /// How a dry run charges time (for its estimate of the live run).
    public var timing: SimulationTiming = SimulationTiming()
    public var range: SourceRange
    public init(directory: (path: String, range: SourceRange)? = nil, hosts: [(host: Ref, path: String)], range: SourceRange) {
        self.directory = directory
        self.hosts = hosts
        self.range = range
    }
}

/// The costs a dry run charges on its virtual clock, to estimate how long the
/// live run will take. Measure them on the real hosts (a test copy, an
/// ldapmodify) and write them in the plan's `fixtures: { timing: ... }`.
public struct SimulationTiming: Sendable, Equatable {
    /// Bytes per second between two hosts.
    public var bandwidth: Double = 50_000_000
    /// Seconds of round trip per file copied or checked.
    public var latency: Double = 0.002
    /// Seconds per directory operation (read, modify, add).
    public var directoryOperation: Double = 0.01
    /// Seconds per mail or DNS probe.
    public var probe: Double = 0.2
    public init() {}
}
