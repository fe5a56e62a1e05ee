import Foundation
import RelevoBasics

/// An IMAP session on libcurl: one connection, logged in on first use,
/// kept for the commands that follow.
public final class IMAPSession {
    private let transfer: CurlTransfer
    public let endpoint: MailEndpoint

    public init(endpoint: MailEndpoint, credentials: MailCredentials) throws {
        self.endpoint = endpoint
        transfer = try CurlTransfer(proto: "imap", endpoint: endpoint, credentials: credentials)
    }

    /// Logs in (if not yet) and opens `mailbox` read-only (EXAMINE);
    /// returns its message count (EXISTS).
    public func messageCount(mailbox: String = "INBOX") throws -> Int {
        let result = try transfer.perform(customRequest: "EXAMINE \(try quoted(mailbox))")
        for line in Self.lines(result) {
            let words = line.split(separator: " ")
            if words.count >= 3, words[0] == "*", words[2].uppercased() == "EXISTS", let n = Int(words[1]) { return n }
        }
        throw MailError(.protocolError, proto: "imap", server: endpoint.description, message: "EXAMINE gave no EXISTS count")
    }

    /// Stores a message in `mailbox` (APPEND), as a client saves a sent or
    /// drafted message. Over a connection the server closed (a session
    /// kicked), libcurl connects and logs in again, as a client would.
    public func append(_ message: [UInt8], mailbox: String = "INBOX") throws {
        _ = try transfer.perform(path: "/" + (try pathComponent(mailbox)), upload: message)
    }

    /// The UIDs of the messages of `mailbox` whose Message-ID header is
    /// `messageID` (UID SEARCH HEADER Message-ID).
    public func search(messageID: String, mailbox: String = "INBOX") throws -> [UInt64] {
        let result = try transfer.perform(path: "/" + (try pathComponent(mailbox)),
                                          customRequest: "UID SEARCH HEADER Message-ID \(try quoted(messageID))")
        // The same untagged line may reach both callbacks: a set.
        var uids: Set<UInt64> = []
        for line in Self.lines(result) where line.hasPrefix("* SEARCH") {
            uids.formUnion(line.dropFirst("* SEARCH".count).split(separator: " ").compactMap { UInt64($0) })
        }
        return uids.sorted()
    }

    /// The whole message with this UID (UID FETCH BODY[]).
    public func fetch(uid: UInt64, mailbox: String = "INBOX") throws -> [UInt8] {
        let result = try transfer.perform(path: "/" + (try pathComponent(mailbox)) + "/;UID=\(uid)")
        guard !result.body.isEmpty else {
            throw MailError(.missingMessage, proto: "imap", server: endpoint.description, message: "no message with UID \(uid) in \(mailbox)")
        }
        return result.body
    }

    /// The message whose Message-ID is `messageID`: `missingMessage` when
    /// there is none; the first when there are several (see `search`).
    public func message(withID messageID: String, mailbox: String = "INBOX") throws -> [UInt8] {
        guard let uid = try search(messageID: messageID, mailbox: mailbox).first else {
            throw MailError(.missingMessage, proto: "imap", server: endpoint.description,
                            message: "no message with Message-ID \(messageID) in \(mailbox)")
        }
        return try fetch(uid: uid, mailbox: mailbox)
    }

    /// Untagged answers of a custom command reach the body callback; some
    /// libcurl versions pass them with the server's lines.
    private static func lines(_ result: CurlTransfer.Result) -> [String] {
        String(decoding: result.body, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init) + result.lines
    }

    /// An IMAP quoted string; line breaks and NULs refused.
    private func quoted(_ text: String) throws -> String {
        guard !text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
            throw MailError(.protocolError, proto: "imap", server: endpoint.description, message: "a line break in an argument")
        }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A mailbox name as one URL path component.
    private func pathComponent(_ mailbox: String) throws -> String {
        _ = try quoted(mailbox)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return mailbox.addingPercentEncoding(withAllowedCharacters: allowed) ?? mailbox
    }
}
