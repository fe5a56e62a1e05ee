/// Parses the logical lines of one record.
struct RecordParser {
    let input: [UInt8]
    let limits: LDIFLimits

    enum Encoding { case plain, base64 }

    /// `name: value`, `name:: base64`, split but not decoded.
    struct Spec {
        var name: String
        var encoding: Encoding
        /// Logical offset where the value starts (after the spaces).
        var valueStart: Int
    }

    func error(_ line: LDIFLine, _ index: Int, _ message: String) -> LDIFError {
        let at = line.location(of: index, in: input)
        return LDIFError(line: at.line, column: at.column, message: message)
    }

    func spec(_ line: LDIFLine) throws(LDIFError) -> Spec {
        let bytes = line.bytes
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            throw error(line, 0, "expected 'attribute: value', found no ':' on this line")
        }
        if colon == 0 { throw error(line, 0, "missing attribute name before ':'") }
        if let bad = AttributeDescription.firstInvalidOffset(bytes[0..<colon]) {
            let name = String(decoding: bytes[0..<colon], as: UTF8.self)
            throw error(line, bad, "invalid attribute description '\(name)'")
        }
        var i = colon + 1
        var encoding = Encoding.plain
        if i < bytes.count, bytes[i] == UInt8(ascii: ":") {
            encoding = .base64
            i += 1
        } else if i < bytes.count, bytes[i] == UInt8(ascii: "<") {
            throw error(line, i, "URL values ('attr:< URL') are refused: Relevo never reads files or URLs named in data; put the value inline or in base64 ('attr:: ...')")
        }
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        return Spec(name: String(decoding: bytes[0..<colon], as: UTF8.self), encoding: encoding, valueStart: i)
    }

    func value(_ spec: Spec, _ line: LDIFLine) throws(LDIFError) -> [UInt8] {
        let raw = line.bytes[spec.valueStart...]
        let value: [UInt8]
        switch spec.encoding {
        case .plain:
            if let bad = raw.firstIndex(where: { $0 == 0 || $0 == 0x0D }) {
                throw error(line, bad, "\(raw[bad] == 0 ? "NUL" : "carriage return") in a value: write the value in base64 ('\(spec.name):: ...')")
            }
            value = Array(raw)
        case .base64:
            var text = raw
            while text.last == UInt8(ascii: " ") { text = text.dropLast() }
            switch Base64.decode(text) {
            case .success(let decoded): value = decoded
            case .failure(let failure):
                throw error(line, spec.valueStart + failure.offset, "invalid base64 in the value of '\(spec.name)'")
            }
        }
        if value.count > limits.maxValueSize {
            throw error(line, spec.valueStart, "value of '\(spec.name)' is larger than \(limits.maxValueSize) bytes")
        }
        return value
    }

    func text(_ spec: Spec, _ line: LDIFLine) throws(LDIFError) -> String {
        guard let s = UTF8Validation.string(try value(spec, line)) else {
            throw error(line, spec.valueStart, "the value of '\(spec.name)' is not valid UTF-8")
        }
        return s
    }

    func dn(_ spec: Spec, _ line: LDIFLine) throws(LDIFError) -> DistinguishedName {
        let s = try text(spec, line)
        do {
            return try DistinguishedName(s)
        } catch {
            throw self.error(line, position(of: error.offset, in: s, spec: spec), "invalid DN: \(error.message)")
        }
    }

    func rdn(_ spec: Spec, _ line: LDIFLine) throws(LDIFError) -> RelativeDistinguishedName {
        let dn = try dn(spec, line)
        guard dn.rdns.count == 1 else {
            throw error(line, spec.valueStart, "'\(spec.name)' must be exactly one RDN, found \(dn.rdns.count)")
        }
        return dn.rdns[0]
    }

    /// The logical offset of scalar `offset` of a plain value (the value's
    /// start for base64, whose text is not on the line).
    func position(of offset: Int, in s: String, spec: Spec) -> Int {
        guard spec.encoding == .plain else { return spec.valueStart }
        var bytes = 0
        for (i, c) in s.unicodeScalars.enumerated() where i < offset { bytes += String(c).utf8.count }
        return spec.valueStart + bytes
    }

    /// `name` is lower-case ASCII; a spec's name is a valid (ASCII) description.
    func isName(_ spec: Spec, _ name: String) -> Bool { AttributeDescription.sameName(spec.name, name) }

    func record(_ lines: [LDIFLine]) throws(LDIFError) -> LDIFRecord {
        let first = lines[0]
        let dnSpec: Spec
        do { dnSpec = try spec(first) } catch { throw self.error(first, 0, "a record must start with 'dn:' (\(error.message))") }
        guard isName(dnSpec, "dn") else {
            throw error(first, 0, "a record must start with 'dn:', found '\(dnSpec.name):'")
        }
        let dn = try dn(dnSpec, first)
        var index = 1

        var controls: [LDIFControl] = []
        while index < lines.count {
            let s = try spec(lines[index])
            guard isName(s, "control") else { break }
            controls.append(try control(s, lines[index]))
            index += 1
        }
        if index < lines.count {
            let s = try spec(lines[index])
            if isName(s, "changetype") {
                let kind = try text(s, lines[index]).lowercased()
                let changeLine = lines[index]
                index += 1
                let rest = Array(lines[index...])
                let change: LDIFChange
                switch kind {
                case "add":
                    let attributes = try attributeList(rest)
                    if attributes.isEmpty { throw error(changeLine, 0, "'changetype: add' needs at least one attribute") }
                    change = .add(attributes)
                case "delete":
                    if let extra = rest.first { throw error(extra, 0, "nothing may follow 'changetype: delete'") }
                    change = .delete
                case "modify":
                    change = .modify(try modifications(rest))
                case "modrdn", "moddn":
                    change = try modifyDN(rest, after: changeLine)
                default:
                    throw error(changeLine, s.valueStart, "unknown changetype '\(kind)': expected add, delete, modify, modrdn or moddn")
                }
                return .change(LDIFChangeRecord(dn: dn, controls: controls, change: change))
            }
        }
        if !controls.isEmpty {
            throw error(lines[index - 1], 0, "'control:' is allowed only in change records: expected 'changetype:' next")
        }
        let attributes = try attributeList(Array(lines[index...]))
        if attributes.isEmpty { throw error(first, 0, "entry '\(dn)' has no attributes") }
        return .content(Entry(dn: dn, attributes: attributes))
    }

    /// `attr: value` lines, gathered by attribute name.
    func attributeList(_ lines: [LDIFLine]) throws(LDIFError) -> [Attribute] {
        var entry = Entry(dn: .root)
        for line in lines {
            let s = try spec(line)
            if isName(s, "dn") { throw error(line, 0, "'dn:' inside a record: separate records with a blank line") }
            let value = AttributeValue(bytes: try value(s, line))
            // A value of the attribute of the line before (objectClass...)
            // joins it without a search; `append` finds any other.
            if let last = entry.attributes.indices.last, AttributeDescription.sameName(entry.attributes[last].name, s.name) {
                entry.attributes[last].values.append(value)
            } else {
                entry.append(s.name, value)
            }
        }
        return entry.attributes
    }

    func control(_ s: Spec, _ line: LDIFLine) throws(LDIFError) -> LDIFControl {
        guard s.encoding == .plain else { throw error(line, s.valueStart, "a control line cannot be base64") }
        let b = line.bytes
        var i = s.valueStart
        let oidStart = i
        while i < b.count, AttributeDescription.isDigit(b[i]) || b[i] == UInt8(ascii: ".") { i += 1 }
        let oid = Array(b[oidStart..<i])
        if oid.isEmpty || !AttributeDescription.isDigit(oid[0]) || AttributeDescription.firstInvalidOffset(oid) != nil {
            throw error(line, oidStart, "expected a control OID (such as 1.2.840.113556.1.4.805)")
        }
        while i < b.count, b[i] == UInt8(ascii: " ") { i += 1 }
        var critical = false
        for word in ["true", "false"] where b[i...].starts(with: word.utf8) {
            critical = word == "true"
            i += word.utf8.count
        }
        while i < b.count, b[i] == UInt8(ascii: " ") { i += 1 }
        var value: AttributeValue?
        if i < b.count {
            guard b[i] == UInt8(ascii: ":") else { throw error(line, i, "unexpected text in control line") }
            // Re-use the value parsing of an attribute line on the rest.
            var tail = line
            tail.bytes = Array("control".utf8) + b[i...]
            tail.first = LDIFLine.Segment(logicalStart: 0, inputOffset: 0, lineNumber: line.lineNumber, lineStart: 0)
            tail.more = []
            do {
                let tailSpec = try spec(tail)
                value = AttributeValue(bytes: try self.value(tailSpec, tail))
            } catch {
                throw self.error(line, i, error.message)
            }
        }
        return LDIFControl(oid: String(decoding: oid, as: UTF8.self), critical: critical, value: value)
    }

    func modifications(_ lines: [LDIFLine]) throws(LDIFError) -> [Modification] {
        var mods: [Modification] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let s = try spec(line)
            let operation: Modification.Operation
            switch s.name.lowercased() {
            case "add": operation = .add
            case "delete": operation = .delete
            case "replace": operation = .replace
            case "increment": throw error(line, 0, "'increment:' modifications are not supported")
            default: throw error(line, 0, "expected 'add:', 'delete:' or 'replace:' in a modify record, found '\(s.name):'")
            }
            guard s.encoding == .plain else { throw error(line, s.valueStart, "the attribute of '\(s.name):' cannot be base64") }
            var nameBytes = Array(line.bytes[s.valueStart...])
            while nameBytes.last == UInt8(ascii: " ") { nameBytes.removeLast() }
            if let bad = AttributeDescription.firstInvalidOffset(nameBytes) {
                throw error(line, s.valueStart + bad, nameBytes.isEmpty ? "missing attribute after '\(s.name):'" : "invalid attribute description '\(String(decoding: nameBytes, as: UTF8.self))'")
            }
            let attribute = String(decoding: nameBytes, as: UTF8.self)
            index += 1
            var values: [AttributeValue] = []
            while index < lines.count, !lines[index].isSeparator {
                let v = try spec(lines[index])
                guard AttributeDescription.sameName(v.name, attribute) else {
                    throw error(lines[index], 0, "'\(v.name):' inside the '\(s.name): \(attribute)' section: end the section with '-' first")
                }
                values.append(AttributeValue(bytes: try value(v, lines[index])))
                index += 1
            }
            index += 1 // the '-' (optional at the very end)
            mods.append(Modification(operation, attribute, values))
        }
        return mods
    }

    func modifyDN(_ lines: [LDIFLine], after changeLine: LDIFLine) throws(LDIFError) -> LDIFChange {
        guard let first = lines.first else { throw error(changeLine, 0, "'changetype: modrdn' needs 'newrdn:' and 'deleteoldrdn:'") }
        let rdnSpec = try spec(first)
        guard isName(rdnSpec, "newrdn") else { throw error(first, 0, "expected 'newrdn:', found '\(rdnSpec.name):'") }
        let newRDN = try rdn(rdnSpec, first)
        guard lines.count > 1 else { throw error(first, 0, "expected 'deleteoldrdn:' after 'newrdn:'") }
        let deleteSpec = try spec(lines[1])
        guard isName(deleteSpec, "deleteoldrdn") else { throw error(lines[1], 0, "expected 'deleteoldrdn:', found '\(deleteSpec.name):'") }
        let flag = try text(deleteSpec, lines[1])
        guard flag == "0" || flag == "1" else { throw error(lines[1], deleteSpec.valueStart, "'deleteoldrdn:' must be 0 or 1") }
        var newSuperior: DistinguishedName?
        if lines.count > 2 {
            let superiorSpec = try spec(lines[2])
            guard isName(superiorSpec, "newsuperior") else { throw error(lines[2], 0, "expected 'newsuperior:' or the end of the record, found '\(superiorSpec.name):'") }
            newSuperior = try dn(superiorSpec, lines[2])
        }
        if lines.count > 3 { throw error(lines[3], 0, "unexpected line after a modrdn change") }
        return .modifyDN(newRDN: newRDN, deleteOldRDN: flag == "1", newSuperior: newSuperior)
    }
}
