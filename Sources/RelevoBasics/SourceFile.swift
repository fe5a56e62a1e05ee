/// The text of a source file, kept so diagnostics can show the offending line.
public struct SourceFile: Sendable {
    public let path: String
    public let text: String
    public let lines: [Substring]

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// Line `n` (1-based) without its line terminator, or nil when out of range.
    public func line(_ n: Int) -> Substring? {
        guard n >= 1, n <= lines.count else { return nil }
        var l = lines[n - 1]
        if l.hasSuffix("\r") { l = l.dropLast() }
        return l
    }
}
