import Foundation
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
}
