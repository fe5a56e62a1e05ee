/// The plan language's vocabulary: element kinds, operations (steps and
/// gates) and the typed parameters each takes. The loader and the checker are
/// driven by this table, and docs/plan-language.md describes it.

/// The type of a parameter.
public indirect enum ParamType: Sendable, CustomStringConvertible {
    case string
    case int(min: Int)
    case bool
    /// `30s`, `5m`, `2h`, or a number of seconds.
    case duration
    case oneOf([String])
    /// A string that may use `${field}` of the set being iterated.
    case template
    /// An e-mail address (may use `${field}`).
    case email
    /// An LDAP distinguished name (may use `${field}`).
    case dn
    /// An LDAP search filter (RFC 4515).
    case filter
    /// An `ldap://` or `ldaps://` URL.
    case ldapURL
    case host
    /// An element of one of these kinds (empty: any kind).
    case element([ElementKind])
    case redirect
    /// One of the values of the redirect point named by the sibling parameter.
    case redirectValue(pointParameter: String)
    case set
    case notify
    case secret
    /// `STORE:PATH`: a store element and a path under its root.
    case storePath
    /// An absolute path on a host (a store root).
    case absolutePath
    /// A file on the controller, relative to the plan's folder.
    case localFile
    /// `user:group`, names or numbers.
    case owner
    case list(ParamType)
    /// A mapping from names to values of one type.
    case map(ParamType)
    /// A nested mapping with its own parameters.
    case record([ParamSpec])

    public var description: String {
        switch self {
        case .string: "a string"
        case .int(let min): min > 0 ? "an integer ≥ \(min)" : "an integer"
        case .bool: "true or false"
        case .duration: "a duration (250ms, 30s, 5m, 2h, 1d, or seconds)"
        case .oneOf(let values): "one of " + values.map { "'\($0)'" }.joined(separator: ", ")
        case .template: "a string (may use ${field})"
        case .email: "an e-mail address"
        case .dn: "an LDAP DN"
        case .filter: "an LDAP filter"
        case .ldapURL: "an ldap://, ldaps:// or ldapi:// URL"
        case .host: "a host name"
        case .element(let kinds):
            kinds.isEmpty ? "an element name" : "the name of a " + kinds.map(\.rawValue).joined(separator: " or ") + " element"
        case .redirect: "a redirect point name"
        case .redirectValue: "a value of the redirect point"
        case .set: "a set name"
        case .notify: "a notify target name"
        case .secret: "a secret reference (env:NAME or file:PATH)"
        case .storePath: "STORE:PATH"
        case .absolutePath: "an absolute path"
        case .localFile: "a file path"
        case .owner: "user:group"
        case .list(let t): "a list of \(t)"
        case .map(let t): "a mapping to \(t)"
        case .record: "a mapping"
        }
    }
}

/// One parameter: its name, type, whether it must be given, and what it does.
public struct ParamSpec: Sendable {
    public let name: String
    public let type: ParamType
    public let required: Bool
    public let help: String
    public init(_ name: String, _ type: ParamType, required: Bool = false, _ help: String) {
        self.name = name
        self.type = type
        self.required = required
        self.help = help
    }
}

/// The kinds of element a plan can declare.
public enum ElementKind: String, Sendable, CaseIterable {
    case ldap, smtp, imap, pop3, http
    case dnsMX = "dns-mx"
    case maildirStore = "maildir-store"
    case treeStore = "tree-store"
    /// Something outside the migration (the Internet, mail clients): a flow's
    /// start or end, never acted upon.
    case external

    /// What an element of this kind can do; the checker matches operations
    /// against it.
    public var capabilities: Set<Capability> {
        switch self {
        case .ldap: [.directory, .redirectAttribute, .enumerate]
        case .smtp: [.send, .probe]
        case .imap: [.read, .probe, .sessions]
        case .pop3: [.read, .probe]
        case .http: [.probe]
        case .dnsMX: [.redirectRecord, .resolve]
        case .maildirStore, .treeStore: [.store, .enumerate]
        case .external: []
        }
    }

    public var isStore: Bool { capabilities.contains(.store) }
    /// Whether the element runs on a host (and must name it with `on:`).
    public var needsHost: Bool { ![.ldap, .dnsMX, .external].contains(self) }

    public var summary: String {
        switch self {
        case .ldap: "an LDAP directory (users, per-user redirect attributes)"
        case .smtp: "an SMTP server (mail in and out)"
        case .imap: "an IMAP server (reading mail)"
        case .pop3: "a POP3 server (reading mail)"
        case .http: "an HTTP service (webmail, web applications)"
        case .dnsMX: "the MX record of a mail domain (a global redirect)"
        case .maildirStore: "a tree of Maildirs on a host"
        case .treeStore: "a plain directory tree on a host (file shares, web roots)"
        case .external: "a party outside the migration (the Internet, clients)"
        }
    }

    public var parameters: [ParamSpec] {
        let on = ParamSpec("on", .host, required: true, "the host it runs on")
        let port = ParamSpec("port", .int(min: 1), "TCP port")
        let tls = ParamSpec("tls", .oneOf(["none", "starttls", "implicit"]), "transport security (default none)")
        let caFile = ParamSpec("ca-file", .localFile,
                               "CA certificates that sign the server's certificate, for `tls: starttls` or `implicit` (default: the system's)")
        let login = ParamSpec("login", .record([
            ParamSpec("user", .string, required: true, "user name"),
            ParamSpec("password", .secret, required: true, "the password, as a secret reference"),
        ]), "credentials for probes")
        switch self {
        case .ldap:
            return [
                ParamSpec("on", .host, "the host it runs on (optional: a directory may be a service name)"),
                ParamSpec("url", .ldapURL, required: true, "ldap:// (optionally with StartTLS) or ldaps://"),
                ParamSpec("base", .dn, required: true, "search base"),
                ParamSpec("bind", .record([
                    ParamSpec("dn", .dn, required: true, "bind DN"),
                    ParamSpec("password", .secret, required: true, "bind password, as a secret reference"),
                ]), "simple bind credentials"),
                ParamSpec("starttls", .bool, "upgrade ldap:// with StartTLS"),
                ParamSpec("tls-reqcert", .oneOf(["never", "allow", "try", "demand"]), "certificate checking (default demand)"),
                ParamSpec("ca-file", .localFile, "CA certificates that sign the server's certificate (default: the system's)"),
                ParamSpec("timeout", .duration, "per-operation timeout"),
                ParamSpec("role", .oneOf(["old", "new", "both"]), "which side of the migration it serves"),
            ]
        case .smtp:
            return [on, port, tls, caFile, login,
                    ParamSpec("max-concurrency", .int(min: 1), "deliveries the server accepts at once"),
                    ParamSpec("server", .oneOf(MailServerSoftware.mta.map(\.rawValue)),
                              "the MTA behind it, for `reload` and `flush-queue` (default postfix)"),
                    ParamSpec("config", .absolutePath,
                              "its configuration directory on its host (Postfix: `postfix -c DIR`, `postqueue -c DIR`; default: the server's own)")]
        case .imap, .pop3:
            return [on, port, tls, caFile, login,
                    ParamSpec("master", .record([
                        ParamSpec("user", .string, required: true, "master user name"),
                        ParamSpec("password", .secret, required: true, "master password, as a secret reference"),
                    ]), "a master login for gates on other users' mailboxes"),
                    ParamSpec("server", .oneOf(MailServerSoftware.mailbox.map(\.rawValue)),
                              "the server behind it, for `reload`, `flush-cache` and `kick` (default dovecot)"),
                    ParamSpec("config", .absolutePath,
                              "its configuration file on its host (Dovecot: `doveadm -c FILE`; default: the server's own)")]
        case .http:
            return [on, port, ParamSpec("path", .string, "URL path probed (default /)"),
                    ParamSpec("tls", .bool, "https")]
        case .dnsMX:
            return [ParamSpec("domain", .string, required: true, "the mail domain"),
                    ParamSpec("resolver", .string, "resolver address (default: the system's)")]
        case .maildirStore, .treeStore:
            return [on,
                    ParamSpec("root", .absolutePath, required: true, "every path of this store lies under it"),
                    ParamSpec("owner", .owner, "owner of the files (user:group)")]
        case .external:
            return []
        }
    }
}

/// The mail server software whose control commands the mail-server steps
/// (`reload`, `flush-cache`, `kick`, `flush-queue`) know.
public enum MailServerSoftware: String, Sendable, CaseIterable {
    case postfix, dovecot

    public static let mta: [MailServerSoftware] = [.postfix]
    public static let mailbox: [MailServerSoftware] = [.dovecot]

    /// The software of an element: its `server`, or the default for its kind.
    public static func of(_ element: Element) -> MailServerSoftware? {
        if let named = element.parameters["server"]?.string { return MailServerSoftware(rawValue: named) }
        switch element.kind {
        case .smtp: return .postfix
        case .imap, .pop3: return .dovecot
        default: return nil
        }
    }
}

public enum Capability: String, Sendable {
    case directory, redirectAttribute, enumerate, send, probe, read, sessions
    case redirectRecord, resolve, store
}

/// Where an operation may appear.
public enum OperationScope: Sendable {
    /// Only in a global phase (runs once).
    case global
    /// Only in a per-set phase (runs once per set).
    case perSet
    case either
}

/// A step or gate operation.
public struct Operation: Sendable {
    public let name: String
    public let isGate: Bool
    public let scope: OperationScope
    public let parameters: [ParamSpec]
    /// The parameter a scalar shorthand fills (`- approve: "text"`).
    public let shorthand: String?
    /// Whether it changes live state (and so needs an inverse or a contingency).
    public let changesLiveState: Bool
    /// How it is undone, in words; nil when it cannot be.
    public let inverse: String?
    public let summary: String

    public init(_ name: String, gate: Bool = false, scope: OperationScope, changes: Bool = false,
                inverse: String? = nil, shorthand: String? = nil, _ summary: String, _ parameters: [ParamSpec]) {
        self.name = name
        self.isGate = gate
        self.scope = scope
        self.parameters = parameters
        self.shorthand = shorthand
        self.changesLiveState = changes
        self.inverse = inverse
        self.summary = summary
    }
}
