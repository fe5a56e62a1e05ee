/// A logical LDIF line: physical lines joined by unfolding, with enough
/// bookkeeping to map a byte of the logical line back to line and column.
struct LDIFLine {
    struct Segment {
        /// Offset in the logical line where this physical piece starts.
        var logicalStart: Int
        /// Offset in the input of the piece's first byte.
        var inputOffset: Int
        /// 1-based physical line number.
        var lineNumber: Int
        /// Offset in the input where the physical line starts.
        var lineStart: Int
    }

    var bytes: [UInt8]
    /// The first physical piece, then those of continuation lines (kept
    /// apart so that an unfolded line, nearly every one, allocates none).
    var first: Segment
    var more: [Segment] = []

    init(bytes: [UInt8], first: Segment) {
        self.bytes = bytes
        self.first = first
    }

    /// The physical line the logical line starts on.
    var lineNumber: Int { first.lineNumber }

    /// The line and column of logical offset `index` (clamped to the line).
    func location(of index: Int, in input: [UInt8]) -> (line: Int, column: Int) {
        var segment = first
        for s in more where s.logicalStart <= index { segment = s }
        let offset = min(max(segment.inputOffset + (index - segment.logicalStart), segment.lineStart), input.count)
        var column = 1
        var i = segment.lineStart
        while i < offset {
            if input[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return (segment.lineNumber, column)
    }

    /// True when the line is `-` (the end of a modify section), trailing
    /// spaces allowed.
    var isSeparator: Bool {
        guard bytes.first == UInt8(ascii: "-") else { return false }
        return bytes.dropFirst().allSatisfy { $0 == UInt8(ascii: " ") }
    }
}

/// Splits input into records of logical lines: unfolds continuation lines,
/// drops comments, splits on blank lines, and enforces the line limits.
struct LDIFLineSplitter {
    let input: [UInt8]
    let limits: LDIFLimits

    func records() throws(LDIFError) -> [[LDIFLine]] {
        var records: [[LDIFLine]] = []
        var current: [LDIFLine] = []
        var pending: LDIFLine?
        var lineNumber = 0
        var start = 0

        func finishLine() {
            if let line = pending, line.bytes.first != UInt8(ascii: "#") { current.append(line) }
            pending = nil
        }

        while start < input.count {
            lineNumber += 1
            var end = start
            while end < input.count, input[end] != 0x0A { end += 1 }
            var contentEnd = end
            if contentEnd > start, input[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let length = contentEnd - start
            if length > limits.maxLineLength {
                let probe = LDIFLine(bytes: [], first: .init(logicalStart: 0, inputOffset: start, lineNumber: lineNumber, lineStart: start))
                let at = probe.location(of: limits.maxLineLength, in: input)
                throw LDIFError(line: at.line, column: at.column,
                                message: "line longer than \(limits.maxLineLength) bytes")
            }
            if length == 0 {
                finishLine()
                if !current.isEmpty {
                    try checkCount(records, next: current)
                    records.append(current)
                    current = []
                }
            } else if input[start] == 0x20 {
                guard var line = pending else {
                    throw LDIFError(line: lineNumber, column: 1,
                                    message: "continuation line (starting with a space) with no line to continue")
                }
                line.more.append(.init(logicalStart: line.bytes.count, inputOffset: start + 1,
                                           lineNumber: lineNumber, lineStart: start))
                line.bytes.append(contentsOf: input[(start + 1)..<contentEnd])
                if line.bytes.count > limits.maxLogicalLineLength {
                    throw LDIFError(line: line.lineNumber, column: 1,
                                    message: "folded line longer than \(limits.maxLogicalLineLength) bytes")
                }
                pending = line
            } else {
                finishLine()
                pending = LDIFLine(bytes: Array(input[start..<contentEnd]),
                                   first: .init(logicalStart: 0, inputOffset: start, lineNumber: lineNumber, lineStart: start))
            }
            start = end + 1
        }
        finishLine()
        if !current.isEmpty {
            try checkCount(records, next: current)
            records.append(current)
        }
        return records
    }

    /// Bounds memory while splitting: refuses the record after the last
    /// allowed one (a leading chunk holding only `version:` does not count).
    private func checkCount(_ records: [[LDIFLine]], next: [LDIFLine]) throws(LDIFError) {
        let maxRecords = max(0, limits.maxRecords)
        guard records.count >= maxRecords else { return }
        let versionChunk = records.first.map {
            $0.count == 1 && $0[0].bytes.prefix(8).map { $0 | 0x20 } == Array("version:".utf8)
        } ?? false
        guard records.count - (versionChunk ? 1 : 0) >= maxRecords else { return }
        throw LDIFError(line: next[0].lineNumber, column: 1, message: "more than \(limits.maxRecords) records")
    }
}
