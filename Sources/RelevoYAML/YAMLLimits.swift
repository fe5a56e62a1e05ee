/// Bounds that every document is held to, so that a hostile or broken plan
/// costs one clear error rather than memory or time. See docs/plan-language.md.
public struct YAMLLimits: Sendable {
    /// Largest document accepted, in bytes.
    public var maxDocumentBytes: Int
    /// Deepest nesting of mappings and lists.
    public var maxDepth: Int
    /// Most alias uses (`*name`) in one document.
    public var maxAliases: Int
    /// Most nodes in the tree once every alias is expanded. A "billion laughs"
    /// document exceeds this after a few levels and is refused at once.
    public var maxExpandedNodes: Int
    /// Longest scalar, in bytes.
    public var maxScalarBytes: Int

    public init(maxDocumentBytes: Int = 1 << 20, maxDepth: Int = 64, maxAliases: Int = 256,
                maxExpandedNodes: Int = 100_000, maxScalarBytes: Int = 64 << 10) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDepth = maxDepth
        self.maxAliases = maxAliases
        self.maxExpandedNodes = maxExpandedNodes
        self.maxScalarBytes = maxScalarBytes
    }

    public static let `default` = YAMLLimits()
}
