import Testing
import RelevoBasics
@testable import RelevoDirectory

/// The ASCII fast paths of the directory's comparisons, escaping and LDIF
/// writing give what the general (Unicode) code gives, on chosen and on
/// random strings.
@Suite struct ASCIIFastPathTests {
    /// Strings of ASCII letters, digits, spaces, punctuation and controls,
    /// some with a non-ASCII character.
    static func samples(count: Int, seed: UInt64) -> [String] {
        var rng = SplitMix64(seed: seed)
        let alphabet: [String] = ["a", "B", "z", "Z", "0", "9", " ", " ", "-", ";", ",", "+", "=", "\\", "\"", "#",
                                  "<", ">", "/", "\u{0}", "\n", "\u{7F}", "é", "É", "\u{301}", "İ", "K", "\u{212A}"]
        var out = ["", " ", "  a  b  ", "ABC", "abc", "Ana  Ruiz", " lead", "trail ", "#x", "a#", "é", "E\u{301}",
                   "\u{212A}elvin", "kelvin", "İ", "i\u{307}"]
        for _ in 0..<count {
            let length = Int(rng.next() % 9)
            out.append((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined())
        }
        return out
    }

    @Test func foldIsTheUnicodeFold() {
        for s in Self.samples(count: 2000, seed: 1) {
            #expect(MatchingRules.fold(s) == MatchingRules.collapseSpaces(s.lowercased(), trimLeading: true, trimTrailing: true))
        }
    }

    @Test func equalIsEqualityOfKeys() {
        let values = Self.samples(count: 300, seed: 2).map { AttributeValue($0) }
            + [AttributeValue(bytes: [0xFF, 0x41]), AttributeValue(bytes: [0xFF, 0x61])]
        func reference(_ v: AttributeValue) -> MatchingRules.Key {
            if let s = v.string { return .text(MatchingRules.collapseSpaces(s.lowercased(), trimLeading: true, trimTrailing: true)) }
            return .binary(v.bytes)
        }
        for a in values {
            #expect(MatchingRules.key(a) == reference(a))
            for b in values.prefix(120) {
                #expect(MatchingRules.equal(a, b) == (reference(a) == reference(b)), "\(a) vs \(b)")
            }
        }
        #expect(MatchingRules.equal("Ana  Ruiz ", " ana ruiz"))
        #expect(!MatchingRules.equal("ana", "ana b"))
    }

    @Test func sameNameIsTheUnicodeComparison() {
        let names = Self.samples(count: 400, seed: 3) + ["cn", "CN", "cn;lang-en", "CN;LANG-EN", "objectClass", "objectclass",
                                                          "c", "cn ", "[", "{", "@", "`"]
        for a in names {
            for b in names.prefix(200) {
                #expect(AttributeDescription.sameName(a, b) == (a.count == b.count && a.lowercased() == b.lowercased()),
                        "\(a) vs \(b)")
            }
        }
    }

    @Test func attributeNamesAreValidatedAsBefore() {
        for s in Self.samples(count: 500, seed: 4) + ["cn", "cn;lang-en", "2.5.4.3", "2.5.", "1", "a b", "x-y;z"] {
            #expect(AttributeDescription.isValid(s) == (AttributeDescription(s) != nil))
            #expect(AttributeDescription.isValid(s) == AttributeDescription.isValid(Array(s.utf8)))
        }
    }

    @Test func escapingIsTheScalarEscaping() {
        for s in Self.samples(count: 2000, seed: 5) {
            #expect(DistinguishedName.escape(value: s) == DistinguishedName.escapeScalars(s))
        }
    }

    @Test func fewValuesAreCheckedForDuplicatesAsManyAre() {
        let samples = Self.samples(count: 600, seed: 6)
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let values = (0..<Int(rng.next() % 9)).map { _ in AttributeValue(samples[Int(rng.next() % UInt64(samples.count))]) }
            let keys = values.map(MatchingRules.key)
            #expect(MemoryDirectory.hasDuplicate(values) == (Set(keys).count != keys.count))
        }
    }
}

/// The LDIF writer as it was before it wrote bytes (session 14), kept to
/// show that the new one writes the same text.
struct ReferenceLDIFWriter {
    var includeVersion: Bool
    var lineWidth: Int

    /// The LDIF text of `records`, ending with a newline.
    func write(_ records: [LDIFRecord]) -> String {
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
                        line += LDIFWriter.isSafeString(value.bytes) && !value.bytes.isEmpty
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

    private func attributeLines(_ attributes: [Attribute]) -> [String] {
        attributes.flatMap { attribute in attribute.values.map { spec(attribute.name, $0) } }
    }

    private func spec(_ name: String, _ value: AttributeValue) -> String {
        if value.bytes.isEmpty { return name + ":" }
        if LDIFWriter.isSafeString(value.bytes) { return name + ": " + String(decoding: value.bytes, as: UTF8.self) }
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

@Suite struct LDIFWriterReferenceTests {
    @Test func writesWhatTheStringWriterWrote() throws {
        let samples = ASCIIFastPathTests.samples(count: 400, seed: 8)
        var rng = SplitMix64(seed: 9)
        func pick() -> String { samples[Int(rng.next() % UInt64(samples.count))] }
        func value() -> AttributeValue {
            switch rng.next() % 5 {
            case 0: AttributeValue(bytes: (0..<Int(rng.next() % 90)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            case 1: AttributeValue(String(repeating: pick() + "x", count: Int(rng.next() % 40)))
            default: AttributeValue(pick())
            }
        }
        var records: [LDIFRecord] = []
        for i in 0..<300 {
            let dn = DistinguishedName(rdns: [try RelativeDistinguishedName(type: "cn", value: pick() + "\(i)" + String(repeating: "é", count: i % 50)),
                                              try RelativeDistinguishedName(type: "dc", value: "x")])
            let attributes = (0..<Int(rng.next() % 6)).map { k in Attribute("a\(k)", (0...Int(rng.next() % 3)).map { _ in value() }) }
            switch i % 6 {
            case 0, 1: records.append(.content(Entry(dn: dn, attributes: attributes)))
            case 2: records.append(.change(LDIFChangeRecord(dn: dn, change: .add(attributes))))
            case 3: records.append(.change(LDIFChangeRecord(dn: dn, controls: [LDIFControl(oid: "1.2.3", critical: i % 4 == 0, value: i % 3 == 0 ? nil : value())],
                                                            change: .delete)))
            case 4: records.append(.change(LDIFChangeRecord(dn: dn, change: .modify([.replace("mailHost", [value()]), .delete("b", []),
                                                                                     Modification(.add, "c", [value(), value()])]))))
            default: records.append(.change(LDIFChangeRecord(dn: dn, change: .modifyDN(newRDN: try RelativeDistinguishedName(type: "cn", value: pick() + "r"),
                                                                                       deleteOldRDN: i % 2 == 0, newSuperior: i % 4 == 1 ? dn : nil))))
            }
        }
        for (version, width) in [(true, 76), (false, 76), (false, 1), (true, 2), (false, 10)] {
            let new = LDIFWriter(includeVersion: version, lineWidth: width)
            let old = ReferenceLDIFWriter(includeVersion: version, lineWidth: width)
            #expect(new.write(records) == old.write(records))
            #expect(new.write([]) == old.write([]))
            for record in records.prefix(40) { #expect(new.write([record]) == old.write([record])) }
        }
    }
}

@Suite struct SimpleDNParsingTests {
    @Test func plainDNsAreReadAsTheScalarParserReadsThem() throws {
        var rng = SplitMix64(seed: 11)
        let pieces = ["uid", "dc", "cn", "1.2.3", "2.5", "a-b", "x", "=", ",", "a", "Z", "9", ".", "-", "_", " ", "\\,", "+",
                      "#", "é", "\"", ";", "ceres", "exalumno", "", "=="]
        var samples = ["uid=ceres,dc=exalumno,dc=unam,dc=mx", "UID=Ceres,DC=X", "cn=a=b,dc=x", "cn=,dc=x", "a=b,", ",a=b",
                       "a=b,,c=d", "1.2.3=x", "1a=b", "-a=b", "a_b=c", "=x", "x", "", "dc=mx"]
        for _ in 0..<4000 {
            samples.append((0..<Int(rng.next() % 10)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined())
        }
        var simple = 0
        for s in samples {
            guard let fast = DNParser.parseSimple(s) else { continue }
            simple += 1
            let general = try DNParser.parseScalars(s)
            #expect(fast.map(\.description) == general.map(\.description), "\(s)")
            #expect(fast.map(\.key) == general.map(\.key), "\(s)")
            #expect(fast.flatMap { $0.attributes.map(\.type) } == general.flatMap { $0.attributes.map(\.type) }, "\(s)")
            #expect(fast.flatMap { $0.attributes.map(\.value) } == general.flatMap { $0.attributes.map(\.value) }, "\(s)")
        }
        #expect(simple > 40)
        #expect(DNParser.parseSimple("uid=ceres,dc=exalumno,dc=unam,dc=mx")?.count == 4)
        #expect(DNParser.parseSimple("uid=a\\,b,dc=x") == nil)
        #expect(DNParser.parseSimple("a=b,") == nil)
    }
}
