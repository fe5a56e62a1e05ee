// Live tests of searches, writes and LDIF against the testbed's slapd.
// Each test works in its own subtree ou=t-<random>,BASE and deletes it.
import Foundation
import RelevoBasics
import RelevoDirectory
@testable import RelevoLDAP
import Testing
import TestbedSupport

@Suite struct LiveDirectoryTests {
    @Test func pagedSearchReturnsEveryEntryOnce() throws {
        try Live.withSubtree { connection, subtree in
            let uids = (0..<250).map { String(format: "user%03d", $0) }
            for uid in uids { try connection.add(try Live.person(uid, under: subtree)) }

            var pages = 0
            var streamed: [Entry] = []
            do throws(LDAPConnection.SearchFailure<Never>) {
                pages = try connection.runSearch(base: subtree, scope: .one, filter: .equality("objectClass", "inetOrgPerson"),
                                                 attributes: ["uid"], pageSize: 50, operation: .search) { (entry: Entry) throws(Never) in
                    streamed.append(entry)
                }
            } catch {
                switch error { case .ldap(let error): throw error }
            }
            #expect(pages >= 5)
            #expect(streamed.count == 250)
            #expect(Set(streamed.map(\.dn)).count == 250)
            #expect(Set(streamed.compactMap { $0.first("uid") }) == Set(uids))

            let entries = try connection.search(base: subtree, scope: .sub, filter: .everything, pageSize: 50)
            #expect(entries.count == 251)
            #expect(Set(entries.map(\.dn)).count == 251)
            #expect(entries.first { $0.dn == subtree } != nil)

            var count = 0
            let counted = try connection.search(base: subtree, scope: .one, pageSize: 7) { _ in count += 1 }
            #expect(count == 250)
            #expect(counted == 250)
        }
    }

    @Test func pagingGetsPastTheServerSizeLimit() throws {
        // The administrator (rootdn) has no size limit; an anonymous reader
        // does (the dev slapd: sizelimit 100). Where anonymous users may read,
        // a plain search must fail loudly and a paged one must return all.
        try Live.withSubtree { connection, subtree in
            for i in 0..<150 { try connection.add(try Live.person("limit\(i)", under: subtree)) }
            let anonymous = try LDAPConnection(LDAPEndpoint(url: try Live.testbed()["RELEVO_LDAP_URI"]))
            let paged = Result { () throws(LDAPError) in
                try anonymous.search(base: subtree, scope: .one, attributes: ["1.1"], pageSize: 40)
            }
            let plain = Result { () throws(LDAPError) in
                try anonymous.search(base: subtree, scope: .one, attributes: ["1.1"], pageSize: 0)
            }
            switch plain {
            case .failure(let error) where error.code == .sizeLimitExceeded:
                // The case this test is for: the limit bites, loudly, and paging gets past it.
                #expect(try paged.get().count == 150)
            case .success(let entries):
                // No size limit below 150 for anonymous readers here: paging must agree.
                #expect(try paged.get().count == entries.count)
            case .failure(let error):
                // Anonymous access refused altogether: paging must not get around that either.
                #expect(throws: LDAPError.self) { try paged.get() }
                print("note: anonymous search refused (\(error.code)); the size-limit case was not exercised")
            }
        }
    }

    @Test func readReturnsNilForAMissingEntryAndSearchSaysNoSuchObject() throws {
        try Live.withSubtree { connection, subtree in
            let missing = try subtree.child("uid", "nobody")
            #expect(try connection.read(missing) == nil)
            let error = try #require(throws: LDAPError.self) {
                try connection.search(base: missing, scope: .sub)
            }
            #expect(error.kind == .noSuchObject)
            #expect(error.code.description == "noSuchObject (32)")
            #expect(try error.matchedDN.map { try DistinguishedName($0) } == subtree)
        }
    }

    @Test func modifyWithReadBack() throws {
        try Live.withSubtree { connection, subtree in
            let person = try Live.person("ceres", under: subtree, extra: [
                Attribute("mail", ["ceres@old.example"]),
                Attribute("description", ["one", "two", "three"]),
            ])
            try connection.add(person)
            let read = try connection.modifyAndReadBack(person.dn, [
                .replace("mail", ["ceres@exalumno.unam.mx"]),
                .add("description", ["four"]),
                .delete("description", ["one"]),
                .delete("sn", []),
                .add("sn", ["Nueva"]),
            ])
            #expect(read.strings("mail") == ["ceres@exalumno.unam.mx"])
            #expect(Set(read.strings("description")) == ["two", "three", "four"])
            let entry = try #require(try connection.read(person.dn))
            #expect(entry.strings("mail") == ["ceres@exalumno.unam.mx"])
            #expect(entry.strings("sn") == ["Nueva"])
            #expect(Set(entry.strings("description")) == ["two", "three", "four"])
            #expect(entry.strings("cn") == ["User ceres"])
        }
    }

    /// A batch's modifications in one transaction (RFC 5805): all committed
    /// and each read back; with one entry missing, nothing is applied and
    /// the caller is told to go one by one (nil).
    @Test func modificationsInOneTransactionAreAllOrNothing() throws {
        try Live.withSubtree { connection, subtree in
            let people = try (0..<20).map { try Live.person("txn\($0)", under: subtree, extra: [Attribute("mail", ["old@x.example"])]) }
            for person in people { try connection.add(person) }
            let done = try #require(try connection.modifyInTransaction(people.map { ($0.dn, [.replace("mail", ["new@x.example"])]) }))
            #expect(done.count == 20)
            for (person, result) in zip(people, done) {
                #expect(try result.get().strings("mail") == ["new@x.example"])
                #expect(try connection.read(person.dn)?.strings("mail") == ["new@x.example"])
            }
            let missing = try DistinguishedName("uid=nobody-here," + subtree.description)
            let refused = try connection.modifyInTransaction([
                (people[0].dn, [.replace("mail", ["third@x.example"])]),
                (missing, [.replace("mail", ["third@x.example"])]),
                (people[1].dn, [.replace("mail", ["third@x.example"])]),
            ])
            #expect(refused == nil, "a change the server refuses aborts the whole transaction")
            #expect(try connection.read(people[0].dn)?.strings("mail") == ["new@x.example"], "nothing of it applied")
            #expect(try connection.read(people[1].dn)?.strings("mail") == ["new@x.example"])
        }
    }

    /// Reads in flight together (more than one window of them) come back
    /// in the order asked, each as `read` gives it alone: the entry whole,
    /// nil for a missing entry and for a DN the server holds nothing under.
    @Test func manyReadsAnswerEachAsOneReadDoes() throws {
        try Live.withSubtree { connection, subtree in
            let count = LDAPConnection.readWindow + 7
            let people = try (0..<count).map { try Live.person("many\($0)", under: subtree, extra: [Attribute("mail", strings: ["m\($0)@x.example"])]) }
            for person in people where person.dn != people[13].dn { try connection.add(person) }
            let elsewhere = try DistinguishedName("uid=x,dc=not-served,dc=example")
            // In the second window of reads in flight.
            let elsewhereAt = LDAPConnection.readWindow + 3
            var asked = people.map(\.dn)
            asked.insert(elsewhere, at: elsewhereAt)
            let read = try connection.readMany(asked)
            #expect(read.count == asked.count)
            for (dn, result) in zip(asked, read) {
                #expect(try result.get() == connection.read(dn))
            }
            #expect(try read[13].get() == nil)
            #expect(try read[elsewhereAt].get() == nil)
            #expect(try read[count].get()?.strings("mail") == ["m\(count - 1)@x.example"])
            let some = try connection.readMany([people[0].dn, people[1].dn], attributes: ["mail"])
            #expect(try some.map { try $0.get()?.attributes.map(\.name) } == [["mail"], ["mail"]])
            #expect(try connection.readMany([]).isEmpty)
        }
    }

    /// A transaction's entries are read back together; one that does not
    /// show its change (an alias the server renames) is that item's
    /// mismatch, the others succeed.
    @Test func aTransactionsReadBackIsPerEntry() throws {
        try Live.withSubtree { connection, subtree in
            let people = try (0..<3).map { try Live.person("rb\($0)", under: subtree) }
            for person in people { try connection.add(person) }
            let done = try #require(try connection.modifyInTransaction([
                (people[0].dn, [.replace("cn", ["A"])]),
                (people[1].dn, [.replace("commonName", ["Secret B"])]),
                (people[2].dn, [.replace("cn", ["C"])]),
            ]))
            #expect(try done[0].get().strings("cn") == ["A"])
            let error = try #require(throws: LDAPError.self) { try done[1].get() }
            #expect(error.kind == .readBackMismatch)
            #expect(!error.description.contains("Secret B"))
            #expect(try done[2].get().strings("cn") == ["C"])
            #expect(try connection.read(people[1].dn)?.strings("cn") == ["Secret B"])
        }
    }

    @Test func readBackReportsWhatItCannotConfirm() throws {
        // slapd returns the alias commonName as cn; the read-back looks for
        // the name it was given, so it reports a mismatch (never a false
        // success) and names no values.
        try Live.withSubtree { connection, subtree in
            let person = try Live.person("alias", under: subtree)
            try connection.add(person)
            let error = try #require(throws: LDAPError.self) {
                try connection.modifyAndReadBack(person.dn, [.replace("commonName", ["Secret Name"])])
            }
            #expect(error.kind == .readBackMismatch)
            #expect(error.description.contains("commonName"))
            #expect(!error.description.contains("Secret Name"))
            // The modify itself did happen.
            #expect(try connection.read(person.dn)?.strings("cn") == ["Secret Name"])
        }
    }

    @Test func modifyOfAMissingEntryIsNoSuchObject() throws {
        try Live.withSubtree { connection, subtree in
            let missing = try subtree.child("uid", "ghost")
            let error = try #require(throws: LDAPError.self) {
                try connection.modify(missing, [.replace("mail", ["x@y"])])
            }
            #expect(error.kind == .noSuchObject)
            #expect(error.operation == .modify)
            #expect(try error.dn.map { try DistinguishedName($0) } == missing)
        }
    }

    @Test func addingAnExistingDNIsAlreadyExists() throws {
        try Live.withSubtree { connection, subtree in
            let person = try Live.person("twice", under: subtree)
            try connection.add(person)
            let error = try #require(throws: LDAPError.self) { try connection.add(person) }
            #expect(error.kind == .alreadyExists)
            #expect(error.code == .entryAlreadyExists)
            #expect(error.description.contains("entryAlreadyExists (68)"))
            #expect(error.description.contains(person.dn.description))
        }
    }

    @Test func addUnderAMissingParentIsNoSuchObject() throws {
        try Live.withSubtree { connection, subtree in
            let orphan = try Live.person("orphan", under: try subtree.child("ou", "missing"))
            let error = try #require(throws: LDAPError.self) { try connection.add(orphan) }
            #expect(error.kind == .noSuchObject)
        }
    }

    @Test func deleteRemovesTheEntry() throws {
        try Live.withSubtree { connection, subtree in
            let person = try Live.person("gone", under: subtree)
            try connection.add(person)
            #expect(try connection.read(person.dn) != nil)
            try connection.delete(person.dn)
            #expect(try connection.read(person.dn) == nil)
            let again = try #require(throws: LDAPError.self) { try connection.delete(person.dn) }
            #expect(again.kind == .noSuchObject)
            // A non-leaf cannot be deleted alone.
            try connection.add(try Live.person("child", under: subtree))
            let nonLeaf = try #require(throws: LDAPError.self) { try connection.delete(subtree) }
            #expect(nonLeaf.code == .notAllowedOnNonLeaf)
        }
    }

    @Test func exportAndImportRoundTrip() throws {
        try Live.withSubtree { connection, subtree in
            let source = try subtree.child("ou", "people")
            let target = try subtree.child("ou", "copy")
            try connection.add(Live.organizationalUnit(target))
            // The top of the exported tree keeps its RDN: ou=people under ou=copy.
            let photo = AttributeValue(bytes: (0..<256).map { UInt8($0) })
            try connection.add(Live.organizationalUnit(source))
            let staff = try source.child("ou", "staff")
            try connection.add(Live.organizationalUnit(staff))
            try connection.add(try Live.person("jose", under: source, extra: [
                Attribute("jpegPhoto", [photo]),
                Attribute("description", [" leading and trailing ", "línea\nsegunda", "ñandú"]),
            ]))
            try connection.add(try Live.person("ana", under: staff, extra: [Attribute("mail", ["ana@exalumno.unam.mx"])]))
            try connection.add(try Live.person("a,b+c", under: staff))

            let ldif = try connection.export(base: source)
            #expect(ldif.hasPrefix("version: 1\n"))
            #expect(ldif.contains("jpegPhoto:: "))
            let records = try LDIFReader().read(ldif)
            #expect(records.count == 5)
            // Parents before children.
            for (i, record) in records.enumerated() {
                for later in records[(i + 1)...] { #expect(!record.dn.isDescendant(of: later.dn)) }
            }

            let newTop = try target.child("ou", "people")
            let moved = records.map { record -> LDIFRecord in
                guard case .content(var entry) = record else { return record }
                entry.dn = entry.dn.replacingAncestor(source, with: newTop)!
                return .content(entry)
            }
            let added = try connection.importLDIF(moved)
            #expect(added == moved.map(\.dn))

            let original = try connection.exportEntries(base: source)
            let copy = try connection.exportEntries(base: newTop)
            #expect(copy.count == original.count)
            let rebased = original.map { entry -> Entry in
                var entry = entry
                entry.dn = entry.dn.replacingAncestor(source, with: newTop)!
                return entry
            }
            #expect(copy == rebased)
            let jose = try #require(copy.first { $0.first("uid") == "jose" })
            #expect(jose["jpegPhoto"] == [photo])
            #expect(jose.strings("description").contains(" leading and trailing "))
        }
    }

    @Test func importStopsAtTheFirstFailureAndSaysWhatWasAdded() throws {
        try Live.withSubtree { connection, subtree in
            let existing = try Live.person("existing", under: subtree)
            try connection.add(existing)
            let records: [LDIFRecord] = [
                .content(try Live.person("first", under: subtree)),
                .change(LDIFChangeRecord(dn: try subtree.child("uid", "second"),
                                         change: .add(try Live.person("second", under: subtree).attributes))),
                .content(existing),
                .content(try Live.person("never", under: subtree)),
            ]
            let error = try #require(throws: LDAPImportError.self) { try connection.importLDIF(records) }
            #expect(error.added == [records[0].dn, records[1].dn])
            #expect(error.failedIndex == 2)
            #expect(error.failedDN == existing.dn)
            #expect(error.underlying.kind == .alreadyExists)
            #expect(try connection.read(records[1].dn) != nil)
            #expect(try connection.read(records[3].dn) == nil)
            #expect(error.description.contains("record 3"))
        }
    }

    @Test func importRefusesChangeRecordsBeforeSendingAnything() throws {
        try Live.withSubtree { connection, subtree in
            let records: [LDIFRecord] = [
                .content(try Live.person("before", under: subtree)),
                .change(LDIFChangeRecord(dn: subtree, change: .delete)),
            ]
            let error = try #require(throws: LDAPImportError.self) { try connection.importLDIF(records) }
            #expect(error.added.isEmpty)
            #expect(error.failedIndex == 1)
            #expect(try connection.read(records[0].dn) == nil)
        }
    }

    @Test func hostileUIDsMatchOnlyThemselves() throws {
        try Live.withSubtree { connection, subtree in
            let ordinary = ["alice", "bob", "x", "a", "b"]
            for uid in ordinary { try connection.add(try Live.person(uid, under: subtree)) }
            // " ALICE " equals "alice" under uid's matching rule (case and
            // surrounding spaces ignored): the server refuses it as existing,
            // and a search for it finds alice, legitimately.
            let hostile = ["*)(uid=*", "x)(|(objectClass=*)", "a\\b", "*", "a\u{0}b", "\u{0}", "a\nb",
                           "x)(uid=alice", "alice)(|(uid=*", ")(", "a,b", "uid=alice", " ALICE ", "#x", "\\2a"]
            var created: Set<String> = []
            let refusals: Set<LDAPResultCode> = [.invalidDNSyntax, .invalidAttributeSyntax, .namingViolation,
                                                 .protocolError, .entryAlreadyExists]
            for uid in hostile {
                let person = try Live.person(uid, under: subtree)
                do throws(LDAPError) {
                    try connection.add(person)
                    created.insert(uid)
                } catch {
                    // The server refuses some values (a NUL, say) as data at all.
                    guard refusals.contains(error.code) else { throw error }
                }
            }
            // The common shapes are accepted; without them the test would prove little.
            #expect(created.isSuperset(of: ["*)(uid=*", "x)(|(objectClass=*)", "a\\b", "*", "x)(uid=alice"]))

            // The control: a presence filter does see every user.
            #expect(try connection.search(base: subtree, scope: .one, filter: .present("uid")).count
                    == ordinary.count + created.count)

            for uid in hostile {
                let found = try connection.search(base: subtree, scope: .one, filter: .equality("uid", uid))
                let found2 = try connection.search(base: subtree, scope: .one,
                                                   filter: .lookup("inetOrgPerson", "uid", uid))
                #expect(found == found2)
                #expect(found.count <= 1, "uid \(uid.debugDescription) matched \(found.map(\.dn))")
                for entry in found {
                    // The entry's uid is the value searched for (as the matching rule compares).
                    #expect(entry["uid"].count == 1 && entry["uid"][0].isEquivalent(to: AttributeValue(uid)),
                            "uid \(uid.debugDescription) matched \(entry.dn)")
                }
                if created.contains(uid) {
                    #expect(found.count == 1, "uid \(uid.debugDescription) did not find its own entry")
                    #expect(try connection.read(try subtree.child("uid", uid))?.strings("uid") == [uid])
                }
            }
        }
    }

    @Test func streamingSearchStopsWhenTheCallbackThrows() throws {
        struct Enough: Error {}
        try Live.withSubtree { connection, subtree in
            for i in 0..<30 { try connection.add(try Live.person("s\(i)", under: subtree)) }
            var seen = 0
            #expect(throws: Enough.self) {
                try connection.search(base: subtree, scope: .one, pageSize: 10) { _ in
                    seen += 1
                    if seen == 12 { throw Enough() }
                }
            }
            #expect(seen == 12)
            // The connection is still good, and the abandoned search left nothing behind.
            #expect(try connection.search(base: subtree, scope: .one, pageSize: 10).count == 30)
        }
    }

    @Test func streamingCallbackMayUseTheSameConnection() throws {
        try Live.withSubtree { connection, subtree in
            for i in 0..<12 { try connection.add(try Live.person("m\(i)", under: subtree)) }
            try connection.search(base: subtree, scope: .one, attributes: ["1.1"], pageSize: 5) { entry in
                try connection.modify(entry.dn, [.replace("mail", [AttributeValue("\(entry.dn.rdn!.attributes[0].value)@new")])])
            }
            let mails = try connection.search(base: subtree, scope: .one, filter: .present("mail"), attributes: ["mail"])
            #expect(mails.count == 12)
        }
    }

    @Test func deleteSubtreeRemovesEverything() throws {
        let connection = try Live.connect()
        try Live.ensureBase(connection)
        let top = try Live.base().child("ou", Live.randomName())
        try connection.add(Live.organizationalUnit(top))
        let middle = try top.child("ou", "middle")
        try connection.add(Live.organizationalUnit(middle))
        for i in 0..<3 { try connection.add(try Live.person("d\(i)", under: middle)) }
        #expect(try connection.deleteSubtree(top) == 5)
        #expect(try connection.read(top) == nil)
        #expect(try connection.deleteSubtree(top) == 0)
    }
}
