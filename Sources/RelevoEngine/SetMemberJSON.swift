import Foundation
import RelevoBasics

extension SetMember {
    /// The member as the journal records it (its set's detail): what
    /// `JSONEncoder` with `.sortedKeys` writes, written directly when that
    /// gives the same text (field names of lower-case letters, strings
    /// `JSONString.encoderQuoted` can quote, a whole number of activity),
    /// else by `JSONEncoder`. A member list of 100000 sets is written once.
    public func journalJSON() throws -> String {
        if let text = directJSON() { return text }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    private func directJSON() -> String? {
        guard activity == activity.rounded(), abs(activity) < 1e15, activity != 0 || activity.sign == .plus, let quotedKey = JSONString.encoderQuoted(key) else { return nil }
        var out = "{\"activity\":\(Int64(activity)),\"bytes\":\(bytes)"
        if let dn {
            guard let quoted = JSONString.encoderQuoted(dn) else { return nil }
            out += ",\"dn\":" + quoted
        }
        out += ",\"fields\":{"
        for (i, name) in fields.keys.sorted().enumerated() {
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }),
                  let value = JSONString.encoderQuoted(fields[name]!) else { return nil }
            out += (i > 0 ? ",\"" : "\"") + name + "\":" + value
        }
        out += "},\"index\":\(index),\"key\":" + quotedKey
        if let messages { out += ",\"messages\":\(messages)" }
        return out + "}"
    }
}
