import Testing
@testable import RelevoDirectory

@Suite struct LDIFWriterTests {
    func roundTrip(_ records: [LDIFRecord], writer: LDIFWriter = LDIFWriter()) throws {
        let text = writer.write(records)
        let again = try LDIFReader().read(text)
        #expect(again == records, "\(text)")
        // DNs keep their spelling too, not only their normalised identity.
        #expect(again.map(\.dn.description) == records.map(\.dn.description))
        // Deterministic: writing again gives the same text.
        #expect(writer.write(again) == text)
    }

    @Test func writesPlainValuesPlainly() throws {
        let entry = try #require(try LDIFReader().read(Fixtures.ceres).first)
        let text = LDIFWriter().write([entry])
        #expect(text == "version: 1\n\n" + Fixtures.ceres)
        try roundTrip([entry])
    }

    @Test(arguments: [
        ("plain", true),
        ("", true),
        (" leading space", false),
        ("trailing space ", false),
        (":colon", false),
        ("<angle", false),
        ("inner: colon <and> spaces", true),
        ("José", false),
        ("line\nbreak", false),
        ("cr\rhere", false),
        ("nul\u{0}", false),
        ("tab\there", true),
        ("#hash", true),
    ])
    func safeStrings(_ value: String, _ safe: Bool) {
        #expect(LDIFWriter.isSafeString(Array(value.utf8)) == safe)
    }

    @Test func base64ForUnsafeValues() {
        var entry = Entry(dn: Fixtures.dn("uid=josé,dc=mx"))
        entry.append("uid", "josé")
        entry.append("description", " x")
        entry.append("jpegPhoto", AttributeValue(bytes: [0xFF, 0x00, 0x0A]))
        entry.append("empty", "")
        let text = LDIFWriter(includeVersion: false).write(entries: [entry])
        #expect(text == """
            dn:: dWlkPWpvc8OpLGRjPW14
            uid:: am9zw6k=
            description:: IHg=
            jpegPhoto:: /wAK
            empty:

            """)
    }

    @Test func foldsAt76Columns() throws {
        var entry = Entry(dn: Fixtures.dn("dc=mx"))
        entry.append("dc", "mx")
        entry.append("description", AttributeValue(String(repeating: "abcdefghij", count: 20)))
        entry.append("jpegPhoto", AttributeValue(bytes: (0..<300).map { UInt8($0 % 256) }))
        let text = LDIFWriter().write(entries: [entry])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.contains { $0.utf8.count == 76 })
        #expect(lines.contains { $0.hasPrefix(" ") })
        try roundTrip([.content(entry)])
        try roundTrip([.content(entry)], writer: LDIFWriter(includeVersion: false, lineWidth: 0))
        try roundTrip([.content(entry)], writer: LDIFWriter(lineWidth: 2))
    }

    @Test func roundTripsBinaryAndUTF8Values() throws {
        var entry = Entry(dn: Fixtures.dn("cn=Peña Nieto\\2C E.+sn=Peña,ou=Ñoños,dc=unam,dc=mx"))
        entry.append("cn", "Peña Nieto, E.")
        entry.append("sn", "Peña")
        entry.append("cn;lang-ja", "日本語のテキスト")
        entry.append("description", "emoji 🚀 and combining é")
        entry.append("userCertificate;binary", AttributeValue(bytes: Array(0...255)))
        entry.append("trailing", "space ")
        entry.append("multi", "line one\nline two\r\n")
        entry.append("empty", "")
        entry.append("nul", AttributeValue(bytes: [0]))
        try roundTrip([.content(entry)])
    }

    @Test func roundTripsHostileDNs() throws {
        for value in ["a,b", "a+b", " lead", "trail ", "#hash", "nul\u{0}", "x=y", "<>;\"\\", "line\nbreak", "ñ"] {
            let dn = try DistinguishedName("uid=" + DistinguishedName.escape(value: value) + ",dc=mx")
            var entry = Entry(dn: dn)
            entry.append("uid", AttributeValue(value))
            try roundTrip([.content(entry)])
        }
    }

    @Test func roundTripsChangeRecords() throws {
        let dn = Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx")
        let records: [LDIFRecord] = [
            .change(LDIFChangeRecord(dn: dn, change: .add([Attribute("uid", ["ceres"]), Attribute("photo", [AttributeValue(bytes: [0xFF])])]))),
            .change(LDIFChangeRecord(dn: dn, controls: [LDIFControl(oid: "1.2.3", critical: true, value: AttributeValue(bytes: [0, 1])),
                                                         LDIFControl(oid: "1.2.4"), LDIFControl(oid: "1.2.5", value: "text")],
                                     change: .delete)),
            .change(LDIFChangeRecord(dn: dn, change: .modify([
                .replace("mailHost", ["xalumno.servidores.unam.mx"]),
                .add("mailQuotaSize", ["10000000"]),
                .delete("mailQuota"),
                .delete("description", [" spaced "]),
                .replace("empty", []),
            ]))),
            .change(LDIFChangeRecord(dn: dn, change: .modifyDN(newRDN: try RelativeDistinguishedName("uid=cé\\,res"),
                                                               deleteOldRDN: true, newSuperior: Fixtures.dn("ou=x,dc=mx")))),
            .change(LDIFChangeRecord(dn: dn, change: .modifyDN(newRDN: try RelativeDistinguishedName("uid=b"),
                                                               deleteOldRDN: false, newSuperior: nil))),
        ]
        try roundTrip(records)
    }

    @Test func entryDescriptionIsItsLDIF() throws {
        let entry = try Entry(dn: "uid=a,dc=mx", [("uid", "a"), ("cn", "A")])
        #expect(entry.description == "dn: uid=a,dc=mx\nuid: a\ncn: A\n")
    }
}
