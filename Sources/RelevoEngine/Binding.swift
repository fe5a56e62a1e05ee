import RelevoBasics
import RelevoPlan

/// One member of a set, as enumerated at the start of a per-set phase: its
/// key, its fields as text (path fields relative to their store's root,
/// redirect fields as value names), and its position in the run.
public struct SetMember: Codable, Sendable, Equatable {
    public var key: String
    public var dn: String?
    public var fields: [String: String]
    /// Messages received lately, or any measure of how busy the member is
    /// (for `order: { by: activity }`).
    public var activity: Double
    /// Bytes to migrate, for estimates.
    public var bytes: Int64
    /// Messages to migrate, when the environment counted them (nil in
    /// journals written before it did).
    public var messages: Int?
    public var index: Int

    public init(key: String, dn: String? = nil, fields: [String: String], activity: Double = 0,
                bytes: Int64 = 0, messages: Int? = nil, index: Int = 0) {
        self.key = key
        self.dn = dn
        self.fields = fields
        self.activity = activity
        self.bytes = bytes
        self.messages = messages
        self.index = index
    }
}

/// A parameter value with every `${field}` filled in for one member.
public indirect enum BoundValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case duration(Double)
    case secret(SecretRef)
    case name(String)
    /// A store element and a path relative to its root (never absolute,
    /// never with `..`: checked when bound).
    case storePath(store: String, path: String)
    case list([BoundValue])
    case map([String: BoundValue])

    public var string: String? {
        switch self {
        case .string(let s), .name(let s): s
        default: nil
        }
    }
}

/// A step or gate ready to run: its key in the journal and its parameters.
public struct BoundStep: Sendable {
    public var key: StepKey
    public var operation: Operation
    public var parameters: [String: BoundValue]
    public var member: SetMember?
    public var isGate: Bool { operation.isGate }

    public subscript(_ name: String) -> BoundValue? { parameters[name] }

    /// One line for logs and the journal: `copy store-neon:ceres/ → store-xalumno:ceres/`.
    public var summary: String {
        let parts = operation.parameters.compactMap { spec -> String? in
            guard let v = parameters[spec.name] else { return nil }
            return "\(spec.name)=\(Self.describe(v))"
        }
        return ([operation.name] + parts).joined(separator: " ")
    }

    static func describe(_ v: BoundValue) -> String {
        switch v {
        case .string(let s), .name(let s): s
        case .int(let i): String(i)
        case .bool(let b): String(b)
        case .duration(let d): "\(d)s"
        case .secret(let s): s.description
        case .storePath(let store, let path): "\(store):\(path)"
        case .list(let l): "[" + l.map(describe).joined(separator: ",") + "]"
        case .map(let m): "{" + m.keys.sorted().map { "\($0):\(describe(m[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}

/// Why a step could not be bound for a member: a value from the directory
/// that would make a path leave its store, or an unknown field.
public struct BindError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

public enum Binder {
    /// Binds `step` (at `index` in its phase's pipeline) for `member`.
    public static func bind(_ step: Step, index: Int, phase: Phase, member: SetMember?, plan: Plan) throws -> BoundStep {
        guard let op = step.spec else { throw BindError(message: "unknown operation \(step.operation.name)") }
        var params: [String: BoundValue] = [:]
        for (name, value) in step.parameters.entries {
            guard let spec = op.parameters.first(where: { $0.name == name.name }) else { continue }
            params[name.name] = try bind(value, spec.type, member: member, plan: plan)
        }
        let key = StepKey(phase: phase.name.name, set: member?.key, index: index, operation: op.name)
        return BoundStep(key: key, operation: op, parameters: params, member: member)
    }

    static func bind(_ value: Value, _ type: ParamType, member: SetMember?, plan: Plan) throws -> BoundValue {
        switch value.content {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .bool(let b): return .bool(b)
        case .duration(let d): return .duration(d)
        case .secret(let s): return .secret(s)
        case .ref(let r): return .name(r.name)
        case .template(let t): return .string(try render(t, member: member, path: false))
        case .storePath(let store, let t):
            var path = try render(t, member: member, path: true)
            if path.hasPrefix("/") {
                // An absolute path written in the plan: the checker proved it
                // is under the root; make it relative to the root.
                let root = plan.element(store.name)?.parameters["root"]?.string ?? "/"
                let prefix = root.hasSuffix("/") ? root : root + "/"
                guard path.hasPrefix(prefix) else { throw BindError(message: "'\(path)' is outside \(root)") }
                path = String(path.dropFirst(prefix.count))
            }
            try checkRelative(path)
            return .storePath(store: store.name, path: path)
        case .list(let items):
            let inner: ParamType = { if case .list(let i) = type { return i } else { return .string } }()
            return .list(try items.map { try bind($0, inner, member: member, plan: plan) })
        case .map(let entries):
            var out: [String: BoundValue] = [:]
            for e in entries {
                var inner: ParamType = .string
                if case .map(let i) = type { inner = i }
                if case .record(let specs) = type, let s = specs.first(where: { $0.name == e.key.name }) { inner = s.type }
                out[e.key.name] = try bind(e.value, inner, member: member, plan: plan)
            }
            return .map(out)
        }
    }

    /// Fills placeholders. In a path, a field's value is checked to be a
    /// relative path without `..` (path fields) or a single safe segment
    /// (other fields): values come from the directory and are data.
    static func render(_ t: Template, member: SetMember?, path: Bool) throws -> String {
        var out = ""
        for part in t.parts {
            switch part {
            case .literal(let s): out += s
            case .field(let name, _):
                guard let value = member?.fields[name] else {
                    throw BindError(message: "no value for ${\(name)}")
                }
                if path { try checkSegmentValue(value, field: name) }
                out += value
            }
        }
        return out
    }

    static func checkSegmentValue(_ value: String, field: String) throws {
        // Byte for byte, as Foundation's `contains` (a literal search of
        // UTF-16 code units) finds them: U+0000 and U+000A are these bytes.
        if value.utf8.contains(0) || value.utf8.contains(0x0A) {
            throw BindError(message: "${\(field)} contains a control character")
        }
        if value.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            throw BindError(message: "${\(field)} = '\(value)' contains '..'")
        }
        if value.hasPrefix("/") {
            throw BindError(message: "${\(field)} = '\(value)' is absolute; path fields are relative to their store")
        }
    }

    /// A bound store path is relative, without `..` or NUL.
    public static func checkRelative(_ path: String) throws {
        if path.utf8.contains(0) { throw BindError(message: "path contains NUL") }
        if path.hasPrefix("/") { throw BindError(message: "path '\(path)' is absolute") }
        if path.isEmpty || path == "." || path == "./" { throw BindError(message: "path '\(path)' names the store's root itself") }
        if path.split(separator: "/").contains("..") { throw BindError(message: "path '\(path)' contains '..'") }
    }
}
