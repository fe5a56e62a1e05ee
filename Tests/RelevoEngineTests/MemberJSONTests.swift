import Foundation
import RelevoBasics
@testable import RelevoEngine
import Testing

/// A member's journal detail and a list of strings written without
/// `JSONEncoder` are exactly what `JSONEncoder` writes (journals before
/// and after compare row by row), and fall back to it for what they do
/// not write themselves.
@Suite struct MemberJSONTests {
    static func encoded<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let strings = ["", "ceres", "ceres/", "uid=ceres,dc=exalumno,dc=unam,dc=mx", "a/b/c//", "camión 📬", "e\u{301}",
                          "quote\"", "back\\slash", "new\nline", "nul\u{0}", "del\u{7f}", "tab\t", "\u{2028}", "<&>'"]

    static let members: [SetMember] = {
        var out: [SetMember] = []
        for (i, s) in strings.enumerated() {
            out.append(SetMember(key: s.isEmpty ? "k" : s, dn: i % 3 == 0 ? nil : "uid=\(s),dc=x",
                                 fields: ["uid": s, "store": s + "/", "host": "neon", "dn": "uid=\(s),dc=x"],
                                 activity: [0, 1, 17, 123456, 2.5, -3, 1e16, 0.1][i % 8], bytes: Int64(i * 1000),
                                 messages: i % 4 == 1 ? nil : i, index: i))
        }
        out.append(SetMember(key: "k", fields: ["Upper": "x", "lower": "y"]))
        out.append(SetMember(key: "k", fields: ["a1": "x", "a10": "y", "a9": "z"]))
        out.append(SetMember(key: "k", fields: ["é": "x", "e": "y"]))
        out.append(SetMember(key: "k", fields: [:], activity: -0.0))
        return out
    }()

    @Test(arguments: members) func memberDetailIsJSONEncodersText(_ member: SetMember) throws {
        #expect(try member.journalJSON() == Self.encoded(member))
    }

    @Test func listsOfStringsAreJSONEncodersText() throws {
        for s in Self.strings {
            if let quoted = JSONString.encoderQuoted(s) {
                #expect(quoted == (try Self.encoded([s])).dropFirst().dropLast())
            }
        }
        let plain = Self.strings.filter { JSONString.encoderQuoted($0) != nil }
        #expect(JSONString.encoderArray(plain) == (try Self.encoded(plain)))
        #expect(JSONString.encoderArray([]) == "[]")
        #expect(JSONString.encoderArray(["a", "b\"c"]) == nil)
        #expect(JSONString.encoderQuoted("a/b") == #""a\/b""#)
    }
}

/// The activity sort key written directly is `String(format:)`'s.
@Suite struct ActivityKeyTests {
    @Test func wholeNumbersAreFormattedAsPrintfFormatsThem() {
        var values: [Double] = [0, -0.0, 1, 9, 10, 99, 100, 12345, 999_999_999_999, 1e12, 1e13, 2.5, -3, 0.1, 1e-7, .infinity, 123.000001]
        var rng = SplitMix64(seed: 31)
        for _ in 0..<500 { values.append(Double(rng.next() % 1_000_000_000)) }
        for value in values {
            #expect(Engine.activityKey(value) == String(format: "%020.6f", value), "\(value)")
        }
    }
}
