/// Writes records as LDIF (RFC 2849), deterministically: the same records
/// always give the same text, and `LDIFReader().read(write(x)) == x`.
///
/// Each record is followed by nothing but a blank line before the next;
/// attributes and values keep their order. A value (or DN) is written
/// plainly only when it is an RFC 2849 SAFE-STRING (ASCII with no NUL, LF or
/// CR; not starting with a space, `:` or `<`; not ending with a space, which
/// the RFC allows but many tools strip); otherwise it is written in base64
/// (`attr:: ...`). Empty values are written `attr:`. Lines longer than
/// `lineWidth` bytes are folded: continuation lines start with one space.
public struct LDIFWriter: Sendable {
    /// Whether to start with `version: 1` and a blank line.
    public var includeVersion: Bool
    /// Longest output line in bytes; values below 2 disable folding.
    public var lineWidth: Int

    public init(includeVersion: Bool = true, lineWidth: Int = 76) {
        self.includeVersion = includeVersion
        self.lineWidth = lineWidth
    }

    /// The LDIF text of `records`, ending with a newline.
    public func write(_ records: [LDIFRecord]) -> String {
        var chunks: [String] = []
        if includeVersion { chunks.append("version: 1\n") }
        for record in records {
            var lines: [String] = []
            switch record {
            case .content(let entry):
                lines.append(spec("dn", AttributeValue(entry.dn.description)))
                lines += attributeLines(entry.attributes)
            case .change(let change):
                lines.append(spec("dn", AttributeValue(change.dn.description)))
                for control in change.controls {
                    var line = "control: \(control.oid) \(control.critical ? "true" : "false")"
                    if let value = control.value {
                        line += Self.isSafeString(value.bytes) && !value.bytes.isEmpty
                            ? ": " + value.string! : ":: " + Base64.encode(value.bytes)
                    }
                    lines.append(line)
                }
                switch change.change {
                case .add(let attributes):
                    lines.append("changetype: add")
                    lines += attributeLines(attributes)
                case .delete:
                    lines.append("changetype: delete")
                case .modify(let modifications):
                    lines.append("changetype: modify")
                    for modification in modifications {
                        lines.append("\(modification.operation.rawValue): \(modification.attribute)")
                        lines += modification.values.map { spec(modification.attribute, $0) }
                        lines.append("-")
                    }
                case let .modifyDN(newRDN, deleteOldRDN, newSuperior):
                    lines.append("changetype: modrdn")
                    lines.append(spec("newrdn", AttributeValue(newRDN.description)))
                    lines.append("deleteoldrdn: \(deleteOldRDN ? 1 : 0)")
                    if let newSuperior { lines.append(spec("newsuperior", AttributeValue(newSuperior.description))) }
                }
            }
            chunks.append(lines.map(fold).joined())
        }
        return chunks.joined(separator: "\n")
    }

    /// The LDIF text of `entries` as content records.
    public func write(entries: [Entry]) -> String {
        write(entries.map { .content($0) })
    }

    /// True when `bytes` may be written as a plain value: an RFC 2849
    /// SAFE-STRING that does not end with a space.
    public static func isSafeString(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return true }
        if first == 0x20 || first == UInt8(ascii: ":") || first == UInt8(ascii: "<") { return false }
        if bytes.last == 0x20 { return false }
        return bytes.allSatisfy { $0 != 0 && $0 != 0x0A && $0 != 0x0D && $0 < 0x80 }
    }

    private func attributeLines(_ attributes: [Attribute]) -> [String] {
        attributes.flatMap { attribute in attribute.values.map { spec(attribute.name, $0) } }
    }

    private func spec(_ name: String, _ value: AttributeValue) -> String {
        if value.bytes.isEmpty { return name + ":" }
        if Self.isSafeString(value.bytes) { return name + ": " + String(decoding: value.bytes, as: UTF8.self) }
        return name + ":: " + Base64.encode(value.bytes)
    }

    /// The line folded to `lineWidth`, with its newline.
    private func fold(_ line: String) -> String {
        let bytes = Array(line.utf8)
        guard lineWidth >= 2, bytes.count > lineWidth else { return line + "\n" }
        var out: [UInt8] = []
        var start = 0
        var width = lineWidth
        while start < bytes.count {
            var end = min(start + width, bytes.count)
            // Never split a UTF-8 sequence (only a DN or name could hold one).
            while end < bytes.count, end > start + 1, bytes[end] & 0xC0 == 0x80 { end -= 1 }
            if start > 0 { out.append(0x20) }
            out += bytes[start..<end]
            out.append(0x0A)
            start = end
            width = lineWidth - 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
