import Foundation
import RelevoStore

/// The census after a real-time run: every message the MX accepted must be
/// in its user's final Maildir, on the host the user's mailHost names,
/// exactly once (by Message-ID, with the body it was sent with).
public struct Census: Sendable, Equatable {
    public var accepted = 0
    /// Accepted messages found in their user's final Maildir, body intact.
    public var present = 0
    /// Accepted messages not there.
    public var lost = 0
    /// Accepted messages there more than once.
    public var duplicated = 0
    /// Accepted while `relevo run` ran.
    public var duringRun = 0
    /// Lost messages that are in another store (the user's former host).
    public var stranded = 0
    /// Messages whose Message-ID is right but whose body is not.
    public var altered = 0
    /// A few lost messages, for the report: `MESSAGE-ID USER (WHERE)`.
    public var examples: [String] = []

    public init() {}

    /// `census: accepted=N present=N lost=N duplicated=N during_run=N`.
    public var line: String {
        "census: accepted=\(accepted) present=\(present) lost=\(lost) duplicated=\(duplicated) during_run=\(duringRun)"
    }

    /// Counts `messages` against the Maildirs: `mailHost` gives each user's
    /// final host, `stores` the root of each host's Maildirs (a user's
    /// Maildir is ROOT/USER), `run` the interval `relevo run` took.
    public static func take(messages: [AcceptedMessage], mailHost: [String: String], stores: [String: String],
                            run: ClosedRange<Double>) throws -> Census {
        var census = Census()
        let users = Set(messages.map(\.user))
        // user → host → Message-ID → body digests found
        var found: [String: [String: [String: [String]]]] = [:]
        for user in users {
            for (host, root) in stores {
                found[user, default: [:]][host] = try Self.messages(inMaildir: root + "/" + user)
            }
        }
        for message in messages {
            census.accepted += 1
            if run.contains(message.acceptedAt) { census.duringRun += 1 }
            let host = mailHost[message.user] ?? "?"
            let copies = found[message.user]?[host]?[message.messageID] ?? []
            let intact = copies.filter { $0 == message.bodySHA256 }.count
            if copies.count > intact { census.altered += 1 }
            if intact == 0 {
                census.lost += 1
                let elsewhere = (found[message.user] ?? [:]).filter { $0.key != host && $0.value[message.messageID] != nil }.map(\.key)
                if !elsewhere.isEmpty { census.stranded += 1 }
                if census.examples.count < 5 {
                    census.examples.append("\(message.messageID) \(message.user) (mailHost \(host); "
                                           + (elsewhere.isEmpty ? "nowhere" : "only on " + elsewhere.sorted().joined(separator: ", ")) + ")")
                }
            } else {
                census.present += 1
                if copies.count > 1 { census.duplicated += 1 }
            }
        }
        return census
    }

    /// The messages of a Maildir (`cur/` and `new/`): Message-ID → the
    /// SHA-256 of each copy's body. A missing Maildir holds nothing.
    public static func messages(inMaildir path: String) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for folder in ["cur", "new"] {
            let dir = path + "/" + folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for name in names where !name.hasPrefix(".") {
                guard let data = FileManager.default.contents(atPath: dir + "/" + name) else { continue }
                let (id, digest) = parse(Array(data))
                if let id { out[id, default: []].append(digest) }
            }
        }
        return out
    }

    /// The Message-ID of a message file and the SHA-256 of its body (lines
    /// ending in LF).
    static func parse(_ bytes: [UInt8]) -> (String?, String) {
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let split = text.range(of: "\n\n")
        let header = split.map { String(text[..<$0.lowerBound]) } ?? text
        let body = split.map { String(text[$0.upperBound...]) } ?? ""
        var id: String?
        for line in header.split(separator: "\n") where line.lowercased().hasPrefix("message-id:") {
            id = line.dropFirst("message-id:".count).trimmingCharacters(in: .whitespaces)
            break
        }
        var hash = SHA256()
        hash.update(body)
        return (id, hash.hexDigest())
    }
}
