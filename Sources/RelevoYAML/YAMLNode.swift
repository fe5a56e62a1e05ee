import RelevoBasics

/// How a scalar was written. Plain scalars may be read as numbers, booleans or
/// null; quoted ones are always strings.
public enum ScalarStyle: String, Sendable {
    case plain, singleQuoted, doubleQuoted, literal, folded, any
}

/// A YAML node with the source range it was written at. Aliases are resolved:
/// an alias appears in the tree as a copy of the anchored node (shared, not
/// duplicated in memory), with the range of the anchored node.
public struct YAMLNode: Sendable {
    public indirect enum Content: Sendable {
        case scalar(String, ScalarStyle)
        case mapping([YAMLPair])
        case sequence([YAMLNode])
    }

    public var content: Content
    public var range: SourceRange
    /// The explicit tag, if one was written (only core-schema tags are accepted).
    public var tag: String?

    public init(content: Content, range: SourceRange, tag: String? = nil) {
        self.content = content
        self.range = range
        self.tag = tag
    }
}

/// One `key: value` entry of a mapping, in document order.
public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode
    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
    /// The key's text (keys are always scalars: the parser refuses others).
    public var name: String { key.scalar ?? "" }
}

extension YAMLNode {
    /// The scalar's text, or nil for collections.
    public var scalar: String? {
        if case .scalar(let s, _) = content { return s }
        return nil
    }

    public var style: ScalarStyle? {
        if case .scalar(_, let style) = content { return style }
        return nil
    }

    public var pairs: [YAMLPair]? {
        if case .mapping(let p) = content { return p }
        return nil
    }

    public var items: [YAMLNode]? {
        if case .sequence(let i) = content { return i }
        return nil
    }

    /// The value of `key` in a mapping, or nil.
    public subscript(key: String) -> YAMLNode? {
        pairs?.first { $0.name == key }?.value
    }

    /// True for an empty plain scalar, `~`, `null`, `Null` and `NULL`.
    public var isNull: Bool {
        guard case .scalar(let s, .plain) = content else {
            return tag == "tag:yaml.org,2002:null"
        }
        return ["", "~", "null", "Null", "NULL"].contains(s)
    }

    /// What kind of node this is, for messages ("a mapping", "a list", "a string").
    public var kindDescription: String {
        switch content {
        case .scalar: isNull ? "null" : "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}
