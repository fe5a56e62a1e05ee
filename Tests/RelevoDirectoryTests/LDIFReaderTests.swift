import Testing
import RelevoBasics
@testable import RelevoDirectory

@Suite struct LDIFReaderTests {
    func read(_ text: String, limits: LDIFLimits = .default) throws -> [LDIFRecord] {
        try LDIFReader(limits: limits).read(text)
    }

    func error(_ text: String, limits: LDIFLimits = .default) -> LDIFError? {
        do {
            _ = try LDIFReader(limits: limits).read(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsTheSourceDocumentsUserEntry() throws {
        let records = try read(Fixtures.ceres)
        #expect(records.count == 1)
        guard case .content(let entry) = records.first else {
            Issue.record("not a content record")
            return
        }
        #expect(entry.dn.description == "uid=ceres,dc=eXalumno,dc=unam,dc=mx")
        #expect(entry.dn == Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx"))
        #expect(entry.attributes.map(\.name) == ["uid", "cn", "sn", "objectClass", "userPassword", "mail",
                                                  "mailQuota", "mailMessageStore", "mailHost"])
        #expect(entry.strings("objectclass") == ["top", "person", "inetOrgPerson", "qmailuser"])
        #expect(entry.first("cn") == "usuario prueba")
        #expect(entry.first("mailQuota") == "10000000S,5000000C")
        #expect(entry.first("mailMessageStore") == "/home1/maildirs/ceres/")
        #expect(entry.first("MAILHOST") == "Xalumno.servidores.unam.mx")
    }

    @Test func versionCommentsFoldingAndCRLF() throws {
        let text = "# a dump\r\nversion: 1\r\n\r\n# first\r\n#  folded comment\r\n  continues\r\ndn: uid=ana,\r\n dc=exalumno,dc=unam,dc=mx\r\nuid: ana\r\ncn: Ana Mar\r\n ía Ruiz\r\ndescription: a long \r\n  line\r\n\r\n\r\n"
        let records = try read(text)
        #expect(records.count == 1)
        guard case .content(let entry) = records[0] else { Issue.record("not content"); return }
        #expect(entry.dn.description == "uid=ana,dc=exalumno,dc=unam,dc=mx")
        #expect(entry.first("cn") == "Ana María Ruiz")
        #expect(entry.first("description") == "a long  line")
        #expect(entry.attributes.count == 3)
    }

    @Test func versionLineDirectlyBeforeTheFirstRecord() throws {
        #expect(try read("VERSION: 1 \ndn: dc=mx\ndc: mx\n").count == 1)
        let records = try read("version: 1\ndn: dc=mx\ndc: mx\n")
        #expect(records.count == 1)
        #expect(records[0].dn.description == "dc=mx")
    }

    @Test func base64ValuesAndDNs() throws {
        // "José", a value with a leading space, and binary bytes FF 00 0A.
        let text = """
            dn:: dWlkPWpvc8OpLGRjPW14
            uid:: am9zw6k=
            description::  IGxlYWRpbmc=
            jpegPhoto:: /wAK
            empty:
            emptyb64::

            """
        let records = try read(text)
        guard case .content(let entry) = records.first else { Issue.record("not content"); return }
        #expect(entry.dn.description == "uid=josé,dc=mx")
        #expect(entry.first("uid") == "josé")
        #expect(entry.first("description") == " leading")
        #expect(entry["jpegPhoto"] == [AttributeValue(bytes: [0xFF, 0x00, 0x0A])])
        #expect(entry["empty"] == [AttributeValue("")])
        #expect(entry["emptyb64"] == [AttributeValue("")])
    }

    @Test func attributeOptionsStayInTheName() throws {
        let records = try read("dn: cn=a,dc=mx\ncn: a\ncn;lang-en: A\ncn;lang-es: Á\nCN: b\n")
        guard case .content(let entry) = records.first else { Issue.record("not content"); return }
        #expect(entry.attributes.map(\.name) == ["cn", "cn;lang-en", "cn;lang-es"])
        #expect(entry.strings("cn") == ["a", "b"])
        #expect(entry.strings("CN;LANG-EN") == ["A"])
    }

    @Test func urlValuesAreRefusedWithTheirPosition() {
        let text = "version: 1\n\ndn: uid=a,dc=mx\nuid: a\njpegPhoto:< file:///etc/shadow\n"
        let e = error(text)
        #expect(e?.line == 5)
        #expect(e?.column == 11)
        #expect(e?.message.contains("URL values") == true)
        #expect(e?.location == RelevoBasics.SourceLocation(line: 5, column: 11))
        // Also in modify sections and change records.
        let change = "dn: uid=a,dc=mx\nchangetype: modify\nreplace: jpegPhoto\njpegPhoto:<http://evil/x\n-\n"
        #expect(error(change)?.line == 4)
    }

    @Test(arguments: [
        ("uid: a\n", 1, 1, "must start with 'dn:'"),
        ("dn: uid=a,dc=mx\n", 1, 1, "no attributes"),
        ("dn: uid=a,,dc=mx\nuid: a\n", 1, 11, "invalid DN"),
        ("dn: uid=a,dc=mx\nuid a\n", 2, 1, "no ':'"),
        ("dn: uid=a,dc=mx\nu_d: a\n", 2, 2, "invalid attribute description"),
        ("dn: uid=a,dc=mx\n: a\n", 2, 1, "missing attribute name"),
        ("dn: uid=a,dc=mx\nuid:: a$b\n", 2, 8, "invalid base64"),
        ("dn: uid=a,dc=mx\nuid:: YQ=x\n", 2, 10, "invalid base64"),
        ("dn: uid=a,dc=mx\nuid: a\n bc\n cd\ndn: uid=b,dc=mx\n", 5, 1, "'dn:' inside a record"),
        (" dn: uid=a,dc=mx\n", 1, 1, "continuation line"),
        ("dn: uid=a,dc=mx\nuid: a\n\n x\n", 4, 1, "continuation line"),
        ("version: 2\n\ndn: dc=mx\ndc: mx\n", 1, 10, "unsupported LDIF version"),
        ("dn: uid=a,dc=mx\nchangetype: rename\n", 2, 13, "unknown changetype"),
        ("dn: uid=a,dc=mx\nchangetype: delete\nuid: a\n", 3, 1, "nothing may follow"),
        ("dn: uid=a,dc=mx\nchangetype: add\n", 2, 1, "at least one attribute"),
        ("dn: uid=a,dc=mx\nchangetype: modify\nadd: mail\ncn: x\n-\n", 4, 1, "end the section"),
        ("dn: uid=a,dc=mx\nchangetype: modify\nincrement: n\nn: 1\n-\n", 3, 1, "not supported"),
        ("dn: uid=a,dc=mx\nchangetype: modify\nfrob: mail\n-\n", 3, 1, "expected 'add:'"),
        ("dn: uid=a,dc=mx\nchangetype: modify\nadd: m_x\n-\n", 3, 7, "invalid attribute description"),
        ("dn: uid=a,dc=mx\nchangetype: modrdn\nnewrdn: uid=b,dc=x\ndeleteoldrdn: 1\n", 3, 9, "exactly one RDN"),
        ("dn: uid=a,dc=mx\nchangetype: modrdn\nnewrdn: uid=b\ndeleteoldrdn: 2\n", 4, 15, "must be 0 or 1"),
        ("dn: uid=a,dc=mx\nchangetype: modrdn\nnewrdn: uid=b\n", 3, 1, "expected 'deleteoldrdn:'"),
        ("dn: uid=a,dc=mx\nchangetype: modrdn\ndeleteoldrdn: 1\n", 3, 1, "expected 'newrdn:'"),
        ("dn: uid=a,dc=mx\ncontrol: 1.2.3 true\nuid: a\n", 2, 1, "only in change records"),
        ("dn: uid=a,dc=mx\ncontrol: x.y\nchangetype: delete\n", 2, 10, "control OID"),
        ("dn: uid=a,dc=mx\nuid: a\u{0}b\n", 2, 7, "NUL in a value"),
        ("dn: uid=a,dc=mx\nuid: a\rb\n", 2, 7, "carriage return"),
        ("dn:: w\n", 1, 7, "invalid base64"),
        ("dn:: /w==\ncn: x\n", 1, 6, "not valid UTF-8"),
    ])
    func positionedErrors(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        let e = error(text)
        #expect(e != nil, "accepted: \(text)")
        #expect(e?.line == line, "\(String(describing: e))")
        #expect(e?.column == column, "\(String(describing: e))")
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
    }

    @Test func columnsCountUnicodeScalarsAndFollowFolding() {
        // The bad escape is on the continuation line.
        let e = error("dn: cn=José,\n dc=mx\\zz\ncn: José\n")
        #expect(e?.line == 2)
        #expect(e?.column == 7)
        let f = error("dn: cn=é\\x,dc=mx\ncn: x\n")
        #expect(f?.line == 1)
        #expect(f?.column == 9)
    }

    @Test func limits() {
        let long = "dn: dc=mx\ndc: mx\ndescription: " + String(repeating: "x", count: 100) + "\n"
        let e = error(long, limits: LDIFLimits(maxLineLength: 50))
        #expect(e?.line == 3)
        #expect(e?.column == 51)
        #expect(e?.message.contains("longer than 50") == true)

        let records = (1...5).map { "dn: uid=u\($0),dc=mx\nuid: u\($0)\n" }.joined(separator: "\n")
        #expect(error(records, limits: LDIFLimits(maxRecords: 5)) == nil)
        let tooMany = error(records, limits: LDIFLimits(maxRecords: 4))
        #expect(tooMany?.line == 13)
        #expect(tooMany?.message.contains("more than 4 records") == true)
        #expect(error("version: 1\n\n" + records, limits: LDIFLimits(maxRecords: 5)) == nil)

        // While splitting, too: the bound holds before all records are read.
        #expect(error(records, limits: LDIFLimits(maxRecords: 2))?.line == 7)
        #expect(error("version: 1\n\n" + records, limits: LDIFLimits(maxRecords: 2))?.line == 9)
        // Absurd limits give errors, not traps.
        let absurd = LDIFLimits(maxLineLength: Int.max, maxRecords: -1, maxValueSize: Int.max)
        #expect(error(records, limits: absurd)?.line == 1)
        #expect(error("", limits: absurd) == nil)
        #expect(error(records, limits: LDIFLimits(maxLineLength: -5, maxRecords: 0, maxValueSize: -1)) != nil)

        let big = error("dn: dc=mx\ndc: mx\nphoto:: " + String(repeating: "AAAA", count: 10) + "\n",
                        limits: LDIFLimits(maxValueSize: 29))
        #expect(big?.line == 3)
        #expect(big?.message.contains("larger than 29") == true)

        let folded = "dn: dc=mx\ndc: mx\ndescription: x\n" + String(repeating: " " + String(repeating: "y", count: 40) + "\n", count: 100)
        let g = error(folded, limits: LDIFLimits(maxLineLength: 50, maxValueSize: 100))
        #expect(g?.message.contains("folded line longer") == true)
    }

    @Test func changeRecords() throws {
        let text = """
            version: 1

            # add a user
            dn: uid=eva,dc=exalumno,dc=unam,dc=mx
            changetype: add
            uid: eva
            objectClass: qmailUser
            mailHost: neon.servidores.unam.mx

            dn: uid=ceres,dc=exalumno,dc=unam,dc=mx
            control: 1.2.840.113556.1.4.805 true
            changetype: modify
            replace: mailHost
            mailHost: xalumno.servidores.unam.mx
            -
            add: mailQuotaSize
            mailQuotaSize: 10000000
            -
            delete: mailQuota
            -
            delete: objectClass
            objectClass: top
            -
            replace: description
            -

            dn: uid=eva,dc=exalumno,dc=unam,dc=mx
            changetype: modrdn
            newrdn: uid=eva2
            deleteoldrdn: 1
            newsuperior: ou=people,dc=exalumno,dc=unam,dc=mx

            dn: uid=old,dc=exalumno,dc=unam,dc=mx
            control: 1.2.3 false:: AAE=
            changetype: DELETE

            dn: uid=x,dc=mx
            changetype: moddn
            newrdn: uid=y
            deleteoldrdn: 0

            dn: uid=z,dc=mx
            changetype: modify
            add: mail
            mail: z@mx
            """
        let records = try read(text)
        #expect(records.count == 6)
        let expected: [LDIFChange] = [
            .add([Attribute("uid", ["eva"]), Attribute("objectClass", ["qmailUser"]),
                  Attribute("mailHost", ["neon.servidores.unam.mx"])]),
            .modify([.replace("mailHost", ["xalumno.servidores.unam.mx"]), .add("mailQuotaSize", ["10000000"]),
                     .delete("mailQuota"), .delete("objectClass", ["top"]), .replace("description", [])]),
            .modifyDN(newRDN: try RelativeDistinguishedName("uid=eva2"), deleteOldRDN: true,
                      newSuperior: Fixtures.dn("ou=people,dc=exalumno,dc=unam,dc=mx")),
            .delete,
            .modifyDN(newRDN: try RelativeDistinguishedName("uid=y"), deleteOldRDN: false, newSuperior: nil),
            .modify([.add("mail", ["z@mx"])]),
        ]
        for (record, change) in zip(records, expected) {
            guard case .change(let c) = record else { Issue.record("not a change: \(record)"); continue }
            #expect(c.change == change)
        }
        if case .change(let c) = records[1] {
            #expect(c.controls == [LDIFControl(oid: "1.2.840.113556.1.4.805", critical: true)])
        }
        if case .change(let c) = records[3] {
            #expect(c.controls == [LDIFControl(oid: "1.2.3", critical: false, value: AttributeValue(bytes: [0, 1]))])
        }
    }

    @Test func readWithLinesGivesEachRecordsDNLine() throws {
        let located = try LDIFReader().readWithLines("version: 1\n\n# c\ndn: dc=mx\ndc: mx\n\n\ndn: o=x,dc=mx\no: x\n")
        #expect(located.map(\.line) == [4, 8])
    }

    @Test func emptyAndCommentOnlyInputsHaveNoRecords() throws {
        #expect(try read("").isEmpty)
        #expect(try read("\n\n").isEmpty)
        #expect(try read("# nothing\n# here\n").isEmpty)
        #expect(try read("version: 1\n").isEmpty)
    }

    @Test func readsRawBytes() throws {
        // Latin-1 bytes in a plain value are kept as they are (binary).
        let bytes = Array("dn: dc=mx\ndc: mx\ndescription: ".utf8) + [0xE9] + [0x0A]
        let records = try LDIFReader().read(bytes: bytes)
        guard case .content(let entry) = records.first else { Issue.record("not content"); return }
        #expect(entry["description"] == [AttributeValue(bytes: [0xE9])])
    }
}
