import RelevoBasics

/// POP3 probes on libcurl.
public enum POP3Probe {
    /// Logs in and asks STAT: messages and bytes in the maildrop.
    public static func stat(via endpoint: MailEndpoint, credentials: MailCredentials) throws -> (messages: Int, bytes: Int) {
        let transfer = try CurlTransfer(proto: "pop3", endpoint: endpoint, credentials: credentials)
        // A one-line answer: no body (without NOBODY libcurl waits for a
        // multi-line one).
        let result = try transfer.perform(customRequest: "STAT", noBody: true)
        for line in result.lines.reversed() where line.hasPrefix("+OK ") {
            let words = line.split(separator: " ")
            if words.count >= 3, let count = Int(words[1]), let bytes = Int(words[2]) { return (count, bytes) }
        }
        throw MailError(.protocolError, proto: "pop3", server: endpoint.description,
                        message: "STAT: \(result.lines.last ?? "no answer")")
    }
}
