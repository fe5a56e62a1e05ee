import Foundation
import RelevoBasics
import RelevoEngine
import RelevoJournal
import Testing

/// Undo values are written as a JSON object by `JSONString.object` (not
/// `JSONEncoder`, whose cost showed in the dry run's profile): what it writes
/// must read back through `JSONDecoder` to the same values, keys sorted.
@Suite struct UndoEncodingTests {
    static let hard: [[String: String]] = [
        [:],
        ["mailHost": "neon.servidores.unam.mx"],
        ["z": "1", "a": "2", "M": "3", "a b": "4", "": "empty key"],
        ["quote": "a\"b", "backslash": "a\\b", "slash": "a/b", "newline": "a\nb", "tab": "a\tb", "cr": "a\rb"],
        ["nul": "a\u{0}b", "bell": "\u{7}", "escape": "\u{1b}[31m", "del": "\u{7f}", "bs-ff": "\u{8}\u{c}"],
        ["ñandú": "camión", "emoji": "📬", "separators": "\u{2028}\u{2029}", "combining": "e\u{301}"],
        ["key\"with\\odd\ncharacters": "value"],
    ]

    @Test(arguments: hard) func readsBackToTheSameValues(_ values: [String: String]) throws {
        let text = try JournalRules.encodeUndo(values)
        let back = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        #expect(back == values, "\(text)")
        let key = StepKey(phase: "users", set: "ceres", index: 1, operation: "redirect")
        #expect(try JournalRules.decodeUndo(text, key: key) == values)
        #expect(!text.contains("\n"), "one line")
    }

    @Test func keysAreInAscendingOrderAsJSONEncoderWritesThem() throws {
        let values = ["zeta": "1", "alpha": "2", "Mid": "3", "alpha2": "4"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(JSONString.object(values) == String(decoding: try encoder.encode(values), as: UTF8.self))
        #expect(JSONString.object(values) == #"{"Mid":"3","alpha":"2","alpha2":"4","zeta":"1"}"#)
    }
}

/// `JSONString.quoted` writes the escapes it always wrote (literal
/// expectations), and random strings of the awkward characters read back
/// through `JSONDecoder` as they were.
@Suite struct QuotedStringTests {
    @Test func escapesAreThoseItAlwaysWrote() throws {
        let expected: [(String, String)] = [
            ("", #""""#), ("plain /slash/", #""plain /slash/""#), ("a\"b", #""a\"b""#), ("back\\slash", #""back\\slash""#),
            ("\n\r\t\u{08}\u{0C}", #""\n\r\t\b\f""#), ("\u{0}\u{1}\u{1f}\u{7f}", #""\u0000\u0001\u001f\u007f""#),
            ("é ✓ 𝄞 \u{80}", "\"é ✓ 𝄞 \u{80}\""),
        ]
        for (input, output) in expected { #expect(JSONString.quoted(input) == output, "\(output)") }
    }

    @Test func randomStringsReadBack() throws {
        var rng = SplitMix64(seed: 7)
        let alphabet = Array("ab\"\\\n\r\t\u{0}\u{1}\u{1f}\u{7f}é✓𝄞/ {}:,".unicodeScalars)
        for _ in 0..<500 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 24) { s.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let sample = String(s)
            #expect(try JSONDecoder().decode(String.self, from: Data(JSONString.quoted(sample).utf8)) == sample)
        }
    }
}
