import Glibc

/// A Maildir message file name: `TIME.UNIQUE.HOST[,S=size][,W=size][:2,FLAGS]`.
///
/// `base` (everything before the `:`) is the identity of a message: it does
/// not change when the message moves from `new/` to `cur/` or when its flags
/// change, so `new/X` and `cur/X:2,RS` are the same message.
///
/// Parsing refuses names that could address anything but one file in one
/// directory (`/`, NUL, `..`, a leading `.`, more than 255 bytes), and names
/// not shaped like a Maildir message name.
public struct MaildirName: Hashable, Sendable, CustomStringConvertible {
    /// Longest file name accepted, in UTF-8 bytes (NAME_MAX).
    public static let maximumLength = 255

    /// The whole file name.
    public let name: String
    /// The unique name without the info: the message identity.
    public let base: String
    /// Delivery time field (decimal seconds, as written by the deliverer).
    public let time: String
    /// The unique field (such as `M12345P678Q9`).
    public let unique: String
    /// The host field, without the `,S=` / `,W=` fields that follow it.
    public let host: String
    /// The `,S=` size hint (file size in bytes), when present.
    public let sizeHint: UInt64?
    /// The `,W=` size hint (size with CRLF line ends), when present.
    public let virtualSizeHint: UInt64?
    /// The text after `:` (such as `2,RS`), nil for a name without info.
    public let info: String?
    /// The flags of a `:2,` info (P passed, R replied, S seen, T trashed,
    /// D draft, F flagged; lowercase letters are keywords). Empty otherwise.
    public let flags: Set<Character>

    /// Parses `name`, throwing `StoreError.invalidMaildirName` with the reason.
    public init(parsing name: String) throws {
        func invalid(_ reason: String) -> StoreError {
            StoreError.invalidMaildirName(name, reason: reason)
        }
        if name.isEmpty { throw invalid("empty name") }
        if name.utf8.count > MaildirName.maximumLength {
            throw invalid("longer than \(MaildirName.maximumLength) bytes")
        }
        if name.utf8.contains(0) { throw invalid("contains a NUL byte") }
        if name.contains("/") { throw invalid("contains '/'") }
        if name.contains("..") { throw invalid("contains '..'") }
        if name.hasPrefix(".") { throw invalid("starts with '.'") }

        let base: Substring
        if let colon = name.firstIndex(of: ":") {
            base = name[..<colon]
            let info = name[name.index(after: colon)...]
            self.info = String(info)
            if info.hasPrefix("2,") {
                let letters = info.dropFirst(2)
                guard letters.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                    throw invalid("flags '\(letters)' are not all ASCII letters")
                }
                self.flags = Set(letters)
            } else {
                self.flags = []
            }
        } else {
            base = Substring(name)
            self.info = nil
            self.flags = []
        }

        // TIME.UNIQUE.HOST, where HOST may contain dots and may be followed
        // by ",S=123" and ",W=130" fields.
        let fields = base.split(separator: ",", omittingEmptySubsequences: false)
        let identity = fields[0]
        let parts = identity.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw invalid("expected TIME.UNIQUE.HOST before any ',' or ':'")
        }
        guard parts[0].allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw invalid("time field '\(parts[0])' is not decimal")
        }
        var sizeHint: UInt64?
        var virtualSizeHint: UInt64?
        for field in fields.dropFirst() {
            if field.hasPrefix("S=") {
                guard let value = UInt64(field.dropFirst(2)) else { throw invalid("bad size field '\(field)'") }
                sizeHint = value
            } else if field.hasPrefix("W=") {
                guard let value = UInt64(field.dropFirst(2)) else { throw invalid("bad size field '\(field)'") }
                virtualSizeHint = value
            }
            // Other ",X=..." fields are kept in `base` and otherwise ignored.
        }
        self.name = name
        self.base = String(base)
        self.time = String(parts[0])
        self.unique = String(parts[1])
        self.host = String(parts[2])
        self.sizeHint = sizeHint
        self.virtualSizeHint = virtualSizeHint
    }

    /// The same message with `flags` (a `:2,` info with the flags in ASCII order).
    public func withFlags(_ flags: Set<Character>) throws -> MaildirName {
        try MaildirName(parsing: base + ":2," + String(flags.sorted()))
    }

    /// The flags in ASCII order, as spelled in a name.
    public var flagString: String { String(flags.sorted()) }

    public var description: String { name }
}

extension MaildirName: Codable {
    /// Encoded as the file name string.
    public init(from decoder: Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// Makes new unique Maildir names for fixtures and tests:
/// `SECONDS.MmicrosPpidQcounter.HOST[,S=size][:2,FLAGS]`.
///
/// Unique as long as a (host, process) pair is not reused within the same
/// microsecond with the same counter, as in the Maildir specification.
public struct MaildirNameGenerator: Sendable {
    /// Host field, with `/`, `:` and `,` written as `\057`, `\072`, `\054`
    /// (as the Maildir specification asks), NUL dropped, runs of dots and
    /// leading or trailing dots removed, at most 128 bytes; never empty.
    public let host: String
    /// A pid-like number distinguishing generators on one host.
    public let process: Int
    /// Number of names made so far.
    public private(set) var counter: Int = 0

    public init(host: String, process: Int = Int(getpid())) {
        var safe = ""
        for character in host {
            switch character {
            case "/": safe += "\\057"
            case ":": safe += "\\072"
            case ",": safe += "\\054"
            case "\0": continue
            case "." where safe.isEmpty || safe.hasSuffix("."): continue
            default: safe.append(character)
            }
        }
        while safe.utf8.count > 128 || safe.hasSuffix(".") { safe.removeLast() }
        self.host = safe.isEmpty ? "localhost" : safe
        self.process = process
    }

    /// The next name, for a message delivered at `time` of `size` bytes
    /// (adds `,S=`), with `flags` (adds `:2,` when not nil; only ASCII
    /// letters are kept). Times before 1970 are written as 0.
    public mutating func next(time: FileTime, size: UInt64? = nil,
                              flags: Set<Character>? = nil) -> MaildirName {
        counter += 1
        let seconds = max(0, time.seconds), micros = max(0, time.nanoseconds) / 1000
        var text = "\(seconds).M\(micros)P\(max(0, process))Q\(counter).\(host)"
        if let size { text += ",S=\(size)" }
        if let flags { text += ":2," + String(flags.filter { $0.isASCII && $0.isLetter }.sorted()) }
        // The pieces above always form a valid name (the host is escaped).
        return try! MaildirName(parsing: text)
    }
}
