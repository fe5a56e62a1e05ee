import Testing
@testable import RelevoDirectory

@Suite struct DistinguishedNameTests {
    @Test func parsesTheSourceDocumentsDN() throws {
        let dn = try DistinguishedName("uid=ceres,dc=eXalumno,dc=unam,dc=mx")
        #expect(dn.rdns.count == 4)
        #expect(dn.rdn?.attributes.first?.type == "uid")
        #expect(dn.rdn?.attributes.first?.value == "ceres")
        #expect(dn.description == "uid=ceres,dc=eXalumno,dc=unam,dc=mx")
        #expect(dn.parent == (try DistinguishedName("dc=exalumno,dc=unam,dc=mx")))
        #expect(dn.parent?.description == "dc=eXalumno,dc=unam,dc=mx")
    }

    @Test func comparesTypesAndValuesIgnoringCaseAndEscaping() throws {
        let a = try DistinguishedName("uid=ceres,dc=eXalumno,dc=unam,dc=mx")
        let b = try DistinguishedName("UID=Ceres, DC=exalumno , dc=UNAM,dc=mx")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(try DistinguishedName("uid=a\\2Cb") == DistinguishedName("uid=A\\,B"))
        #expect(try DistinguishedName("cn=Ana  Ruiz") == DistinguishedName("cn=ana ruiz"))
        #expect(try DistinguishedName("uid=a,dc=x") != DistinguishedName("uid=b,dc=x"))
        // Multi-valued RDNs compare in any order.
        #expect(try DistinguishedName("cn=Ana+sn=Ruiz,dc=x") == DistinguishedName("sn=ruiz+CN=ana,dc=x"))
    }

    @Test func parsesMultiValuedRDNs() throws {
        let dn = try DistinguishedName("cn=Ana+sn=Ruiz+uid=ana,dc=x")
        #expect(dn.rdns.count == 2)
        #expect(dn.rdns[0].attributes.map(\.type) == ["cn", "sn", "uid"])
        #expect(dn.rdns[0].attributes.map(\.value) == ["Ana", "Ruiz", "ana"])
        #expect(dn.description == "cn=Ana+sn=Ruiz+uid=ana,dc=x")
    }

    @Test(arguments: [
        ("uid=a\\,b,dc=x", "a,b"),
        ("uid=a\\+b,dc=x", "a+b"),
        ("uid=\\\"q\\\",dc=x", "\"q\""),
        ("uid=back\\\\slash,dc=x", "back\\slash"),
        ("uid=\\<a\\>,dc=x", "<a>"),
        ("uid=a\\;b,dc=x", "a;b"),
        ("uid=a\\=b,dc=x", "a=b"),
        ("uid=a=b,dc=x", "a=b"),
        ("uid=\\#1,dc=x", "#1"),
        ("uid=a#1,dc=x", "a#1"),
        ("uid=a\\2Cb,dc=x", "a,b"),
        ("uid=a\\2cb,dc=x", "a,b"),
        ("uid=nul\\00byte,dc=x", "nul\u{0}byte"),
        ("uid=\\ lead,dc=x", " lead"),
        ("uid=trail\\ ,dc=x", "trail "),
        ("cn=Jos\\C3\\A9,dc=x", "José"),
        ("cn=José,dc=x", "José"),
        ("cn=,dc=x", ""),
    ])
    func unescapesValues(_ input: String, _ value: String) throws {
        let dn = try DistinguishedName(input)
        #expect(dn.rdns[0].attributes[0].value == value)
        #expect(dn.rdns.count == 2)
        // Re-serialising and re-parsing gives the same value.
        let again = try DistinguishedName(dn.description)
        #expect(again.rdns[0].attributes[0].value == value)
        #expect(again == dn)
    }

    @Test(arguments: [
        ("uid=a,", 6, "expected an RDN"),
        ("=a", 0, "expected an attribute type"),
        ("uid", 3, "expected '='"),
        ("uid=a;dc=x", 5, "must be escaped"),
        ("uid=a\"b", 5, "must be escaped"),
        ("uid=a<b", 5, "must be escaped"),
        ("uid=a\u{0}b", 5, "NUL must be escaped"),
        ("uid=a\\", 5, "escapes nothing"),
        ("uid=a\\x", 5, "invalid escape"),
        ("uid=a\\2", 5, "invalid escape"),
        ("uid=a\\2g", 5, "invalid escape"),
        ("uid=#04024869", 4, "hex-encoded"),
        ("uid=\\C3", 4, "not valid UTF-8"),
        ("1uid=a", 1, "invalid attribute type"),
        ("u_d=a", 1, "expected '='"),
        ("uid=a+", 6, "expected type=value"),
        ("uid=a,,dc=x", 6, "expected an attribute type"),
    ])
    func refusesMalformedDNs(_ input: String, _ offset: Int, _ message: String) {
        #expect(throws: DNError.self) { try DistinguishedName(input) }
        do {
            _ = try DistinguishedName(input)
        } catch {
            #expect(error.offset == offset, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func emptyStringIsTheRootDN() throws {
        let root = try DistinguishedName("")
        #expect(root.isRoot)
        #expect(root == .root)
        #expect(root.parent == nil)
        #expect(try DistinguishedName("dc=mx").parent == .root)
    }

    @Test func descendants() throws {
        let base = try DistinguishedName("dc=exalumno,dc=unam,dc=mx")
        let user = try DistinguishedName("uid=ceres,dc=eXalumno,dc=unam,dc=mx")
        #expect(user.isDescendant(of: base))
        #expect(user.isDescendant(of: .root))
        #expect(!base.isDescendant(of: user))
        #expect(!base.isDescendant(of: base))
        #expect(base.isEqualOrDescendant(of: base))
        #expect(!user.isDescendant(of: try DistinguishedName("dc=otro,dc=unam,dc=mx")))
        #expect(try DistinguishedName("dc=unam,dc=mx").isDescendant(of: DistinguishedName("DC=MX")))
        let moved = try #require(user.replacingAncestor(base, with: try DistinguishedName("ou=old,dc=mx")))
        #expect(moved.description == "uid=ceres,ou=old,dc=mx")
    }

    @Test(arguments: [
        ("a,b", "a\\,b"),
        ("a+b", "a\\+b"),
        ("a=b", "a\\=b"),
        ("\"q\"", "\\\"q\\\""),
        ("<a>;", "\\<a\\>\\;"),
        ("back\\slash", "back\\\\slash"),
        ("#1", "\\#1"),
        ("a#1", "a#1"),
        (" lead", "\\ lead"),
        ("trail ", "trail\\ "),
        (" ", "\\ "),
        ("in side", "in side"),
        ("nul\u{0}", "nul\\00"),
        ("line\nbreak", "line\\0Abreak"),
        ("del\u{7F}", "del\\7F"),
        ("c1\u{85}", "c1\\C2\\85"),
        ("José", "José"),
        ("", ""),
    ])
    func escapesValues(_ value: String, _ escaped: String) throws {
        #expect(DistinguishedName.escape(value: value) == escaped)
        let dn = try DistinguishedName("uid=" + DistinguishedName.escape(value: value) + ",dc=x")
        #expect(dn.rdns[0].attributes[0].value == value)
        #expect(dn.rdns.count == 2)
    }

    @Test func hostileValuesCannotInjectRDNs() throws {
        // A value from data must never create extra RDNs or pairs.
        for hostile in ["x,dc=evil", "x+uid=root", "x\\,y", "#00", " ,", "a\u{0},b"] {
            let dn = try DistinguishedName("uid=" + DistinguishedName.escape(value: hostile) + ",dc=unam,dc=mx")
            #expect(dn.rdns.count == 3)
            #expect(dn.rdns[0].attributes.count == 1)
            #expect(dn.rdns[0].attributes[0].value == hostile)
        }
    }

    @Test func rdnAndPairConstructorsValidate() throws {
        let rdn = try RelativeDistinguishedName("uid=a\\,b")
        #expect(rdn.attributes[0].value == "a,b")
        #expect(throws: DNError.self) { try RelativeDistinguishedName("uid=a,dc=b") }
        #expect(throws: DNError.self) { try RelativeDistinguishedName([]) }
        #expect(throws: DNError.self) { try AttributeTypeAndValue(type: "cn;lang-en", value: "x") }
        #expect(throws: DNError.self) { try AttributeTypeAndValue(type: "c n", value: "x") }
        let pair = try AttributeTypeAndValue(type: "2.5.4.3", value: "x")
        let dn = DistinguishedName.root.child(try RelativeDistinguishedName([pair]))
        #expect(dn.description == "2.5.4.3=x")
    }
}
