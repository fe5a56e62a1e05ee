// Tests that need no server: names, errors, escaping, read-back logic, and
// arguments refused before anything is sent.
import RelevoBasics
import RelevoDirectory
@testable import RelevoLDAP
import Testing

@Suite struct ResultCodeTests {
    @Test func namesAndNumbers() {
        #expect(LDAPResultCode.noSuchObject.description == "noSuchObject (32)")
        #expect(LDAPResultCode.entryAlreadyExists.description == "entryAlreadyExists (68)")
        #expect(LDAPResultCode.invalidCredentials.description == "invalidCredentials (49)")
        #expect(LDAPResultCode.sizeLimitExceeded.description == "sizeLimitExceeded (4)")
        #expect(LDAPResultCode.serverDown.description == "serverDown (-1)")
        #expect(LDAPResultCode.timeout.description == "timeout (-5)")
        #expect(LDAPResultCode(999).description == "unknown (999)")
        #expect(LDAPResultCode.serverDown.isClientSide)
        #expect(!LDAPResultCode.noSuchObject.isClientSide)
    }

    @Test func kindsFromCodes() {
        #expect(LDAPError.kind(for: .serverDown) == .cannotConnect)
        #expect(LDAPError.kind(for: .timeout) == .cannotConnect)
        #expect(LDAPError.kind(for: .connectError) == .cannotConnect)
        #expect(LDAPError.kind(for: .invalidCredentials) == .invalidCredentials)
        #expect(LDAPError.kind(for: .noSuchObject) == .noSuchObject)
        #expect(LDAPError.kind(for: .entryAlreadyExists) == .alreadyExists)
        #expect(LDAPError.kind(for: .insufficientAccessRights) == .other)
        #expect(LDAPError.kind(for: .success) == .other)
    }

    @Test func errorDescriptionNamesEverything() {
        let error = LDAPError(code: .noSuchObject, operation: .modify, dn: "uid=ceres,ou=people,dc=mx",
                              url: "ldap://127.0.0.12:4389", diagnosticMessage: "no such entry", matchedDN: "dc=mx")
        #expect(error.kind == .noSuchObject)
        #expect(error.description == "LDAP modify of 'uid=ceres,ou=people,dc=mx' at ldap://127.0.0.12:4389 failed: "
                + "noSuchObject (32): no such entry; matched DN 'dc=mx'")
        let bare = LDAPError(code: .serverDown, operation: .connect, url: "ldap://h:1", diagnosticMessage: "",
                             matchedDN: "", detail: "")
        #expect(bare.description == "LDAP connect at ldap://h:1 failed: serverDown (-1)")
        #expect(bare.kind == .cannotConnect)
    }

    @Test func importErrorDescription() throws {
        let underlying = LDAPError(code: .entryAlreadyExists, operation: .add, dn: "uid=b,dc=mx", url: "ldap://h")
        let error = LDAPImportError(added: [try DistinguishedName("uid=a,dc=mx")], failedIndex: 1,
                                    failedDN: try DistinguishedName("uid=b,dc=mx"), underlying: underlying)
        #expect(error.description.hasPrefix("LDIF import stopped at record 2 ('uid=b,dc=mx') after adding 1 entry: "))
        #expect(error.description.contains("entryAlreadyExists (68)"))
    }
}

@Suite struct EndpointTests {
    @Test func descriptionNeverShowsThePassword() {
        let endpoint = LDAPEndpoint(url: "ldap://127.0.0.12:4389", startTLS: true, caFile: "/tmp/ca.pem",
                                    bindDN: "cn=Siteadmin,dc=mx",
                                    password: Secret(bytes: Array("hunter2-s3cret".utf8), reference: "file:/run/pw"))
        let texts = [endpoint.description, String(reflecting: endpoint), "\(endpoint)"]
        for text in texts {
            #expect(!text.contains("hunter2-s3cret"))
        }
        #expect(endpoint.description == "ldap://127.0.0.12:4389 (StartTLS, CA /tmp/ca.pem, certificates demand) "
                + "as cn=Siteadmin,dc=mx with password file:/run/pw")
        #expect(LDAPEndpoint(url: "ldaps://h").description == "ldaps://h (certificates demand) anonymously")
    }

    @Test func defaults() {
        let endpoint = LDAPEndpoint(url: "ldap://h")
        #expect(!endpoint.startTLS)
        #expect(endpoint.certificateCheck == .demand)
        #expect(endpoint.timeout == 10)
        #expect(endpoint.bindDN == nil)
        #expect(!endpoint.usesTLS)
        #expect(LDAPEndpoint(url: "LDAPS://h").isLDAPS)
    }

    @Test(arguments: [
        LDAPEndpoint(url: "http://127.0.0.12:1"),
        LDAPEndpoint(url: "ldap://127.0.0.12:1 ldap://127.0.0.13:1"),
        LDAPEndpoint(url: "ldaps://127.0.0.12:1", startTLS: true),
        LDAPEndpoint(url: "ldap://127.0.0.12:1", timeout: 0),
        LDAPEndpoint(url: "ldap://127.0.0.12:1", bindDN: "cn=a,dc=mx"),
        LDAPEndpoint(url: "ldap://127.0.0.12:1", bindDN: "cn=a,dc=mx", password: Secret(bytes: [], reference: "env:EMPTY")),
        LDAPEndpoint(url: "ldap://127.0.0.12:1", bindDN: "cn=a,dc=mx", password: Secret(bytes: [0x61, 0, 0x62], reference: "env:NUL")),
    ])
    func badEndpointsAreRefusedBeforeConnecting(_ endpoint: LDAPEndpoint) {
        // Port 1 is closed: a connection attempt would be serverDown, not paramError.
        let error = #expect(throws: LDAPError.self) { try LDAPConnection(endpoint) }
        #expect(error?.code == .paramError)
        #expect(error?.kind == .other)
    }

    @Test func unreadableCAFileIsATLSError() {
        let endpoint = LDAPEndpoint(url: "ldaps://127.0.0.12:1", caFile: "/nonexistent/ca.pem")
        let error = #expect(throws: LDAPError.self) { try LDAPConnection(endpoint) }
        #expect(error?.kind == .tls)
        #expect(error?.description.contains("/nonexistent/ca.pem") == true)
    }
}

@Suite struct EscapingTests {
    static let hostile = ["*)(uid=*", "x)(|(objectClass=*)", "a\\b", "*", "a\u{0}b", "a\nb", "(", ")", "\\2a", "ñandú"]

    @Test func equalityFiltersEscapeEveryValue() {
        #expect(LDAPFilter.equality("uid", "*)(uid=*").filterString == "(uid=\\2a\\29\\28uid=\\2a)")
        #expect(LDAPFilter.equality("uid", "x)(|(objectClass=*)").filterString == "(uid=x\\29\\28|\\28objectClass=\\2a\\29)")
        #expect(LDAPFilter.equality("uid", "a\\b").filterString == "(uid=a\\5cb)")
        #expect(LDAPFilter.equality("uid", "a\u{0}b").filterString == "(uid=a\\00b)")
        #expect(LDAPFilter.equality("uid", "a\nb").filterString == "(uid=a\nb)")
        #expect(LDAPFilter.lookup("inetOrgPerson", "uid", "*").filterString == "(&(objectClass=inetOrgPerson)(uid=\\2a))")
    }

    @Test(arguments: hostile)
    func equalityFiltersParseBackToTheLiteralValue(_ value: String) throws {
        let filter = LDAPFilter.equality("uid", value)
        #expect(try LDAPFilter(filter.filterString) == .equality("uid", AttributeValue(value)))
        #expect(try LDAPConnection.checkedFilter(filter) == filter.filterString)
    }

    @Test func filtersWhoseAttributeWouldInjectAreRefused() {
        #expect(throws: LDAPFilterError.self) {
            try LDAPConnection.checkedFilter(.equality("uid=x)(objectClass", "y"))
        }
        #expect(throws: LDAPFilterError.self) {
            try LDAPConnection.checkedFilter(.present("objectClass=*)(|(uid"))
        }
        #expect(throws: Never.self) { try LDAPConnection.checkedFilter(.everything) }
    }

    @Test(arguments: hostile + ["a,b+c", " lead", "trail ", "#x", "uid=alice", "a;b", "<>\""])
    func childDNsKeepTheLiteralValue(_ value: String) throws {
        let base = try DistinguishedName("dc=exalumno,dc=unam,dc=mx")
        let dn = try base.child("uid", value)
        let reparsed = try DistinguishedName(dn.description)
        #expect(reparsed == dn)
        #expect(reparsed.rdns.count == base.rdns.count + 1)
        #expect(reparsed.rdn?.attributes.count == 1)
        #expect(reparsed.rdn?.attributes.first?.value == value)
        #expect(reparsed.parent == base)
    }

    @Test func childRefusesABadType() throws {
        #expect(throws: DNError.self) { try DistinguishedName.root.child("uid=x,dc", "y") }
    }

    @Test func requestableAttributes() {
        for name in ["*", "+", "1.1", "uid", "cn;lang-en", "2.5.4.3"] {
            #expect(LDAPConnection.isRequestableAttribute(name), "\(name)")
        }
        for name in ["", "uid,cn", "a b", "(uid)", "uid\u{0}"] {
            #expect(!LDAPConnection.isRequestableAttribute(name), "\(name.debugDescription)")
        }
    }
}

@Suite struct ReadBackTests {
    static func entry(_ pairs: [(String, [AttributeValue])]) throws -> Entry {
        Entry(dn: try DistinguishedName("uid=x,dc=mx"), attributes: pairs.map { Attribute($0.0, $0.1) })
    }

    static func problems(_ mods: [Modification], _ entry: Entry) -> [String] {
        ReadBackExpectation.from(mods).compactMap { $0.problem(in: entry) }
    }

    @Test func replaceNeedsExactlyTheValues() throws {
        let mods: [Modification] = [.replace("mail", ["a@x", "b@x"])]
        #expect(Self.problems(mods, try Self.entry([("MAIL", ["b@x", "a@x"])])).isEmpty)
        #expect(Self.problems(mods, try Self.entry([("mail", ["a@x"])])).count == 1)
        #expect(Self.problems(mods, try Self.entry([("mail", ["a@x", "b@x", "c@x"])])).count == 1)
        #expect(Self.problems(mods, try Self.entry([])).count == 1)
        // Byte for byte: case matters here.
        #expect(Self.problems(mods, try Self.entry([("mail", ["A@x", "b@x"])])).count == 1)
    }

    @Test func addAndDeleteFollowEachOther() throws {
        let mods: [Modification] = [.add("description", ["one"]), .delete("description", ["two"])]
        #expect(Self.problems(mods, try Self.entry([("description", ["one", "three"])])).isEmpty)
        #expect(Self.problems(mods, try Self.entry([("description", ["three"])])).count == 1)
        #expect(Self.problems(mods, try Self.entry([("description", ["one", "two"])])).count == 1)
        // Delete then add of the same value: it must be there.
        let again: [Modification] = [.delete("description", ["one"]), .add("description", ["one"])]
        #expect(Self.problems(again, try Self.entry([("description", ["one"])])).isEmpty)
        #expect(Self.problems(again, try Self.entry([])).count == 1)
    }

    @Test func deleteOfTheWholeAttributeThenAdd() throws {
        let mods: [Modification] = [.delete("sn"), .add("sn", ["Nueva"])]
        #expect(Self.problems(mods, try Self.entry([("sn", ["Nueva"])])).isEmpty)
        #expect(Self.problems(mods, try Self.entry([("sn", ["Nueva", "Vieja"])])).count == 1)
        #expect(Self.problems([.delete("sn")], try Self.entry([])).isEmpty)
        #expect(Self.problems([.replace("sn", [])], try Self.entry([("sn", ["x"])])).count == 1)
    }

    @Test func problemsNameNoValues() throws {
        let text = Self.problems([.replace("userPassword", ["{SSHA}verysecret"])],
                                 try Self.entry([("userPassword", ["{SSHA}other"])])).joined()
        #expect(text.contains("userPassword"))
        #expect(!text.contains("verysecret"))
        #expect(!text.contains("other"))
    }
}
