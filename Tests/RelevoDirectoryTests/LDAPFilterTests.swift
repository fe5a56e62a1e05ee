import Testing
@testable import RelevoDirectory

@Suite struct LDAPFilterTests {
    @Test func parsesEveryKindOfFilter() throws {
        let f = try LDAPFilter("(&(objectClass=qmailUser)(|(mailHost=neon*)(!(uid=ceres)))(cn=*a*b*)(uidNumber>=1000)(uidNumber<=2000)(sn~=prueba)(mail=*))")
        #expect(f == .and([
            .equality("objectClass", "qmailUser"),
            .or([.substrings("mailHost", initial: "neon", any: [], final: nil), .not(.equality("uid", "ceres"))]),
            .substrings("cn", initial: nil, any: ["a", "b"], final: nil),
            .greaterOrEqual("uidNumber", "1000"),
            .lessOrEqual("uidNumber", "2000"),
            .approx("sn", "prueba"),
            .present("mail"),
        ]))
    }

    @Test func parsesSubstringShapes() throws {
        #expect(try LDAPFilter("(a=ab*cd*ef)") == .substrings("a", initial: "ab", any: ["cd"], final: "ef"))
        #expect(try LDAPFilter("(a=*cd)") == .substrings("a", initial: nil, any: [], final: "cd"))
        #expect(try LDAPFilter("(a=ab*)") == .substrings("a", initial: "ab", any: [], final: nil))
        #expect(try LDAPFilter("(a=*b*c*)") == .substrings("a", initial: nil, any: ["b", "c"], final: nil))
        #expect(try LDAPFilter("(a=*)") == .present("a"))
        #expect(try LDAPFilter("(a=)") == .equality("a", ""))
        #expect(try LDAPFilter("(cn;lang-en=x)") == .equality("cn;lang-en", "x"))
        #expect(try LDAPFilter("(2.5.4.3=x)") == .equality("2.5.4.3", "x"))
        #expect(try LDAPFilter("(&)") == .and([]))
        #expect(try LDAPFilter("(|)") == .or([]))
    }

    @Test func decodesValueEscapes() throws {
        #expect(try LDAPFilter("(cn=\\2a\\28\\29\\5c\\00)") == .equality("cn", AttributeValue(bytes: Array("*()\\\u{0}".utf8))))
        #expect(try LDAPFilter("(cn=\\2A\\5C)") == .equality("cn", "*\\"))
        #expect(try LDAPFilter("(cn=Jos\\c3\\a9)") == .equality("cn", "José"))
        #expect(try LDAPFilter("(cn=José)") == .equality("cn", "José"))
        #expect(try LDAPFilter("(photo=\\ff\\00)") == .equality("photo", AttributeValue(bytes: [0xFF, 0x00])))
        #expect(try LDAPFilter("(cn=a b=c)") == .equality("cn", "a b=c"))
    }

    @Test(arguments: [
        ("", 0, "empty filter"),
        ("()", 1, "empty filter"),
        ("(cn=a", 5, "never closed"),
        ("(&(cn=a)", 8, "never closed"),
        ("(cn=a))", 6, "closes nothing"),
        ("(cn=a)(sn=b)", 6, "after the end"),
        ("(cn=a) ", 6, "after the end"),
        (" (cn=a)", 0, "expected '('"),
        ("cn=a", 0, "expected '('"),
        ("(cn=a\\2)", 5, "invalid escape"),
        ("(cn=a\\zz)", 5, "invalid escape"),
        ("(cn=a\\", 5, "invalid escape"),
        ("(cn=a(b)", 5, "'(' must be escaped"),
        ("(=a)", 1, "missing attribute"),
        ("(c n=a)", 2, "invalid character"),
        ("(1cn=a)", 2, "invalid attribute description"),
        ("(cn>a)", 4, "expected '=' after '>'"),
        ("(cn>=a*)", 6, "'*' must be escaped"),
        ("(cn=a**b)", 6, "empty substring"),
        ("(cn:dn:=a)", 3, "extensible match"),
        ("(cn)", 3, "expected '='"),
        ("(!(cn=a)(sn=b))", 8, "expected ')'"),
        ("(!)", 2, "expected '('"),
        ("(&(cn=a)x)", 8, "expected ')'"),
    ])
    func reportsMalformedFiltersWithOffsets(_ input: String, _ offset: Int, _ message: String) {
        #expect(throws: LDAPFilterError.self) { try LDAPFilter(input) }
        do {
            _ = try LDAPFilter(input)
        } catch {
            #expect(error.offset == offset, "\(input): \(error)")
            #expect(error.message.contains(message), "\(input): \(error)")
        }
    }

    @Test func refusesNestingDeeperThan64() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "(!", count: depth - 1) + "(cn=a)" + String(repeating: ")", count: depth - 1)
        }
        _ = try LDAPFilter(nested(64))
        #expect(throws: LDAPFilterError.self) { try LDAPFilter(nested(65)) }
        do {
            _ = try LDAPFilter(nested(65))
        } catch {
            #expect(error.offset == 128)
            #expect(error.message.contains("deeper than 64"))
        }
        // A hostile depth fails fast without exhausting the stack.
        #expect(throws: LDAPFilterError.self) { try LDAPFilter(String(repeating: "(&", count: 100_000)) }
    }

    @Test(arguments: [
        ("a*b", "a\\2ab"),
        ("(x)", "\\28x\\29"),
        ("back\\slash", "back\\5cslash"),
        ("nul\u{0}", "nul\\00"),
        ("*)(uid=*))(|(uid=*", "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a"),
        ("José", "José"),
        ("plain", "plain"),
    ])
    func escapesValues(_ value: String, _ escaped: String) throws {
        #expect(LDAPFilter.escape(value: value) == escaped)
        // The escaped value is one equality, whatever the input.
        #expect(try LDAPFilter("(uid=" + LDAPFilter.escape(value: value) + ")") == .equality("uid", AttributeValue(value)))
    }

    @Test func escapesBinaryValuesAsHex() {
        #expect(LDAPFilter.escape(AttributeValue(bytes: [0x61, 0xFF, 0x2A])) == "a\\ff\\2a")
    }

    @Test(arguments: [
        "(&(objectClass=qmailUser)(mailHost=neon.servidores.unam.mx))",
        "(|(cn=a*b*c)(!(sn=*x))(uid>=1)(uid<=9)(sn~=y)(mail=*))",
        "(cn=\\2a\\28\\29\\5c\\00)",
        "(photo=\\ff\\fe)",
        "(cn=José*)",
        "(&)",
        "(|)",
        "(!(!(a=b)))",
        "(cn;lang-es=x)",
    ])
    func descriptionRoundTrips(_ text: String) throws {
        let filter = try LDAPFilter(text)
        #expect(filter.description == text)
        #expect(try LDAPFilter(filter.description) == filter)
    }

    @Test func builtFiltersRoundTrip() throws {
        let filter = LDAPFilter.and([
            .equality("uid", AttributeValue("a*(b)\\c\u{0}")),
            .substrings("cn", initial: "x(", any: ["*"], final: ")"),
            .not(.present("mail")),
        ])
        #expect(try LDAPFilter(filter.description) == filter)
    }

    // MARK: Matching

    static let entry: Entry = {
        var e = Entry(dn: Fixtures.dn("uid=ceres,dc=eXalumno,dc=unam,dc=mx"))
        for (name, value) in [("uid", "ceres"), ("cn", "Usuario   Prueba"), ("sn", "prueba"),
                              ("objectClass", "top"), ("objectClass", "qmailuser"),
                              ("mailHost", "Xalumno.servidores.unam.mx"), ("uidNumber", "1500"),
                              ("cn;lang-en", "test user"), ("description", "José Pérez")] {
            e.append(name, AttributeValue(value))
        }
        e.append("jpegPhoto", AttributeValue(bytes: [0xFF, 0xD8, 0x00, 0x2A]))
        return e
    }()

    @Test(arguments: [
        ("(uid=ceres)", true),
        ("(UID=CERES)", true),
        ("(objectClass=qmailUser)", true),
        ("(objectclass=QMAILUSER)", true),
        ("(objectClass=posixAccount)", false),
        ("(mailHost=xalumno.servidores.unam.mx)", true),
        ("(cn=usuario prueba)", true),
        ("(cn= usuario  prueba )", true),
        ("(cn=usuario*)", true),
        ("(cn=*prueba)", true),
        ("(cn=*SUARIO*RUEB*)", true),
        ("(cn=*prueba*usuario*)", false),
        ("(cn=usu*rio*)", true),
        ("(cn=ab*)", false),
        ("(cn=usuario prueba*prueba)", false),
        ("(cn=test*)", true),
        ("(cn;lang-en=test user)", true),
        ("(cn;lang-en=usuario prueba)", false),
        ("(description=josé pérez)", true),
        ("(description=*PÉR*)", true),
        ("(mail=*)", false),
        ("(uid=*)", true),
        ("(!(mail=*))", true),
        ("(!(uid=ceres))", false),
        ("(&(uid=ceres)(sn=prueba))", true),
        ("(&(uid=ceres)(sn=other))", false),
        ("(|(uid=other)(sn=prueba))", true),
        ("(|(uid=other)(sn=other))", false),
        ("(&)", true),
        ("(|)", false),
        ("(uidNumber>=1000)", true),
        ("(uidNumber>=999)", true),
        ("(uidNumber>=10000)", false),
        ("(uidNumber<=1500)", true),
        ("(uidNumber<=200)", false),
        ("(sn>=p)", true),
        ("(sn<=p)", false),
        ("(sn~=PRUEBA)", true),
        ("(jpegPhoto=\\ff\\d8\\00\\2a)", true),
        ("(jpegPhoto=\\ff\\d8*)", true),
        ("(jpegPhoto=\\FF\\D8\\00\\2B)", false),
        ("(missing=x)", false),
        ("(!(missing=x))", true),
    ])
    func matches(_ text: String, _ expected: Bool) throws {
        #expect(try LDAPFilter(text).matches(Self.entry) == expected, "\(text)")
    }

    @Test func integerOrderingHandlesSignsAndLength() {
        #expect(MatchingRules.compare("10", "9") > 0)
        #expect(MatchingRules.compare("-10", "-9") < 0)
        #expect(MatchingRules.compare("007", "7") == 0)
        #expect(MatchingRules.compare("123456789012345678901234567890", "99") > 0)
        #expect(MatchingRules.compare("-0", "0") == 0)
        #expect(MatchingRules.compare("b", "A") > 0)
    }
}
