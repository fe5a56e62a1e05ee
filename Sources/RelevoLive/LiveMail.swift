import Foundation
import RelevoBasics
import RelevoEngine
import RelevoMail
import RelevoOperations
import RelevoPlan
import RelevoSSH

/// The mail side of a live run, on `RelevoMail`: probe messages
/// (`smtp-send`), the protocol gates (`imap-login`, `pop3-login`,
/// `smtp-accept`) and notifications by mail.
///
/// - An `smtp`, `imap` or `pop3` element is reached at its host's address
///   (without the SSH port an `address` may carry), on its `port` (default
///   25, 143, 110), with its `tls` (`none`, `starttls`, `implicit`) and
///   `ca-file` (the CAs that sign the server's certificate).
/// - `auth: master` (the default) logs in as `USER*MASTER` with the
///   element's `master` user and password (Dovecot's master user: one
///   secret for every user's mailbox); `auth: login` uses the element's
///   `login`.
/// - Secrets are resolved when the probe connects and are handed to
///   libcurl only; evidence and errors name the reference.
extension LiveEnvironment {
    /// The endpoint of a mail element.
    func mailEndpoint(_ name: String, defaultPort: Int) throws -> MailEndpoint {
        guard let element = plan.element(name), let hostName = element.host?.name, let host = plan.host(hostName) else {
            throw ConfigurationError(description: "'\(name)' is not a mail element on a host")
        }
        // A host's address may carry its SSH port: the mail server is on the host.
        let address = SSHEndpoint.parseAddress(host.address)?.host ?? host.address
        let port: Int = { if case .int(let n)? = element.parameters["port"]?.content { Int(n) } else { defaultPort } }()
        let security = MailEndpoint.Security(rawValue: element.parameters["tls"]?.string ?? "none") ?? .none
        return MailEndpoint(host: address, port: port, security: security,
                            caFile: element.parameters["ca-file"]?.string.map(absolute))
    }

    /// The credentials of a login gate: the element's master user on behalf
    /// of `user`, or its `login`.
    func mailCredentials(_ name: String, user: String, auth: String) throws -> MailCredentials {
        guard let element = plan.element(name) else { throw ConfigurationError(description: "no element '\(name)'") }
        let key = auth == "login" ? "login" : "master"
        guard let record = element.parameters[key], let login = record["user"]?.string,
              let reference = record["password"]?.secret else {
            throw ConfigurationError(description: "\(name) has no `\(key):` (user and password) for `auth: \(auth)`")
        }
        let password = try reference.resolve(environment: environment, directory: planDirectory)
        return key == "master" ? .master(login, password: password, for: user) : MailCredentials(user: login, password: password)
    }

    /// The element's `login`, when it has one (AUTH for SMTP).
    func optionalLogin(_ name: String) throws -> MailCredentials? {
        guard plan.element(name)?.parameters["login"] != nil else { return nil }
        return try mailCredentials(name, user: "", auth: "login")
    }

    /// `smtp-send`: a probe message through the element, its Message-ID in
    /// the evidence.
    func sendProbe(_ step: BoundStep) throws -> StepOutcome {
        guard let via = step["via"]?.string, let to = step["to"]?.string else { throw StepFailure("incomplete smtp-send") }
        let endpoint = try mailEndpoint(via, defaultPort: 25)
        let domain = to.split(separator: "@").last.map(String.init) ?? "relevo.invalid"
        let message = MailMessage(from: "relevo@\(domain)", to: [to], subject: step["subject"]?.string ?? "relevo probe",
                                  messageID: MailMessage.newMessageID(domain: domain))
        do {
            let receipt = try SMTPProbe.send(message, via: endpoint, credentials: try optionalLogin(via))
            return StepOutcome(status: .done, evidence: "\(via) (\(endpoint)) accepted \(message.messageID) for \(to)"
                               + (receipt.queueID.map { ", queued as \($0)" } ?? ""), messages: 1)
        } catch let error as MailError {
            throw StepFailure("\(via): \(error)")
        }
    }

    /// The mail gates; nil for a gate that is not a mail gate.
    func mailGate(_ step: BoundStep) -> StepOutcome? {
        let name = step.operation.name
        guard ["imap-login", "pop3-login", "smtp-accept"].contains(name) else { return nil }
        let via = step["via"]?.string ?? ""
        do {
            switch name {
            case "imap-login":
                let user = step["user"]?.string ?? ""
                let session = try IMAPSession(endpoint: try mailEndpoint(via, defaultPort: 143),
                                              credentials: try mailCredentials(via, user: user, auth: step["auth"]?.string ?? "master"))
                let count = try session.messageCount()
                return StepOutcome(status: .done, evidence: "\(user) logged in through \(via) (\(session.endpoint)); INBOX holds \(count) messages",
                                   messages: count)
            case "pop3-login":
                let user = step["user"]?.string ?? ""
                let endpoint = try mailEndpoint(via, defaultPort: 110)
                let (count, bytes) = try POP3Probe.stat(via: endpoint,
                                                        credentials: try mailCredentials(via, user: user, auth: step["auth"]?.string ?? "master"))
                return StepOutcome(status: .done, evidence: "\(user) logged in over POP3 through \(via) (\(endpoint)); STAT \(count) messages, \(bytes) bytes",
                                   bytes: Int64(bytes), messages: count)
            default:
                let to = step["to"]?.string ?? ""
                let endpoint = try mailEndpoint(via, defaultPort: 25)
                let reply = try SMTPProbe.verify(to, via: endpoint, credentials: try optionalLogin(via))
                return StepOutcome(status: .done, evidence: "\(via) (\(endpoint)) accepts \(to): \(reply)")
            }
        } catch let error as MailError {
            return StepOutcome(status: .failed, evidence: "\(via): \(error)")
        } catch {
            return StepOutcome(status: .failed, evidence: "\(via): \(error)")
        }
    }

    /// A notification by mail through the target's `via` element. The
    /// notification log keeps every line, with whether it was sent.
    func mailNotification(_ target: NotifyTarget, message: String) throws {
        let line = "\(target.name.name) <\(target.to)>: \(message)"
        do {
            let endpoint = try mailEndpoint(target.via.name, defaultPort: 25)
            let domain = target.to.split(separator: "@").last.map(String.init) ?? "relevo.invalid"
            let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
            let mail = MailMessage(from: "relevo@\(domain)", to: [target.to], subject: "relevo: " + String(firstLine.prefix(120)),
                                   messageID: MailMessage.newMessageID(domain: domain), body: message + "\n")
            let receipt = try SMTPProbe.send(mail, via: endpoint, credentials: try optionalLogin(target.via.name))
            try recordNotification(line + "  [mailed through \(target.via.name)\(receipt.queueID.map { ", queued as \($0)" } ?? "")]")
        } catch {
            // A contingency must not fail because its alert could not be
            // mailed: the line stays in the log, with the reason.
            try recordNotification(line + "  [not mailed: \(error)]")
        }
    }
}
