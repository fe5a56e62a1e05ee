/// A position in a source file: 1-based line and column (columns count
/// Unicode scalars, as libyaml does).
public struct SourceLocation: Hashable, Comparable, Sendable, Codable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// A half-open range `[start, end)` in one named file.
public struct SourceRange: Hashable, Sendable, Codable {
    public var file: String
    public var start: SourceLocation
    public var end: SourceLocation

    public init(file: String, start: SourceLocation, end: SourceLocation) {
        self.file = file
        self.start = start
        self.end = end
    }

    /// A range covering `length` columns from `start` on one line.
    public init(file: String, line: Int, column: Int, length: Int = 1) {
        self.init(file: file,
                  start: SourceLocation(line: line, column: column),
                  end: SourceLocation(line: line, column: column + max(length, 1)))
    }

    /// The range moved `offset` columns to the right and narrowed to `length`
    /// columns, on its starting line.
    public func subrange(columnOffset offset: Int, length: Int) -> SourceRange {
        SourceRange(file: file, line: start.line, column: start.column + offset, length: length)
    }
}

extension SourceRange: CustomStringConvertible {
    public var description: String { "\(file):\(start.line):\(start.column)" }
}
