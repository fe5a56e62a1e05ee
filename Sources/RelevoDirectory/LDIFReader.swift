/// Reads LDIF (RFC 2849) into records, refusing what it cannot trust.
///
/// Accepted: an optional `version: 1` first line; `#` comment lines
/// (folded comments too); folded lines (a line starting with one space
/// continues the previous one, that space removed); LF or CRLF line ends;
/// records separated by one or more blank lines; `attr: value`,
/// `attr:: base64`; attribute options kept in the name (`cn;lang-en`);
/// content records and change records (`changetype: add`, `delete`,
/// `modify` with `add:`/`delete:`/`replace:` sections ended by `-`,
/// `modrdn`/`moddn` with `newrdn:`, `deleteoldrdn:`, `newsuperior:`), and
/// `control:` lines before `changetype:`. Both kinds of record may appear in
/// one text. Values of one attribute are gathered at its first position.
///
/// Leniencies: plain values may hold UTF-8 (RFC 2849 wants base64 for
/// non-ASCII); the final `-` of a modify record may be omitted.
///
/// Refused with an `LDIFError` at its line and column: `attr:< URL` values
/// (Relevo never reads files or URLs named in data), NUL or CR in a plain
/// value, bad base64, bad attribute descriptions or DNs, a record without
/// `dn:`, a `dn:` line inside a record, `increment:` modifications,
/// `version:` other than 1, and anything beyond `LDIFLimits`.
/// No input makes the reader trap.
public struct LDIFReader: Sendable {
    public var limits: LDIFLimits

    public init(limits: LDIFLimits = .default) {
        self.limits = limits
    }

    /// Reads all records of `text`.
    public func read(_ text: String) throws(LDIFError) -> [LDIFRecord] {
        try read(bytes: Array(text.utf8))
    }

    /// Reads all records of `bytes` (UTF-8 text, possibly with binary
    /// bytes in plain values).
    public func read(bytes: [UInt8]) throws(LDIFError) -> [LDIFRecord] {
        try readWithLines(bytes: bytes).map(\.record)
    }

    /// Reads all records with the line number each record's `dn:` is on.
    public func readWithLines(_ text: String) throws(LDIFError) -> [(line: Int, record: LDIFRecord)] {
        try readWithLines(bytes: Array(text.utf8))
    }

    /// Reads all records of `bytes` with the line number each one's `dn:` is on.
    public func readWithLines(bytes: [UInt8]) throws(LDIFError) -> [(line: Int, record: LDIFRecord)] {
        var records = try LDIFLineSplitter(input: bytes, limits: limits).records()
        let parser = RecordParser(input: bytes, limits: limits)
        if let first = records.first?.first, let spec = try? parser.spec(first),
           spec.name.lowercased() == "version" {
            var value = try parser.value(spec, first)
            while value.last == UInt8(ascii: " ") { value.removeLast() }
            guard value == Array("1".utf8) else {
                throw parser.error(first, spec.valueStart, "unsupported LDIF version '\(String(decoding: value, as: UTF8.self))': only 'version: 1' is known")
            }
            records[0].removeFirst()
            if records[0].isEmpty { records.removeFirst() }
        }
        let maxRecords = max(0, limits.maxRecords)
        if records.count > maxRecords {
            throw LDIFError(line: records[maxRecords][0].lineNumber, column: 1,
                            message: "more than \(limits.maxRecords) records")
        }
        var out: [(line: Int, record: LDIFRecord)] = []
        out.reserveCapacity(records.count)
        for i in records.indices {
            out.append((records[i][0].lineNumber, try parser.record(records[i])))
            records[i] = []  // its lines are no longer needed: the peak memory is lower
        }
        return out
    }
}
