internal import CYAML
import RelevoBasics

/// The outcome of reading one YAML document: the tree (nil when a fatal error
/// stopped the reading, or the file is empty) and every diagnostic found.
public struct YAMLDocument: Sendable {
    public var root: YAMLNode?
    public var diagnostics: [Diagnostic]
}

/// Reads YAML text into a `YAMLNode` tree on top of libyaml's event parser,
/// enforcing `YAMLLimits` and refusing the features a plan must not use.
///
/// The libyaml parser and the input bytes are owned by this object and freed
/// in `deinit`; no libyaml type leaves this file.
public final class YAMLParser {
    private let file: String
    private let limits: YAMLLimits
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let inputTooLarge: Bool
    private var initialized = false

    public init(text: String, file: String, limits: YAMLLimits = .default) {
        self.file = file
        self.limits = limits
        let bytes = Array(text.utf8)
        inputTooLarge = bytes.count > limits.maxDocumentBytes
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = .allocate(capacity: 1)
        if yaml_parser_initialize(parser) != 0 {
            initialized = true
            yaml_parser_set_input_string(parser, input.baseAddress, inputTooLarge ? 0 : bytes.count)
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        }
    }

    deinit {
        if initialized { yaml_parser_delete(parser) }
        parser.deallocate()
        input.deallocate()
    }

    /// Convenience: parse `text` in one call.
    public static func parse(_ text: String, file: String, limits: YAMLLimits = .default) -> YAMLDocument {
        YAMLParser(text: text, file: file, limits: limits).parse()
    }

    // MARK: - Building the tree

    private struct Fatal: Error { var diagnostic: Diagnostic }

    private enum Frame {
        case mapping(start: SourceLocation, anchor: String?, tag: String?, pairs: [YAMLPair],
                     pendingKey: YAMLNode?, seen: [String: SourceRange], weight: Int)
        case sequence(start: SourceLocation, anchor: String?, tag: String?, items: [YAMLNode], weight: Int)
    }

    private var stack: [Frame] = []
    private var anchors: [String: (node: YAMLNode, weight: Int)] = [:]
    private var aliasUses = 0
    private var expandedNodes = 0
    private var diagnostics: [Diagnostic] = []
    private var root: YAMLNode?
    private var documents = 0

    public func parse() -> YAMLDocument {
        guard initialized else {
            return YAMLDocument(root: nil, diagnostics: [Diagnostic(
                YAMLCodes.syntax, "libyaml could not be initialized",
                at: SourceRange(file: file, line: 1, column: 1))])
        }
        if inputTooLarge {
            return YAMLDocument(root: nil, diagnostics: [Diagnostic(
                YAMLCodes.sizeLimit,
                "the document is larger than \(limits.maxDocumentBytes) bytes",
                at: SourceRange(file: file, line: 1, column: 1),
                help: "a plan describes the migration; keep data in the directory or in fixture files")])
        }
        do {
            try run()
            return YAMLDocument(root: root, diagnostics: diagnostics)
        } catch let fatal as Fatal {
            return YAMLDocument(root: nil, diagnostics: diagnostics + [fatal.diagnostic])
        } catch {
            return YAMLDocument(root: nil, diagnostics: diagnostics)
        }
    }

    private func run() throws {
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) != 0 else { throw Fatal(diagnostic: parserError()) }
            defer { yaml_event_delete(&event) }
            let start = location(event.start_mark)
            let end = location(event.end_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw Fatal(diagnostic: Diagnostic(
                        YAMLCodes.structure, "a plan file holds one YAML document; a second one starts here",
                        at: range(start, end), help: "remove the `---` line and what follows, or split the file"))
                }
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let length = Int(s.length)
                if length > limits.maxScalarBytes {
                    throw Fatal(diagnostic: Diagnostic(
                        YAMLCodes.sizeLimit, "a scalar of \(length) bytes is larger than the limit of \(limits.maxScalarBytes)",
                        at: range(start, end)))
                }
                let value = String(decoding: UnsafeBufferPointer(start: s.value, count: length), as: UTF8.self)
                let style: ScalarStyle
                switch s.style {
                case YAML_PLAIN_SCALAR_STYLE: style = .plain
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: style = .literal
                case YAML_FOLDED_SCALAR_STYLE: style = .folded
                default: style = .any
                }
                let tag = checkedTag(string(s.tag), at: range(start, end))
                let node = YAMLNode(content: .scalar(value, style), range: range(start, end), tag: tag)
                try add(node, weight: 1, anchor: string(s.anchor))
            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    throw Fatal(diagnostic: Diagnostic(
                        YAMLCodes.structure, "alias '*\(name)' refers to no anchor defined before it",
                        at: range(start, end)))
                }
                aliasUses += 1
                expandedNodes += target.weight
                if aliasUses > limits.maxAliases {
                    throw Fatal(diagnostic: Diagnostic(
                        YAMLCodes.aliasLimit, "more than \(limits.maxAliases) alias uses in one document",
                        at: range(start, end), help: "write the values out; a plan should not need this many aliases"))
                }
                if expandedNodes > limits.maxExpandedNodes {
                    throw Fatal(diagnostic: Diagnostic(
                        YAMLCodes.aliasLimit,
                        "alias '*\(name)' expands the document past \(limits.maxExpandedNodes) nodes",
                        at: range(start, end),
                        detail: "aliases nested inside aliases grow exponentially (a \"billion laughs\" document)",
                        help: "write the values out instead of nesting aliases"))
                }
                try add(target.node, weight: target.weight, anchor: nil)
            case YAML_SEQUENCE_START_EVENT:
                let s = event.data.sequence_start
                try push(.sequence(start: start, anchor: string(s.anchor),
                                   tag: checkedTag(string(s.tag), at: range(start, end)), items: [], weight: 1),
                         at: range(start, end))
            case YAML_MAPPING_START_EVENT:
                let m = event.data.mapping_start
                try push(.mapping(start: start, anchor: string(m.anchor),
                                  tag: checkedTag(string(m.tag), at: range(start, end)), pairs: [],
                                  pendingKey: nil, seen: [:], weight: 1),
                         at: range(start, end))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { continue }
                switch frame {
                case .sequence(let s, let anchor, let tag, let items, let weight):
                    try add(YAMLNode(content: .sequence(items), range: range(s, end), tag: tag),
                            weight: weight, anchor: anchor)
                case .mapping(let s, let anchor, let tag, let pairs, _, _, let weight):
                    try add(YAMLNode(content: .mapping(pairs), range: range(s, end), tag: tag),
                            weight: weight, anchor: anchor)
                }
            default:
                continue
            }
        }
    }

    private func push(_ frame: Frame, at where_: SourceRange) throws {
        if stack.count >= limits.maxDepth {
            throw Fatal(diagnostic: Diagnostic(
                YAMLCodes.depthLimit, "nesting deeper than \(limits.maxDepth) levels", at: where_))
        }
        stack.append(frame)
    }

    /// Attaches a finished node to the collection being built (or makes it the root).
    private func add(_ node: YAMLNode, weight: Int, anchor: String?) throws {
        if let anchor { anchors[anchor] = (node, weight) }
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(let s, let a, let t, var items, let w):
            items.append(node)
            stack.append(.sequence(start: s, anchor: a, tag: t, items: items, weight: w + weight))
        case .mapping(let s, let a, let t, var pairs, let pendingKey, var seen, let w):
            if let key = pendingKey {
                // A refused key (duplicate, merge) keeps its diagnostic and loses its value.
                if key.tag != Self.refusedKeyTag { pairs.append(YAMLPair(key: key, value: node)) }
                stack.append(.mapping(start: s, anchor: a, tag: t, pairs: pairs, pendingKey: nil,
                                      seen: seen, weight: w + weight))
                return
            }
            guard case .scalar(let name, let style) = node.content else {
                throw Fatal(diagnostic: Diagnostic(
                    YAMLCodes.structure, "a mapping key must be a plain string, not \(node.kindDescription)",
                    at: node.range))
            }
            var key = node
            if style == .plain && name == "<<" || node.tag == "tag:yaml.org,2002:merge" {
                key.tag = Self.refusedKeyTag
                diagnostics.append(Diagnostic(
                    YAMLCodes.mergeKey, "merge keys ('<<') are not accepted", at: node.range,
                    help: "write the keys out in this mapping"))
            } else if let first = seen[name] {
                key.tag = Self.refusedKeyTag
                diagnostics.append(Diagnostic(
                    YAMLCodes.duplicateKey, "duplicate key '\(name)'", at: node.range,
                    help: "keep one of the two", notes: [DiagnosticNote(range: first, message: "first defined here")]))
            } else {
                seen[name] = node.range
            }
            stack.append(.mapping(start: s, anchor: a, tag: t, pairs: pairs, pendingKey: key,
                                  seen: seen, weight: w + weight))
        }
    }

    // MARK: - Helpers

    /// Marks a key whose pair is left out of the tree (its error is reported).
    private static let refusedKeyTag = "relevo:refused-key"

    private static let coreTags: Set<String> = [
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq",
        "tag:yaml.org,2002:map",
    ]

    private func checkedTag(_ tag: String?, at where_: SourceRange) -> String? {
        guard let tag else { return nil }
        if !Self.coreTags.contains(tag) {
            let shown = tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst(18) : tag
            diagnostics.append(Diagnostic(
                YAMLCodes.unknownTag, "unknown tag '\(shown)'", at: where_,
                help: "remove the tag; a plan holds plain data"))
        }
        return tag
    }

    private func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let p else { return nil }
        return String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func range(_ start: SourceLocation, _ end: SourceLocation) -> SourceRange {
        SourceRange(file: file, start: start, end: end)
    }

    private func parserError() -> Diagnostic {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown problem"
        var summary = problem
        if let context = p.context.map({ String(cString: $0) }) {
            summary = "\(problem) \(context)"
        }
        let at = location(p.problem_mark)
        var notes: [DiagnosticNote] = []
        if p.context != nil {
            let c = location(p.context_mark)
            if c != at { notes.append(DiagnosticNote(range: SourceRange(file: file, line: c.line, column: c.column),
                                                     message: "the construct started here")) }
        }
        var help: String?
        if problem.contains("tab") { help = "indent with spaces; YAML does not allow tabs for indentation" }
        return Diagnostic(YAMLCodes.syntax, summary, at: SourceRange(file: file, line: at.line, column: at.column),
                          help: help, notes: notes)
    }
}
