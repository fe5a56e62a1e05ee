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
