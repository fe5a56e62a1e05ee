import Foundation
import RelevoBasics
import Testing
@testable import RelevoStore

@Suite struct MaildirNameTests {
    @Test func parsesAFullName() throws {
        let name = try MaildirName(parsing: "1700000000.M123P456Q1.mail.example.com,S=1234,W=1260:2,SR")
        #expect(name.time == "1700000000")
        #expect(name.unique == "M123P456Q1")
        #expect(name.host == "mail.example.com")
        #expect(name.sizeHint == 1234)
        #expect(name.virtualSizeHint == 1260)
        #expect(name.info == "2,SR")
        #expect(name.flags == ["R", "S"])
        #expect(name.flagString == "RS")
        #expect(name.base == "1700000000.M123P456Q1.mail.example.com,S=1234,W=1260")
    }

    @Test func parsesNamesWithoutInfoOrFlags() throws {
        let bare = try MaildirName(parsing: "1035478339.27041_118.neon")
        #expect(bare.info == nil)
        #expect(bare.flags.isEmpty)
        #expect(bare.sizeHint == nil)
        #expect(bare.base == "1035478339.27041_118.neon")
        let noFlags = try MaildirName(parsing: "1035478339.27041_118.neon,S=10:2,")
        #expect(noFlags.info == "2,")
        #expect(noFlags.flags.isEmpty)
        let experimental = try MaildirName(parsing: "1035478339.27041_118.neon:1,whatever")
        #expect(experimental.flags.isEmpty)
        #expect(experimental.base == "1035478339.27041_118.neon")
    }

    @Test func baseIsTheIdentityAcrossNewCurAndFlags() throws {
        let delivered = try MaildirName(parsing: "1700000000.P1Q2.xalumno,S=5")
        let read = try MaildirName(parsing: "1700000000.P1Q2.xalumno,S=5:2,S")
        let replied = try read.withFlags(["S", "R"])
        #expect(delivered.base == read.base)
        #expect(replied.base == read.base)
        #expect(replied.name == "1700000000.P1Q2.xalumno,S=5:2,RS")
        #expect(delivered != read)
    }

    @Test(arguments: [
        "", "a/b.c.d", "1.2..host", "..", ".1.2.host", "1.2.host:2,S/../x",
        String(repeating: "1", count: 250) + ".a.hostx",
        "nodots", "1.onlytwo", "abc.def.host", "1..host", "1.2.h,S=big", "1.2.h,W=-1", "1.2.h:2,S!",
    ])
    func refusesInvalidNames(_ text: String) {
        let error = storeError { try MaildirName(parsing: text) }
        guard case .invalidMaildirName(let name, let reason)? = error else {
            Issue.record("accepted '\(text)'")
            return
        }
        #expect(name == text)
        #expect(!reason.isEmpty)
    }

    @Test func refusesANulByte() {
        // Kept apart from the table above: a NUL in a test argument garbles the console.
        let error = storeError { try MaildirName(parsing: "1.2.h\u{0}x") }
        #expect(error == .invalidMaildirName("1.2.h\u{0}x", reason: "contains a NUL byte"))
    }

    @Test func acceptsA255ByteName() throws {
        let prefix = "1700000000.M1P2."
        let name = prefix + String(repeating: "h", count: 255 - prefix.utf8.count)
        #expect(try MaildirName(parsing: name).name.utf8.count == 255)
    }

    @Test func generatorMakesUniqueValidNames() throws {
        var generator = MaildirNameGenerator(host: "neon/mx:1,a", process: 4242)
        #expect(generator.host == "neon\\057mx\\0721\\054a")
        let time = FileTime(seconds: 1_700_000_000, nanoseconds: 123_456_789)
        let a = generator.next(time: time, size: 42)
        let b = generator.next(time: time, flags: ["S"])
        #expect(a.name == "1700000000.M123456P4242Q1.neon\\057mx\\0721\\054a,S=42")
        #expect(a.sizeHint == 42)
        #expect(b.flags == ["S"])
        #expect(a.base != b.base)
        #expect(try MaildirName(parsing: a.name) == a)
        #expect(generator.counter == 2)
        let odd = MaildirNameGenerator(host: "..a..b..")
        #expect(odd.host == "a.b")
        #expect(MaildirNameGenerator(host: "").host == "localhost")
        // Whatever the host, time or flags, the generator makes a valid name.
        var long = MaildirNameGenerator(host: String(repeating: "/", count: 300), process: -1)
        #expect(long.host.utf8.count <= 128)
        let made = long.next(time: FileTime(seconds: -5, nanoseconds: -1), size: 1, flags: ["S", "!", "R"])
        #expect(made.flags == ["R", "S"])
        #expect(made.time == "0")
    }

    @Test func codableAsTheFileName() throws {
        let name = try MaildirName(parsing: "1.2.h:2,S")
        let data = try JSONEncoder().encode([name])
        #expect(String(decoding: data, as: UTF8.self) == "[\"1.2.h:2,S\"]")
        #expect(try JSONDecoder().decode([MaildirName].self, from: data) == [name])
    }

    /// The byte parser that takes ASCII names agrees with the general
    /// parser on every name it accepts, and leaves every other name to it:
    /// hand-picked names, then 50000 names drawn from the characters that
    /// matter (digits, `.`, `,`, `:`, `=`, `S`, `W`, `2`, letters, `/`,
    /// NUL, a space, non-ASCII and a combining mark).
    @Test func theByteParserAgreesWithTheGeneralOne() throws {
        var names = [
            "1700000000.M1P1.neon", "1700000000.M1P1.neon:2,S", "1700000000.M1P1.a.b.c,S=12,W=13:2,RS",
            "1700000000.M1P1.neon,S=:2,", "1700000000.M1P1.neon,S=+5", "1700000000.M1P1.neon:2,S1", "1700000000.M1P1.neon:1,x",
            ".1700000000.M1P1.neon", "17.M1..neon", "17..M1.neon", "x17.M1.neon", "17.M1.", "17.M1", "", ":2,S",
            "17.M1.h,X=1,S=2", "17.M1.h,,S=2", "17.M1.h:2,", "17.M1.h::2,S", "17.M1.h\r\n:2,S",
        ]
        var random = SplitMix64(seed: 7)
        let alphabet: [String] = ["1", "7", "0", ".", ".", ",", ":", "=", "S", "W", "2", "M", "P", "h", "x", "/", "\u{0}",
                                  " ", "é", "\u{301}", "\r\n"]
        for _ in 0..<50000 {
            let length = Int(random.next() % 24)
            var name = "17.M1.h"
            if random.next() % 3 == 0 { name = "" }
            for _ in 0..<length { name += alphabet[Int(random.next() % UInt64(alphabet.count))] }
            names.append(name)
        }
        var accepted = 0
        for name in names {
            let general = Result { try MaildirName(generalParsing: name) }
            guard let fast = MaildirName(asciiParsing: name) else { continue }
            accepted += 1
            let expected = try #require(try? general.get(), "the byte parser accepted \(name.debugDescription), the general one refused it")
            #expect(fast == expected, "\(name.debugDescription)")
            #expect(fast.base == expected.base && fast.time == expected.time && fast.unique == expected.unique
                    && fast.host == expected.host && fast.sizeHint == expected.sizeHint
                    && fast.virtualSizeHint == expected.virtualSizeHint && fast.info == expected.info
                    && fast.flags == expected.flags, "\(name.debugDescription)")
        }
        #expect(accepted > 1000, "the byte parser took \(accepted) names")
    }
}
