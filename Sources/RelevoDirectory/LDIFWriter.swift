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
        // Written as bytes into one buffer, line by line, each line folded
        // as it ends; records separated by a blank line.
        var out = Output(lineWidth: lineWidth)
        if includeVersion { out.text("version: 1\n") }  // never folded
        for (i, record) in records.enumerated() {
            if i > 0 || includeVersion { out.bytes.append(0x0A) }
            switch record {
            case .content(let entry):
                out.spec("dn", entry.dn.description)
                attributeLines(entry.attributes, &out)
            case .change(let change):
                out.spec("dn", change.dn.description)
                for control in change.controls {
                    out.begin()
                    out.text("control: \(control.oid) \(control.critical ? "true" : "false")")
                    if let value = control.value {
                        if Self.isSafeString(value.bytes) && !value.bytes.isEmpty {
                            out.text(": ")
                            out.bytes += value.bytes
                        } else {
                            out.text(":: ")
                            Base64.encode(value.bytes, into: &out.bytes)
                        }
                    }
                    out.end()
                }
                switch change.change {
                case .add(let attributes):
                    out.line("changetype: add")
                    attributeLines(attributes, &out)
                case .delete:
                    out.line("changetype: delete")
                case .modify(let modifications):
                    out.line("changetype: modify")
                    for modification in modifications {
                        out.line("\(modification.operation.rawValue): \(modification.attribute)")
                        for value in modification.values { out.spec(modification.attribute, value.bytes) }
                        out.line("-")
                    }
                case let .modifyDN(newRDN, deleteOldRDN, newSuperior):
                    out.line("changetype: modrdn")
                    out.spec("newrdn", newRDN.description)
                    out.line("deleteoldrdn: \(deleteOldRDN ? 1 : 0)")
                    if let newSuperior { out.spec("newsuperior", newSuperior.description) }
                }
            }
        }
        return String(decoding: out.bytes, as: UTF8.self)
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

    private func attributeLines(_ attributes: [Attribute], _ out: inout Output) {
        for attribute in attributes {
            for value in attribute.values { out.spec(attribute.name, value.bytes) }
        }
    }

    /// The text being written, and where its current line started.
    private struct Output {
        let lineWidth: Int
        var bytes: [UInt8] = []
        var lineStart = 0

        init(lineWidth: Int) { self.lineWidth = lineWidth }

        mutating func begin() { lineStart = bytes.count }

        mutating func text(_ s: String) { bytes.append(contentsOf: s.utf8) }

        mutating func line(_ s: String) {
            begin()
            text(s)
            end()
        }

        /// `name: value`, `name:: base64` when the value is not a safe
        /// string, `name:` when it is empty.
        mutating func spec(_ name: String, _ value: [UInt8]) {
            begin()
            text(name)
            if value.isEmpty {
                bytes.append(UInt8(ascii: ":"))
            } else if LDIFWriter.isSafeString(value) {
                text(": ")
                bytes += value
            } else {
                text(":: ")
                Base64.encode(value, into: &bytes)
            }
            end()
        }

        mutating func spec(_ name: String, _ value: String) { spec(name, Array(value.utf8)) }

        /// Ends the current line with its newline, folded to `lineWidth`:
        /// continuation lines start with one space.
        mutating func end() {
            guard lineWidth >= 2, bytes.count - lineStart > lineWidth else {
                bytes.append(0x0A)
                return
            }
            let line = Array(bytes[lineStart...])
            bytes.removeSubrange(lineStart...)
            var start = 0
            var width = lineWidth
            while start < line.count {
                var end = min(start + width, line.count)
                // Never split a UTF-8 sequence (only a DN or name could hold one).
                while end < line.count, end > start + 1, line[end] & 0xC0 == 0x80 { end -= 1 }
                if start > 0 { bytes.append(0x20) }
                bytes += line[start..<end]
                bytes.append(0x0A)
                start = end
                width = lineWidth - 1
            }
        }
    }
}
