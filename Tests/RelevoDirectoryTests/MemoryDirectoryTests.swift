import Testing
@testable import RelevoDirectory

@Suite struct MemoryDirectoryTests {
    let base = Fixtures.dn("dc=exalumno,dc=unam,dc=mx")

    @Test func loadsTheFixtureAndFindsUsersOnNeon() throws {
        let directory = try Fixtures.directory()
        #expect(directory.count == 6)
        #expect(directory.suffixes == [base])
        let filter = try LDAPFilter("(&(objectClass=qmailUser)(mailHost=neon.servidores.unam.mx))")
        let found = try directory.search(base: base, scope: .sub, filter: filter)
        #expect(found.map { $0.first("uid") } == ["ana", "beto", "dario"])
        let onXalumno = try directory.search(base: base, filter: try LDAPFilter("(mailHost=xalumno.servidores.unam.mx)"))
        #expect(onXalumno.map { $0.first("uid") } == ["ceres", "carla"])
    }

    @Test func theMixedCaseDNIsTheSameEntry() throws {
        let directory = try Fixtures.directory()
        // ceres was loaded as dc=eXalumno; the suffix as dc=exalumno.
        let ceres = Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx")
        let found = try directory.search(base: ceres, scope: .base, filter: .and([]))
        #expect(found.count == 1)
        #expect(found[0].dn.description == "uid=ceres,dc=eXalumno,dc=unam,dc=mx")
        let viaMixedBase = try directory.search(base: Fixtures.dn("DC=EXALUMNO,dc=unam,dc=MX"), scope: .one,
                                                filter: try LDAPFilter("(uid=ceres)"))
        #expect(viaMixedBase.map(\.dn) == [ceres])
        #expect(directory.entry(Fixtures.dn("UID=CERES,dc=eXalumno,dc=unam,dc=mx"))?.first("mailQuota") == "10000000S,5000000C")
    }

    @Test func scopes() throws {
        let directory = try Fixtures.directory()
        let ceres = Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx")
        #expect(try directory.search(base: base, scope: .base).map(\.dn) == [base])
        #expect(try directory.search(base: base, scope: .one).count == 5)
        #expect(try directory.search(base: base, scope: .sub).count == 6)
        #expect(try directory.search(base: ceres, scope: .one).isEmpty)
        #expect(try directory.search(base: .root, scope: .one).map(\.dn) == [base])
        #expect(try directory.search(base: .root, scope: .sub).count == 6)
        #expect(try directory.search(base: .root, scope: .base).isEmpty)
        #expect(throws: DirectoryError.noSuchObject(Fixtures.dn("uid=nadie,dc=exalumno,dc=unam,dc=mx"))) {
            try directory.search(base: Fixtures.dn("uid=nadie,dc=exalumno,dc=unam,dc=mx"))
        }
    }

    @Test func selectsAttributes() throws {
        let directory = try Fixtures.directory()
        let filter = try LDAPFilter("(uid=ceres)")
        let some = try directory.search(base: base, filter: filter, attributes: ["MAILHOST", "mailMessageStore"])
        #expect(some[0].attributes.map(\.name) == ["mailMessageStore", "mailHost"])
        #expect(try directory.search(base: base, filter: filter, attributes: ["1.1"])[0].attributes.isEmpty)
        #expect(try directory.search(base: base, filter: filter, attributes: ["*"])[0].attributes.count == 9)
        #expect(try directory.search(base: base, filter: filter, attributes: ["+"])[0].attributes.isEmpty)
    }

    @Test func addRequiresAParentExceptForSuffixes() throws {
        var directory = MemoryDirectory(suffixes: [base])
        let user = try Entry(dn: "uid=eva,dc=exalumno,dc=unam,dc=mx", [("uid", "eva"), ("objectClass", "qmailUser")])
        #expect(throws: DirectoryError.noSuchObject(base)) { try directory.add(user) }
        try directory.add(try Entry(dn: "dc=exalumno,dc=unam,dc=mx", [("dc", "exalumno"), ("objectClass", "dcObject")]))
        try directory.add(user)
        #expect(throws: DirectoryError.entryAlreadyExists(user.dn)) { try directory.add(user) }
        var upper = user
        upper.dn = Fixtures.dn("UID=EVA,DC=EXALUMNO,DC=UNAM,DC=MX")
        #expect(throws: DirectoryError.entryAlreadyExists(user.dn)) { try directory.add(upper) }
        // Outside the naming context.
        let stranger = try Entry(dn: "dc=otro,dc=mx", [("dc", "otro")])
        #expect(throws: DirectoryError.noSuchObject(Fixtures.dn("dc=mx"))) { try directory.add(stranger) }
        #expect(throws: DirectoryError.self) { try directory.add(Entry(dn: .root, attributes: [Attribute("o", ["x"])])) }
    }

    @Test func theFirstEntryBecomesTheSuffixWhenNoneIsGiven() throws {
        var directory = MemoryDirectory()
        let top = try Entry(dn: "dc=mx", [("dc", "mx")])
        try directory.add(top)
        #expect(directory.suffixes == [top.dn])
        let orphan = try Entry(dn: "uid=a,ou=people,dc=mx", [("uid", "a")])
        #expect(throws: DirectoryError.noSuchObject(Fixtures.dn("ou=people,dc=mx"))) { try directory.add(orphan) }
    }

    @Test func addChecksNamingAndDuplicates() throws {
        var directory = try Fixtures.directory()
        let noUid = try Entry(dn: "uid=eva,dc=exalumno,dc=unam,dc=mx", [("cn", "eva")])
        #expect(throws: DirectoryError.self) { try directory.add(noUid) }
        do { try directory.add(noUid) } catch { #expect(error.name == "namingViolation"); #expect(error.resultCode == 64) }
        let twice = try Entry(dn: "uid=eva,dc=exalumno,dc=unam,dc=mx", [("uid", "eva"), ("mail", "a@x"), ("mail", "A@X")])
        #expect(throws: DirectoryError.attributeOrValueExists(twice.dn, attribute: "mail")) { try directory.add(twice) }
        let caseDiffers = try Entry(dn: "uid=Eva,dc=exalumno,dc=unam,dc=mx", [("uid", "eva")])
        try directory.add(caseDiffers)
    }

    @Test func deleteRefusesNonLeaves() throws {
        var directory = try Fixtures.directory()
        #expect(throws: DirectoryError.notAllowedOnNonLeaf(base)) { try directory.delete(base) }
        for uid in ["ceres", "ana", "beto", "carla", "dario"] {
            try directory.delete(Fixtures.dn("uid=\(uid),dc=exalumno,dc=unam,dc=mx"))
        }
        #expect(throws: DirectoryError.noSuchObject(Fixtures.dn("uid=ana,dc=exalumno,dc=unam,dc=mx"))) {
            try directory.delete(Fixtures.dn("uid=ana,dc=exalumno,dc=unam,dc=mx"))
        }
        try directory.delete(base)
        #expect(directory.count == 0)
    }

    @Test func modifyAddsDeletesAndReplacesAtomically() throws {
        var directory = try Fixtures.directory()
        let ceres = Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx")
        try directory.modify(ceres, [
            .replace("mailHost", ["neon.servidores.unam.mx"]),
            .add("mailQuotaSize", ["10000000"]),
            .add("mailQuotaCount", ["5000000"]),
            .delete("mailQuota"),
            .delete("objectClass", ["TOP"]),
            .add("mail", ["ceres@alumno.unam.mx"]),
        ])
        let entry = try #require(directory.entry(ceres))
        #expect(entry.first("mailHost") == "neon.servidores.unam.mx")
        #expect(entry.strings("mail") == ["ceres@eXalumno.unam.mx", "ceres@alumno.unam.mx"])
        #expect(!entry.has("mailQuota"))
        #expect(entry.first("mailQuotaSize") == "10000000")
        #expect(entry.strings("objectClass") == ["person", "inetOrgPerson", "qmailuser"])

        // A failing modification leaves the entry untouched.
        #expect(throws: DirectoryError.noSuchAttribute(ceres, attribute: "description")) {
            try directory.modify(ceres, [.replace("mailHost", ["x"]), .delete("description")])
        }
        #expect(directory.entry(ceres) == entry)
        #expect(throws: DirectoryError.attributeOrValueExists(ceres, attribute: "mail")) {
            try directory.modify(ceres, [.add("mail", ["CERES@exalumno.unam.mx"])])
        }
        #expect(throws: DirectoryError.noSuchAttribute(ceres, attribute: "mail")) {
            try directory.modify(ceres, [.delete("mail", ["nobody@x"])])
        }
        #expect(throws: DirectoryError.notAllowedOnRDN(ceres, attribute: "uid")) {
            try directory.modify(ceres, [.replace("uid", ["other"])])
        }
        #expect(throws: DirectoryError.protocolError("'add: mail' with no values")) {
            try directory.modify(ceres, [.add("mail", [])])
        }
        #expect(throws: DirectoryError.noSuchObject(Fixtures.dn("uid=x,dc=mx"))) {
            try directory.modify(Fixtures.dn("uid=x,dc=mx"), [])
        }
        // Replace with no values removes; deleting the last value removes the attribute.
        try directory.modify(ceres, [.replace("mailQuotaCount", []), .replace("absent", []),
                                     .delete("mailQuotaSize", ["10000000"])])
        #expect(directory.entry(ceres).map { $0.has("mailQuotaCount") || $0.has("mailQuotaSize") } == false)
    }

    @Test func compare() throws {
        let directory = try Fixtures.directory()
        let ceres = Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx")
        #expect(try directory.compare(ceres, attribute: "mailHost", value: "XALUMNO.servidores.unam.mx"))
        #expect(try !directory.compare(ceres, attribute: "mailHost", value: "neon.servidores.unam.mx"))
        #expect(throws: DirectoryError.noSuchAttribute(ceres, attribute: "description")) {
            try directory.compare(ceres, attribute: "description", value: "x")
        }
        #expect(throws: DirectoryError.noSuchObject(Fixtures.dn("uid=x,dc=mx"))) {
            try directory.compare(Fixtures.dn("uid=x,dc=mx"), attribute: "uid", value: "x")
        }
    }

    @Test func renameMovesTheSubtree() throws {
        var directory = try Fixtures.directory()
        try directory.apply(.content(try Entry(dn: "ou=people,dc=exalumno,dc=unam,dc=mx", [("ou", "people")])))
        try directory.apply(.content(try Entry(dn: "uid=x,ou=people,dc=exalumno,dc=unam,dc=mx", [("uid", "x")])))
        let people = Fixtures.dn("ou=people,dc=exalumno,dc=unam,dc=mx")
        let ceres = Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx")
        // Move ceres under people, then rename people: ceres moves along.
        try directory.rename(ceres, newRDN: try RelativeDistinguishedName("uid=ceres"), deleteOldRDN: true, newSuperior: people)
        try directory.rename(people, newRDN: try RelativeDistinguishedName("ou=gente"), deleteOldRDN: true)
        let moved = Fixtures.dn("uid=ceres,ou=gente,dc=exalumno,dc=unam,dc=mx")
        #expect(directory.entry(moved)?.first("mailHost") == "Xalumno.servidores.unam.mx")
        #expect(directory.entry(Fixtures.dn("ou=gente,dc=exalumno,dc=unam,dc=mx"))?.strings("ou") == ["gente"])
        #expect(directory.entry(ceres) == nil)
        #expect(try directory.search(base: Fixtures.dn("ou=gente,dc=exalumno,dc=unam,dc=mx"), scope: .one).count == 2)
        #expect(throws: DirectoryError.notAllowedOnNonLeaf(Fixtures.dn("ou=gente,dc=exalumno,dc=unam,dc=mx"))) {
            try directory.delete(Fixtures.dn("ou=gente,dc=exalumno,dc=unam,dc=mx"))
        }
        // Renaming keeps the old RDN value when asked to.
        let ana = Fixtures.dn("uid=ana,dc=exalumno,dc=unam,dc=mx")
        try directory.rename(ana, newRDN: try RelativeDistinguishedName("cn=Ana"), deleteOldRDN: false)
        #expect(directory.entry(Fixtures.dn("cn=ana,dc=exalumno,dc=unam,dc=mx"))?.strings("cn") == ["usuario ana", "Ana"])
        #expect(directory.entry(Fixtures.dn("cn=ana,dc=exalumno,dc=unam,dc=mx"))?.strings("uid") == ["ana"])
        // Errors.
        let beto = Fixtures.dn("uid=beto,dc=exalumno,dc=unam,dc=mx")
        #expect(throws: DirectoryError.entryAlreadyExists(Fixtures.dn("uid=carla,dc=exalumno,dc=unam,dc=mx"))) {
            try directory.rename(beto, newRDN: try RelativeDistinguishedName("uid=carla"), deleteOldRDN: true)
        }
        #expect(throws: DirectoryError.noSuchObject(Fixtures.dn("ou=nada,dc=exalumno,dc=unam,dc=mx"))) {
            try directory.rename(beto, newRDN: try RelativeDistinguishedName("uid=beto"), deleteOldRDN: true,
                                 newSuperior: Fixtures.dn("ou=nada,dc=exalumno,dc=unam,dc=mx"))
        }
        #expect(throws: DirectoryError.self) {
            try directory.rename(Fixtures.dn("ou=gente,dc=exalumno,dc=unam,dc=mx"), newRDN: try RelativeDistinguishedName("ou=g2"),
                                 deleteOldRDN: true, newSuperior: moved)
        }
        // The export loads back even though ceres now sorts before its new parent.
        let reloaded = try MemoryDirectory(ldif: directory.export())
        #expect(reloaded.entries.count == directory.entries.count)
        #expect(Set(reloaded.entries) == Set(directory.entries))
    }

    @Test func appliesChangeRecordsFromLDIF() throws {
        var directory = try Fixtures.directory()
        try directory.load(ldif: """
            # the per-user migration of ana, as ldapmodify would run it
            dn: uid=ana,dc=exalumno,dc=unam,dc=mx
            changetype: modify
            replace: mailHost
            mailHost: xalumno.servidores.unam.mx
            -

            # the quota rewrite of migracion.pl
            dn: uid=ceres,dc=eXalumno,dc=unam,dc=mx
            changetype: modify
            delete: mailQuota
            -
            add: mailQuotaSize
            mailQuotaSize: 10000000
            -
            add: mailQuotaCount
            mailQuotaCount: 5000000
            -

            dn: uid=eva,dc=exalumno,dc=unam,dc=mx
            changetype: add
            uid: eva
            objectClass: qmailUser
            mailHost: neon.servidores.unam.mx

            dn: uid=dario,dc=exalumno,dc=unam,dc=mx
            changetype: delete

            dn: uid=beto,dc=exalumno,dc=unam,dc=mx
            changetype: modrdn
            newrdn: uid=roberto
            deleteoldrdn: 1

            """)
        let onNeon = try directory.search(base: base, filter: try LDAPFilter("(&(objectClass=qmailUser)(mailHost=neon.servidores.unam.mx))"))
        #expect(onNeon.map { $0.first("uid") } == ["roberto", "eva"])
        let ceres = try #require(directory.entry(Fixtures.dn("uid=ceres,dc=exalumno,dc=unam,dc=mx")))
        #expect(!ceres.has("mailQuota"))
        #expect(ceres.first("mailQuotaSize") == "10000000")
        #expect(ceres.first("mailQuotaCount") == "5000000")
        #expect(directory.count == 6)
    }

    @Test func loadErrorsCarryTheRecordsLine() throws {
        var directory = try Fixtures.directory()
        let text = "dn: uid=ana,dc=exalumno,dc=unam,dc=mx\nchangetype: modify\nreplace: mailHost\nmailHost: x\n-\n\n"
            + "dn: uid=nadie,dc=exalumno,dc=unam,dc=mx\nchangetype: delete\n"
        #expect(throws: DirectoryLoadError.operation(.noSuchObject(Fixtures.dn("uid=nadie,dc=exalumno,dc=unam,dc=mx")), line: 7)) {
            try directory.load(ldif: text)
        }
        // The records before the failure were applied.
        #expect(directory.entry(Fixtures.dn("uid=ana,dc=exalumno,dc=unam,dc=mx"))?.first("mailHost") == "x")
        #expect(throws: DirectoryLoadError.self) { try directory.load(ldif: "dn: x\n") }
        do { try directory.load(ldif: "dn: uid=a,dc=mx\njpegPhoto:< file:///etc/passwd\n") } catch {
            guard case .syntax(let e) = error else { Issue.record("\(error)"); return }
            #expect(e.line == 2)
        }
    }

    @Test func exportRoundTrips() throws {
        let directory = try Fixtures.directory()
        let text = directory.export()
        let again = try MemoryDirectory(ldif: text)
        #expect(again.entries == directory.entries)
        #expect(again.export() == text)
        #expect(text.hasPrefix("version: 1\n\ndn: dc=exalumno,dc=unam,dc=mx\n"))
    }

    @Test func isSendable() async throws {
        let directory = try Fixtures.directory()
        let count = await Task.detached { directory.count }.value
        #expect(count == 6)
    }
}

/// The quick type test before an attribute's name is parsed lets through
/// exactly the names whose type is the one asked for.
@Suite struct AttributeTypeMatchTests {
    @Test func onlyTheSameTypeInAnyCasePasses() throws {
        for (name, type, expected) in [("cn", "cn", true), ("CN", "cn", true), ("cN;lang-es", "cn", true),
                                       ("cn;", "cn", true), ("cnx", "cn", false), ("c", "cn", false),
                                       ("mail", "mailhost", false), ("mailHost", "mail", false), ("mailHost", "mailhost", true),
                                       ("2.5.4.3", "2.5.4.3", true), ("", "cn", false), (";cn", "cn", false)] {
            #expect(Entry.typeMatches(name, type) == expected, "\(name) vs \(type)")
        }
        var entry = Entry(dn: Fixtures.dn("uid=ana,dc=exalumno,dc=unam,dc=mx"), attributes: [])
        entry.append("CN", AttributeValue("Ana"))
        entry.append("cn;lang-es", AttributeValue("Ana María"))
        entry.append("cnx", AttributeValue("no"))
        #expect(entry.values(matching: AttributeDescription("cn")!).map(\.string) == ["Ana", "Ana María"])
        #expect(entry.values(matching: AttributeDescription("cn;lang-es")!).map(\.string) == ["Ana María"])
    }
}
