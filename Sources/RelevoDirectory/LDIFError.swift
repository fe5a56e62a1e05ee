import RelevoBasics

/// Why an LDIF text was refused, and where: 1-based `line` and `column`
/// (columns count Unicode scalars of the physical line, as `SourceLocation`
/// does). Reading never traps: every malformed input gives one of these.
public struct LDIFError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// The position as a `SourceLocation`.
    public var location: SourceLocation { SourceLocation(line: line, column: column) }

    public var description: String { "\(line):\(column): \(message)" }
}

/// Bounds on what the LDIF reader accepts, so hostile input cannot take
/// unbounded memory.
public struct LDIFLimits: Hashable, Sendable {
    /// Longest physical line, in bytes, without its line terminator.
    public var maxLineLength: Int
    /// Most records in one text.
    public var maxRecords: Int
    /// Largest value, in bytes after base64 decoding; also bounds the length
    /// of a logical (unfolded) line to twice this (at least `maxLineLength`) plus 1 KiB.
    public var maxValueSize: Int

    public init(maxLineLength: Int = 1 << 20, maxRecords: Int = 1_000_000, maxValueSize: Int = 4 << 20) {
        self.maxLineLength = maxLineLength
        self.maxRecords = maxRecords
        self.maxValueSize = maxValueSize
    }

    /// 1 MiB lines, a million records, 4 MiB values.
    public static let `default` = LDIFLimits()

    var maxLogicalLineLength: Int {
        let (twice, overflow) = max(0, maxValueSize).multipliedReportingOverflow(by: 2)
        let (total, overflow2) = (overflow ? Int.max : max(twice, maxLineLength)).addingReportingOverflow(1024)
        return overflow2 ? Int.max : total
    }
}
