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
        // Names are ASCII nearly always: parsed on bytes; anything the byte
        // parser does not accept as it stands (an error, non-ASCII text) is
        // parsed by the general parser, which gives the same answer or the
        // error (a test compares the two on many names).
        if let parsed = MaildirName(asciiParsing: name) {
            self = parsed
        } else {
            try self.init(generalParsing: name)
        }
    }

    /// The general parser, on the name's characters.
    init(generalParsing name: String) throws {
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

    /// `init(parsing:)` of an ASCII name that it accepts, on the name's
    /// bytes; nil for anything else (then the general parser decides).
    init?(asciiParsing name: String) {
        let parsed: MaildirName?? = name.utf8.withContiguousStorageIfAvailable { bytes -> MaildirName? in
            let count = bytes.count
            guard count > 0, count <= MaildirName.maximumLength, bytes[0] != UInt8(ascii: ".") else { return nil }
            var colon = count
            for i in 0..<count {
                let byte = bytes[i]
                guard byte != 0, byte < 0x80, byte != UInt8(ascii: "/") else { return nil }
                if byte == UInt8(ascii: "."), i + 1 < count, bytes[i + 1] == UInt8(ascii: ".") { return nil }
                if byte == UInt8(ascii: ":"), colon == count { colon = i }
            }
            func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
            func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
            func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            var flags: Set<Character> = []
            var info: String?
            if colon < count {
                info = text((colon + 1)..<count)
                if count - colon - 1 >= 2, bytes[colon + 1] == UInt8(ascii: "2"), bytes[colon + 2] == UInt8(ascii: ",") {
                    for i in (colon + 3)..<count {
                        guard isLetter(bytes[i]) else { return nil }
                        flags.insert(Character(Unicode.Scalar(bytes[i])))
                    }
                }
            }
            // TIME.UNIQUE.HOST up to the first ',' of the base.
            var comma = colon
            for i in 0..<colon where bytes[i] == UInt8(ascii: ",") { comma = i; break }
            var dots: [Int] = []
            for i in 0..<comma where bytes[i] == UInt8(ascii: ".") {
                dots.append(i)
                if dots.count == 2 { break }
            }
            guard dots.count == 2, dots[0] > 0, dots[1] > dots[0] + 1, dots[1] + 1 < comma else { return nil }
            for i in 0..<dots[0] where !isDigit(bytes[i]) { return nil }
            var sizeHint: UInt64?
            var virtualSizeHint: UInt64?
            var start = comma
            while start < colon {
                var end = start + 1
                while end < colon && bytes[end] != UInt8(ascii: ",") { end += 1 }
                let field = (start + 1)..<end
                if field.count >= 2, bytes[field.lowerBound + 1] == UInt8(ascii: "=") {
                    let key = bytes[field.lowerBound]
                    if key == UInt8(ascii: "S") || key == UInt8(ascii: "W") {
                        guard let value = UInt64(text((field.lowerBound + 2)..<end)) else { return nil }
                        if key == UInt8(ascii: "S") { sizeHint = value } else { virtualSizeHint = value }
                    }
                }
                start = end
            }
            return MaildirName(name: name, base: text(0..<colon), time: text(0..<dots[0]),
                               unique: text((dots[0] + 1)..<dots[1]), host: text((dots[1] + 1)..<comma),
                               sizeHint: sizeHint, virtualSizeHint: virtualSizeHint, info: info, flags: flags)
        }
        // Not contiguous, or not accepted here: the general parser decides.
        guard let parsed, let parsed else { return nil }
        self = parsed
    }

    private init(name: String, base: String, time: String, unique: String, host: String, sizeHint: UInt64?,
                 virtualSizeHint: UInt64?, info: String?, flags: Set<Character>) {
        self.name = name
        self.base = base
        self.time = time
        self.unique = unique
        self.host = host
        self.sizeHint = sizeHint
        self.virtualSizeHint = virtualSizeHint
        self.info = info
        self.flags = flags
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
