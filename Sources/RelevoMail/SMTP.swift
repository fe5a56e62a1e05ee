import Foundation
import RelevoBasics

/// A message as a probe sends it: RFC 5322 headers and a short body, lines
/// ending in CRLF. Header values with a line break are refused.
public struct MailMessage: Sendable {
    public var from: String
    public var to: [String]
    public var subject: String
    /// `<unique@host>`; the identity a gate searches for.
    public var messageID: String
    public var body: String
    public var date: Date

    public init(from: String, to: [String], subject: String, messageID: String = MailMessage.newMessageID(),
                body: String = "A probe sent by relevo.\r\n", date: Date = Date()) {
        self.from = from
        self.to = to
        self.subject = subject
        self.messageID = messageID
        self.body = body
        self.date = date
    }

    /// `<relevo.UUID@relevo.invalid>`.
    public static func newMessageID(domain: String = "relevo.invalid") -> String {
        "<relevo.\(UUID().uuidString.lowercased())@\(domain)>"
    }

    /// The message on the wire (dot-stuffing is libcurl's).
    public func rendered() throws -> [UInt8] {
        let values = [from, subject, messageID] + to
        if values.contains(where: { $0.contains("\r") || $0.contains("\n") }) {
            throw MailError(.protocolError, proto: "smtp", server: "-", message: "a header value contains a line break")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var text = "From: <\(from)>\r\nTo: \(to.map { "<\($0)>" }.joined(separator: ", "))\r\n"
        text += "Subject: \(subject)\r\nMessage-ID: \(messageID)\r\nDate: \(formatter.string(from: date))\r\n"
        text += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        text += body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return Array(text.utf8)
    }
}

/// What the SMTP server answered to the message.
public struct SMTPReceipt: Sendable, Equatable {
    /// The server's last reply (`250 2.0.0 Ok: queued as 7E5FAFB41FC`).
    public var reply: String
    /// The queue id in that reply, when the server gives one (Postfix does).
    public var queueID: String?
}

/// SMTP probes on libcurl.
public enum SMTPProbe {
    /// Sends `message` through `endpoint` to its recipients (envelope
    /// sender `message.from`), with AUTH when `credentials` are given and
    /// STARTTLS when the endpoint says so.
    public static func send(_ message: MailMessage, via endpoint: MailEndpoint,
                            credentials: MailCredentials? = nil) throws -> SMTPReceipt {
        let transfer = try CurlTransfer(proto: "smtp", endpoint: endpoint, credentials: credentials)
        let result = try transfer.perform(path: "/relevo.invalid", upload: try message.rendered(),
                                          mailFrom: message.from, recipients: message.to)
        let reply = result.lines.last { $0.hasPrefix("2") } ?? result.lines.last ?? ""
        return SMTPReceipt(reply: reply, queueID: queueID(in: reply))
    }

    /// Whether the server would accept mail for `recipient`: VRFY, which
    /// Postfix answers with its recipient checks (252 for a known user, 550
    /// for an unknown one); nothing is delivered. A server with VRFY
    /// disabled answers 502, a `rejected` error.
    public static func verify(_ recipient: String, via endpoint: MailEndpoint,
                              credentials: MailCredentials? = nil) throws -> String {
        guard !recipient.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) else {
            throw MailError(.protocolError, proto: "smtp", server: endpoint.description, message: "not an address: \(recipient)")
        }
        let transfer = try CurlTransfer(proto: "smtp", endpoint: endpoint, credentials: credentials)
        // libcurl sends VRFY for each recipient when nothing is uploaded.
        let result = try transfer.perform(path: "/relevo.invalid", recipients: [recipient], bareRecipients: true)
        return result.lines.last { $0.hasPrefix("2") } ?? result.lines.last ?? ""
    }

    static func queueID(in reply: String) -> String? {
        guard let range = reply.range(of: "queued as ") else { return nil }
        let id = reply[range.upperBound...].prefix { $0.isLetter || $0.isNumber }
        return id.isEmpty ? nil : String(id)
    }
}
