import RelevoBasics

/// A name written in the plan that refers to something declared elsewhere
/// (a host, an element, a phase...), with where it was written.
public struct Ref: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var range: SourceRange
    public init(_ name: String, at range: SourceRange) {
        self.name = name
        self.range = range
    }
    public var description: String { name }
}

/// A secret is never written in a plan: it is a reference to where the
/// secret lives, resolved only when a live driver needs it.
public struct SecretRef: Hashable, Sendable, CustomStringConvertible {
    public enum Source: String, Hashable, Sendable { case env, file }
    public var source: Source
    /// The environment variable's name, or the file's path.
    public var name: String
    public init(source: Source, name: String) {
        self.source = source
        self.name = name
    }
    /// Parses `env:NAME` or `file:PATH`; nil for anything else.
    public init?(parsing text: String) {
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }),
                  !(name.first?.isNumber ?? true) else { return nil }
            self.init(source: .env, name: name)
        } else if text.hasPrefix("file:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self.init(source: .file, name: path)
        } else {
            return nil
        }
    }
    public var description: String { "\(source.rawValue):\(name)" }
}

/// A string that may contain `${field}` placeholders, filled per set.
public struct Template: Hashable, Sendable, CustomStringConvertible {
    public enum Part: Hashable, Sendable {
        case literal(String)
        /// A placeholder; `offset` is its column offset from the start of the
        /// scalar's text, so diagnostics can point at it.
        case field(String, offset: Int)
    }
    public var parts: [Part]
    public init(parts: [Part]) { self.parts = parts }

    public var fields: [String] {
        parts.compactMap { if case .field(let f, _) = $0 { f } else { nil } }
    }
    public var isLiteral: Bool { fields.isEmpty }
    public var description: String {
        parts.map {
            switch $0 {
            case .literal(let s): s
            case .field(let f, _): "${\(f)}"
            }
        }.joined()
    }

    /// Fills the placeholders from `values`; nil when one is missing.
    public func render(_ values: [String: String]) -> String? {
        var out = ""
        for p in parts {
            switch p {
            case .literal(let s): out += s
            case .field(let f, _):
                guard let v = values[f] else { return nil }
                out += v
            }
        }
        return out
    }
}

/// A typed parameter value of an element, step or gate, with its range.
public struct Value: Sendable {
    public indirect enum Content: Sendable {
        case string(String)
        case int(Int)
        case bool(Bool)
        /// Seconds.
        case duration(Double)
        case secret(SecretRef)
        /// A name referring to a declared thing (resolved by the checker).
        case ref(Ref)
        case template(Template)
        /// `STORE:PATH`, where PATH is a template under the store's root.
        case storePath(store: Ref, path: Template)
        case list([Value])
        case map([(key: Ref, value: Value)])
    }
    public var content: Content
    public var range: SourceRange
    public init(_ content: Content, at range: SourceRange) {
        self.content = content
        self.range = range
    }
}

extension Value {
    public var string: String? {
        switch content {
        case .string(let s): s
        case .ref(let r): r.name
        case .template(let t) where t.isLiteral: t.description
        default: nil
        }
    }
    public var ref: Ref? { if case .ref(let r) = content { r } else { nil } }
    public var int: Int? { if case .int(let i) = content { i } else { nil } }
    public var bool: Bool? { if case .bool(let b) = content { b } else { nil } }
    public var secret: SecretRef? { if case .secret(let s) = content { s } else { nil } }
    public var list: [Value]? { if case .list(let l) = content { l } else { nil } }
    public var map: [(key: Ref, value: Value)]? { if case .map(let m) = content { m } else { nil } }
    public var template: Template? { if case .template(let t) = content { t } else { nil } }
    public var storePath: (store: Ref, path: Template)? {
        if case .storePath(let s, let p) = content { (s, p) } else { nil }
    }
    public subscript(key: String) -> Value? { map?.first { $0.key.name == key }?.value }

    /// Every reference inside this value, depth first.
    public var refs: [Ref] {
        switch content {
        case .ref(let r): [r]
        case .storePath(let s, _): [s]
        case .list(let l): l.flatMap(\.refs)
        case .map(let m): m.flatMap(\.value.refs)
        default: []
        }
    }
}

/// Parameters in the order written, looked up by name.
public struct Parameters: Sendable {
    public var entries: [(name: Ref, value: Value)]
    public init(_ entries: [(name: Ref, value: Value)] = []) { self.entries = entries }
    public subscript(name: String) -> Value? { entries.first { $0.name.name == name }?.value }
    public func has(_ name: String) -> Bool { self[name] != nil }
}
