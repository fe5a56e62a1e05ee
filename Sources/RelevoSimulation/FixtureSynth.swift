import RelevoBasics
import Dispatch
import Foundation
import Glibc
import RelevoDirectory
import RelevoStore

/// Writes a realistic fixture set for a dry run of a mail migration: the old
/// directory as LDIF and the old host's Maildirs, deterministically from a
/// seed (the same options write the same bytes, file times included).
///
///     DIR/README.md                        what the set is and how it was made
///     DIR/neon.ldif                        the old directory: base entry, then one qmailUser per user
///     DIR/neon/README.md                   a note (the dry run copies only folders of a host)
///     DIR/neon/home1/maildirs/UID/cur/...  read mail, `TIME.MmicrosPpidQn.neon,S=size:2,FLAGS`
///     DIR/neon/home1/maildirs/UID/new/...  unread mail, most recent first
///     DIR/xalumno/README.md                a note (keeps the host folder in git)
///     DIR/xalumno/var/qmail/maildirs/      the new store root, empty
///
/// Empty folders are not written (no `tmp/`, no `new/` without unread mail,
/// no Maildir for the probe): git cannot keep them and a placeholder would be
/// a stray file in a Maildir census. The dry run creates what is missing.
///
/// Each message is an RFC 5322 text message as qmail delivered it
/// (Return-Path, Delivered-To, Received, Date, From, To, Subject,
/// Message-ID `<...@fixture.relevo>`, MIME-Version, Content-Type text/plain;
/// charset=utf-8) with a few paragraphs of Spanish or English; its file's
/// mtime is its Date (Maildir servers use it as the received date). No
/// randomness comes from the system: everything derives from `seed` through
/// SplitMix64, integer arithmetic only, so output is identical everywhere.
public struct FixtureSynth: Sendable {
    /// Users on the old host, the `named` ones included (the probe is extra).
    public var users: Int
    /// Messages per user, drawn evenly from this range.
    public var messages: ClosedRange<Int> = 5...40
    public var seed: UInt64 = 1
    public var baseDN = "dc=exalumno,dc=unam,dc=mx"
    public var mailDomain = "exalumno.unam.mx"
    /// `mailHost` of the users still on the old host.
    public var oldHost = "neon.servidores.unam.mx"
    /// `mailHost` of the probe (already on the new host).
    public var newHost = "xalumno.servidores.unam.mx"
    /// Folder standing for the old host's file system; also the LDIF's name
    /// (`neon.ldif`) and the host field of Maildir names.
    public var oldHostFolder = "neon"
    /// Root of the old Maildir store: `mailMessageStore` is `ROOT/UID/`.
    public var oldStoreRoot = "/home1/maildirs"
    public var newHostFolder = "xalumno"
    public var newStoreRoot = "/var/qmail/maildirs"
    /// Users always present, first, in this order (such as ceres, calewiro, icovilla).
    public var named: [String] = []
    /// Whether to add the rehearsal's `probe` user: `mailHost` on the new
    /// host, `mailQuota: 10000000S,5000000C`, `mailMessageStore ROOT/probe/`
    /// (the same relative path under the new store), no messages.
    public var includeProbe = true
    public var probeUID = "probe"
    /// Delivery times are drawn from this span (seconds since 1970, UTC).
    /// Default: 2007-09-01 to 2010-02-28.
    public var period: ClosedRange<Int64> = 1_188_604_800...1_267_401_599

    public init(users: Int, messages: ClosedRange<Int> = 5...40, seed: UInt64 = 1, named: [String] = [],
                includeProbe: Bool = true) {
        self.users = users
        self.messages = messages
        self.seed = seed
        self.named = named
        self.includeProbe = includeProbe
    }

    /// What `write(to:)` wrote.
    public struct Summary: Sendable, Equatable {
        /// Users on the old host (named ones included; not the probe).
        public var users: Int
        public var probe: Bool
        /// Entries in the LDIF: the base, the users, the probe.
        public var entries: Int
        public var messages: Int
        /// Messages in `new/` (unread); the others are in `cur/`.
        public var unread: Int
        /// Bytes of all message files.
        public var bytes: UInt64
        /// Bytes of the LDIF.
        public var ldifBytes: Int

        /// `bytes` in MB (10^6 bytes), two decimals: `0.54`.
        public var megabytes: String {
            let hundredths = (bytes + 5_000) / 10_000
            let cents = hundredths % 100
            return "\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
        }
    }

    /// The name of the LDIF file: `neon.ldif`.
    public var ldifFileName: String { oldHostFolder + ".ldif" }

    /// The files and folders `write(to:)` creates directly in DIR.
    public var topLevelItems: [String] { ["README.md", ldifFileName, oldHostFolder, newHostFolder] }

    /// The `relevo fixtures synth` command line that writes this set into
    /// `output`, or nil when an option differs from what the command can say
    /// (a library-only option such as the base DN or the period).
    public func commandLine(output: String) -> String? {
        var d = FixtureSynth(users: users)
        d.messages = messages; d.seed = seed; d.named = named; d.includeProbe = includeProbe
        guard d.baseDN == baseDN, d.mailDomain == mailDomain, d.oldHost == oldHost, d.newHost == newHost,
              d.oldHostFolder == oldHostFolder, d.oldStoreRoot == oldStoreRoot, d.newHostFolder == newHostFolder,
              d.newStoreRoot == newStoreRoot, d.probeUID == probeUID, d.period == period else { return nil }
        var parts = ["relevo fixtures synth --users \(users)", "--messages \(messages.lowerBound)..\(messages.upperBound)",
                     "--seed \(seed)"]
        if !named.isEmpty { parts.append("--named " + named.joined(separator: ",")) }
        if !includeProbe { parts.append("--no-probe") }
        parts.append("-o " + Self.shellQuoted(output))
        return parts.joined(separator: " ")
    }

    static func shellQuoted(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "/._-+,:=@".unicodeScalars.contains($0)
        }
        return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: - Validation

    /// Throws when the options cannot make a sound fixture set.
    public func validate() throws(FixtureSynthError) {
        guard users >= 0, users <= 10_000_000 else { throw .init("users must be between 0 and 10000000, not \(users)") }
        guard messages.lowerBound >= 0, messages.upperBound <= 1_000_000 else {
            throw .init("messages per user must be between 0 and 1000000, not \(messages.lowerBound)..\(messages.upperBound)")
        }
        guard period.lowerBound >= 0 else { throw .init("the period must start after 1970") }
        guard named.count <= users else {
            throw .init("\(named.count) named users do not fit in \(users) users", help: "raise the number of users to at least \(named.count)")
        }
        var seen = Set<String>()
        for uid in named {
            if let problem = Self.uidProblem(uid) { throw .init("named user '\(uid)': \(problem)") }
            if !seen.insert(uid.lowercased()).inserted { throw .init("named user '\(uid)' is given twice") }
            if includeProbe && uid.lowercased() == probeUID.lowercased() {
                throw .init("named user '\(uid)' is the probe's uid", help: "leave it out, or leave out the probe")
            }
        }
        if let problem = Self.uidProblem(probeUID) { throw .init("probe uid '\(probeUID)': \(problem)") }
        for (what, folder) in [("old host folder", oldHostFolder), ("new host folder", newHostFolder)] {
            if let problem = Self.uidProblem(folder) { throw .init("\(what) '\(folder)': \(problem)") }
        }
        guard oldHostFolder != newHostFolder else { throw .init("the old and new host folders are both '\(oldHostFolder)'") }
        for (what, root) in [("old store root", oldStoreRoot), ("new store root", newStoreRoot)] {
            guard root.hasPrefix("/"), Self.components(root) != nil else {
                throw .init("\(what) '\(root)' is not an absolute path of plain names")
            }
        }
        do { _ = try DistinguishedName(baseDN) } catch { throw .init("base DN '\(baseDN)': \(error)") }
        guard !mailDomain.isEmpty, mailDomain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else {
            throw .init("mail domain '\(mailDomain)' is not a domain name")
        }
    }

    /// Why `uid` cannot name a user (and a folder), or nil.
    static func uidProblem(_ uid: String) -> String? {
        if uid.isEmpty { return "empty" }
        if uid.utf8.count > 64 { return "longer than 64 bytes" }
        guard let first = uid.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else {
            return "must start with a lowercase letter or a digit"
        }
        guard uid.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
        else { return "only lowercase letters, digits, '.', '_' and '-' are allowed" }
        if uid.contains("..") { return "contains '..'" }
        return nil
    }

    /// The names of an absolute path (`/home1/maildirs` → home1, maildirs),
    /// nil when one is empty, `.` or `..`.
    static func components(_ path: String) -> [String]? {
        let parts = path.split(separator: "/").map(String.init)
        guard !parts.isEmpty, parts.allSatisfy({ $0 != "." && $0 != ".." && !$0.contains("\0") }) else { return nil }
        return parts
    }

    // MARK: - Users

    /// One user of the set, before any message is made.
    public struct User: Sendable, Equatable {
        public var uid: String
        public var cn: String
        public var sn: String
        /// How messages greet them.
        public var givenName: String
        public var mailQuota: String
        public var isNamed: Bool
        public var isProbe: Bool
        /// Seed of this user's messages.
        var messageSeed: UInt64
    }

    /// The users in LDIF order: the probe (if any), the named users, then
    /// generated ones.
    public func plannedUsers() -> [User] {
        var rng = SplitMix64(seed: Self.mix(seed, 0x5EED_0001))
        var out: [User] = []
        var taken = Set(named.map { $0.lowercased() })
        if includeProbe { taken.insert(probeUID.lowercased()) }
        if includeProbe {
            out.append(User(uid: probeUID, cn: "relevo probe", sn: "probe", givenName: probeUID,
                            mailQuota: "10000000S,5000000C", isNamed: false, isProbe: true, messageSeed: 0))
        }
        for (i, uid) in named.enumerated() {
            out.append(User(uid: uid, cn: "usuario \(uid)", sn: uid, givenName: uid,
                            mailQuota: "10000000S,5000000C", isNamed: true, isProbe: false,
                            messageSeed: Self.mix(seed, UInt64(i) &+ 0x1_0000_0000)))
        }
        for i in 0..<(users - named.count) {
            let first = rng.pick(Words.firstNames), last1 = rng.pick(Words.surnames), last2 = rng.pick(Words.surnames)
            let f = Self.fold(first), l1 = Self.fold(last1), l2 = Self.fold(last2)
            var candidate: String
            switch rng.below(1000) {
            case 0..<500: candidate = String(f.prefix(1)) + l1
            case 500..<700: candidate = f + String(l1.prefix(1)) + String(l2.prefix(1))
            case 700..<850: candidate = f + "." + l1
            default: candidate = String(f.prefix(1)) + l1 + Self.two((80 + Int(rng.below(30))) % 100)   // a year, 80 to 09
            }
            if taken.contains(candidate) {
                var n = 2
                while taken.contains(candidate + String(n)) { n += 1 }
                candidate += String(n)
            }
            taken.insert(candidate)
            let quota = Self.quotas[Self.weighted(&rng, Self.quotaWeights)]
            out.append(User(uid: candidate, cn: "\(first) \(last1) \(last2)", sn: "\(last1) \(last2)", givenName: first,
                            mailQuota: quota, isNamed: false, isProbe: false,
                            messageSeed: Self.mix(seed, UInt64(i) &+ 0x2_0000_0000)))
        }
        return out
    }

    static let quotas = ["10000000S,5000000C", "20000000S,1000C", "20000000S,5000000C", "50000000S,10000C",
                         "5000000S,1000C", "100000000S,50000C"]
    static let quotaWeights = [500, 200, 100, 100, 50, 50]

    /// Lowercase ASCII for a name: accents dropped, ñ → n, others removed.
    static func fold(_ s: String) -> String {
        var out = ""
        for scalar in s.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    // MARK: - Directory

    /// The directory entries: the base entry, then one per user.
    public func entries() throws(FixtureSynthError) -> [Entry] {
        try validate()
        return try entries(plannedUsers())
    }

    func entries(_ users: [User]) throws(FixtureSynthError) -> [Entry] {
        let base: DistinguishedName
        do { base = try DistinguishedName(baseDN) } catch { throw .init("base DN '\(baseDN)': \(error)") }
        var out: [Entry] = []
        var top = Entry(dn: base)
        for c in ["top", "dcObject", "organization"] { top.append("objectClass", AttributeValue(c)) }
        let first = base.rdn?.attributes.first?.value ?? "exalumno"
        top.append("o", AttributeValue(first))
        if base.rdn?.attributes.first?.type.lowercased() == "dc" { top.append("dc", AttributeValue(first)) }
        out.append(top)
        let store = oldStoreRoot.hasSuffix("/") ? oldStoreRoot : oldStoreRoot + "/"
        for u in users {
            let rdn: RelativeDistinguishedName
            do { rdn = try RelativeDistinguishedName(type: "uid", value: u.uid) } catch { throw .init("uid '\(u.uid)': \(error)") }
            var e = Entry(dn: base.child(rdn))
            e.append("uid", AttributeValue(u.uid))
            e.append("cn", AttributeValue(u.cn))
            e.append("sn", AttributeValue(u.sn))
            for c in ["top", "person", "inetOrgPerson", "qmailUser"] { e.append("objectClass", AttributeValue(c)) }
            e.append("mail", AttributeValue("\(u.uid)@\(mailDomain)"))
            e.append("mailQuota", AttributeValue(u.mailQuota))
            e.append("mailMessageStore", AttributeValue("\(store)\(u.uid)/"))
            e.append("mailHost", AttributeValue(u.isProbe ? newHost : oldHost))
            out.append(e)
        }
        return out
    }

    /// The LDIF text: a comment, then the entries as slapcat writes them
    /// (no `version:` line; non-ASCII values in base64).
    public func ldif() throws(FixtureSynthError) -> String {
        try validate()
        return ldif(try entries(plannedUsers()))
    }

    func ldif(_ entries: [Entry]) -> String {
        "# The directory of \(oldHostFolder) (\(oldHost)) for a dry run, as slapcat would export it.\n"
            + "# Synthetic: written by relevo fixtures synth, seed \(seed). No passwords.\n"
            + LDIFWriter(includeVersion: false).write(entries: entries)
    }

    // MARK: - Messages

    /// One message of a user's Maildir.
    public struct Message: Sendable {
        /// `cur` or `new`.
        public var folder: String
        public var name: MaildirName
        /// Delivery time: the Date header and the file's mtime.
        public var time: Int64
        public var messageID: String
        public var bytes: [UInt8]
    }

    /// The messages of `user` (none for the probe), oldest first. `roster`
    /// is every user of the set, for senders among them.
    public func messages(for user: User, roster: [User]) -> [Message] {
        if user.isProbe { return [] }
        var rng = SplitMix64(seed: user.messageSeed)
        let count = messages.lowerBound + Int(rng.below(UInt64(messages.upperBound - messages.lowerBound + 1)))
        if count == 0 { return [] }
        // When the user was active: from a start in the first 60% of the
        // period to its end; one in seven stopped reading some time ago.
        let span = UInt64(period.upperBound - period.lowerBound)
        let start = period.lowerBound + Int64(rng.below(span * 6 / 10 + 1))
        var end = period.upperBound
        if rng.below(7) == 0 { end = start + Int64(rng.below(UInt64(end - start) + 1)) }
        var times = (0..<count).map { _ in start + Int64(rng.below(UInt64(end - start) + 1)) }
        times.sort()
        let unread = rng.below(100) < 35 ? min(count, 1 + Int(rng.below(3))) : 0
        var generator = MaildirNameGenerator(host: oldHostFolder, process: 1000 + Int(rng.below(31_000)))
        var out: [Message] = []
        out.reserveCapacity(count)
        for (i, time) in times.enumerated() {
            let isNew = i >= count - unread
            let flags: Set<Character>? = isNew ? nil : Set(Self.flagSets[Self.weighted(&rng, Self.flagWeights)])
            let target = Self.messageSize(&rng)
            let id = "<\(Self.stamp(time)).\(user.uid).\(i + 1).\(Self.hex(rng.next() & 0xFFFF_FFFF, width: 8))@fixture.relevo>"
            let bytes = composeMessage(&rng, user: user, roster: roster, time: time, messageID: id, target: target)
            let micros = Int32(rng.below(1_000_000))
            let name = generator.next(time: FileTime(seconds: time, nanoseconds: micros * 1000),
                                      size: UInt64(bytes.count), flags: flags)
            out.append(Message(folder: isNew ? "new" : "cur", name: name, time: time, messageID: id, bytes: bytes))
        }
        return out
    }

    static let flagSets = ["S", "RS", "", "FS", "FRS", "PS", "ST"]
    static let flagWeights = [640, 150, 60, 60, 30, 40, 20]

    /// A size to aim for: mostly 0.6 to 8 KB, a few up to 32 KB.
    static func messageSize(_ rng: inout SplitMix64) -> Int {
        let ranges: [(Int, Int)] = [(600, 1500), (1500, 3500), (3500, 8000), (8000, 16000), (16000, 32000)]
        let r = ranges[weighted(&rng, [360, 350, 230, 40, 20])]
        return r.0 + Int(rng.below(UInt64(r.1 - r.0)))
    }

    func composeMessage(_ rng: inout SplitMix64, user: User, roster: [User], time: Int64, messageID: String,
                        target: Int) -> [UInt8] {
        let spanish = rng.below(100) < 75
        // The sender: another user of the set, someone outside, or the newsletter.
        var senderName: String, senderAddress: String, newsletter = false
        let kind = rng.below(100)
        if kind < 45, roster.count > 1 {
            let j = Int(rng.below(UInt64(roster.count)))
            var other = roster[j]
            if other.uid == user.uid || other.isProbe { other = roster[(j + 1) % roster.count] }
            if other.uid == user.uid || other.isProbe {
                senderName = "Coordinación de exalumnos"; senderAddress = "coordinacion@\(mailDomain)"
            } else {
                senderName = other.cn; senderAddress = "\(other.uid)@\(mailDomain)"
            }
        } else if kind < 90 {
            let first = rng.pick(Words.firstNames), last = rng.pick(Words.surnames)
            senderName = "\(first) \(last)"
            senderAddress = Self.fold(first) + "." + Self.fold(last) + "@" + rng.pick(Words.outsideDomains)
        } else {
            senderName = "Boletín de exalumnos"; senderAddress = "boletin@\(mailDomain)"; newsletter = true
        }
        var subject = newsletter ? "Boletín de exalumnos \(Self.monthYear(time))" : rng.pick(spanish ? Words.subjectsES : Words.subjectsEN)
        let reply = !newsletter && rng.below(100) < 22
        if reply { subject = "Re: " + subject }
        let senderDomain = String(senderAddress[senderAddress.index(after: senderAddress.firstIndex(of: "@")!)...])
        let ip = ["192.0.2.", "198.51.100.", "203.0.113."][Int(rng.below(3))] + String(1 + rng.below(254))
        let to = "\(user.uid)@\(mailDomain)"

        var h = ""
        h += "Return-Path: <\(senderAddress)>\n"
        h += "Delivered-To: \(to)\n"
        h += "Received: from mail.\(senderDomain) (HELO mail.\(senderDomain)) (\(ip))\n"
        h += "  by \(oldHost) with SMTP; \(Self.receivedDate(time))\n"
        h += "Date: \(Self.rfc5322Date(time))\n"
        h += "From: \(Self.mailbox(senderName, senderAddress))\n"
        h += "To: \(Self.mailbox(user.cn, to))\n"
        h += "Subject: \(Self.encodedWords(subject, prefixLength: 9))\n"
        h += "Message-ID: \(messageID)\n"
        if reply { h += "In-Reply-To: <\(Self.stamp(time - 86_400 - Int64(rng.below(400_000)))).\(Self.hex(rng.next() & 0xFFFF_FFFF, width: 8))@\(senderDomain)>\n" }
        h += "MIME-Version: 1.0\n"
        h += "Content-Type: text/plain; charset=utf-8\n"
        h += "Content-Transfer-Encoding: 8bit\n\n"

        var out: [UInt8] = []
        out.reserveCapacity(target + 600)
        out.append(contentsOf: h.utf8)
        let given = user.givenName
        let greeting = spanish ? ["Hola \(given),", "Buen día, \(given):", "Estimado \(given):"][Int(rng.below(3))]
                               : ["Hi \(given),", "Dear \(given),"][Int(rng.below(2))]
        out.append(contentsOf: greeting.utf8); out.append(0x0A); out.append(0x0A)
        let sentences = spanish ? Words.sentencesES : Words.sentencesEN
        let closing = (spanish ? ["Saludos,", "Un abrazo,", "Atentamente,"][Int(rng.below(3))]
                               : ["Best,", "Regards,"][Int(rng.below(2))]) + "\n" + senderName + "\n"
        let quoted = reply ? Int(rng.below(3)) + 1 : 0
        // Paragraphs until the size aimed at is reached (always at least one).
        var paragraphs = 0
        while paragraphs == 0 || out.count + closing.utf8.count + (quoted > 0 ? 300 : 0) < target {
            var words: [Words.Word] = []
            for i in rng.distinct(2 + Int(rng.below(4)), of: sentences.count) { words += sentences[i] }
            Self.wrap(words, into: &out, prefix: [])
            out.append(0x0A)
            paragraphs += 1
        }
        out.append(contentsOf: closing.utf8)
        if quoted > 0 {
            let said = spanish ? "El \(Self.shortDate(time - 86_400)), \(senderName) escribió:" : "On \(Self.shortDate(time - 86_400)), \(senderName) wrote:"
            out.append(0x0A); out.append(contentsOf: said.utf8); out.append(0x0A)
            for _ in 0..<quoted {
                var words: [Words.Word] = []
                for i in rng.distinct(2, of: sentences.count) { words += sentences[i] }
                Self.wrap(words, into: &out, prefix: Array("> ".utf8))
            }
        }
        return out
    }

    /// Appends `words` wrapped at 72 columns, each line after `prefix`.
    static func wrap(_ words: [Words.Word], into out: inout [UInt8], prefix: [UInt8]) {
        var column = 0
        for w in words {
            if column > 0 && column + 1 + w.width > 72 {
                out.append(0x0A)
                column = 0
            }
            if column == 0 {
                out.append(contentsOf: prefix); column = prefix.count
            } else {
                out.append(0x20); column += 1
            }
            out.append(contentsOf: w.bytes)
            column += w.width
        }
        out.append(0x0A)
    }

    /// `"Name" <address>`, with RFC 2047 encoded words for a non-ASCII name.
    static func mailbox(_ name: String, _ address: String) -> String {
        if name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0 == " " || ("0"..."9").contains($0)) }) {
            return "\(name) <\(address)>"
        }
        return encodedWords(name, prefixLength: 6) + " <\(address)>"
    }

    /// `text` as is when printable ASCII, else as `=?UTF-8?Q?...?=` words
    /// (each at most 75 characters, a character never split, folded lines).
    static func encodedWords(_ text: String, prefixLength: Int) -> String {
        if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return text }
        var words: [String] = []
        var current = ""
        for character in text {
            var piece = ""
            for byte in String(character).utf8 {
                let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/")
                if byte == 0x20 { piece += "_" } else if plain { piece.unicodeScalars.append(Unicode.Scalar(byte)) } else {
                    piece += "=" + hex(UInt64(byte), width: 2).uppercased()
                }
            }
            if 12 + current.count + piece.count > 75 { words.append(current); current = "" }
            current += piece
        }
        words.append(current)
        return words.map { "=?UTF-8?Q?\($0)?=" }.joined(separator: "\n ")
    }

    // MARK: - Dates (integer arithmetic; UTC in, fixed offsets out)

    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let monthsES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                           "octubre", "noviembre", "diciembre"]

    /// Year, month (1-12), day, weekday (0 = Sunday), hour, minute, second of `t` + `offset` seconds.
    static func civil(_ t: Int64, offset: Int64 = 0) -> (y: Int64, m: Int, d: Int, wd: Int, h: Int, mi: Int, s: Int) {
        let local = t + offset
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secs = Int(local - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        let wd = Int(((days % 7) + 11) % 7)
        return (y, m, d, wd, secs / 3600, secs / 60 % 60, secs % 60)
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `Wed, 12 Mar 2008 10:23:45 -0600` (Mexico City, standard time).
    public static func rfc5322Date(_ t: Int64) -> String {
        let c = civil(t, offset: -21_600)
        return "\(weekdays[c.wd]), \(c.d) \(months[c.m - 1]) \(c.y) \(two(c.h)):\(two(c.mi)):\(two(c.s)) -0600"
    }

    /// `12 Mar 2008 16:23:45 -0000`, as qmail writes it in Received.
    static func receivedDate(_ t: Int64) -> String {
        let c = civil(t)
        return "\(c.d) \(months[c.m - 1]) \(c.y) \(two(c.h)):\(two(c.mi)):\(two(c.s)) -0000"
    }

    /// `20080312162345`, for Message-IDs.
    static func stamp(_ t: Int64) -> String {
        let c = civil(t)
        return "\(c.y)\(two(c.m))\(two(c.d))\(two(c.h))\(two(c.mi))\(two(c.s))"
    }

    static func shortDate(_ t: Int64) -> String {
        let c = civil(t, offset: -21_600)
        return "\(c.y)-\(two(c.m))-\(two(c.d)) \(two(c.h)):\(two(c.mi))"
    }

    /// `2008-03-12`, UTC.
    static func day(_ t: Int64) -> String {
        let c = civil(t)
        return "\(c.y)-\(two(c.m))-\(two(c.d))"
    }

    static func monthYear(_ t: Int64) -> String {
        let c = civil(t, offset: -21_600)
        return "\(monthsES[c.m - 1]) \(c.y)"
    }

    static func hex(_ v: UInt64, width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    // MARK: - Writing

    /// Writes the set into `dir` (created when missing). Refuses to replace
    /// any file: give a new or empty folder (the CLI clears it on --force).
    @discardableResult
    public func write(to dir: String) throws(FixtureSynthError) -> Summary {
        try write(to: dir, command: commandLine(output: dir))
    }

    /// Writes the set; `command` is the command line the README names.
    @discardableResult
    public func write(to dir: String, command: String?) throws(FixtureSynthError) -> Summary {
        try validate()
        let users = plannedUsers()
        let entries = try entries(users)
        let oldRootParts = Self.components(oldStoreRoot)!, newRootParts = Self.components(newStoreRoot)!
        let oldRoot = ([dir, oldHostFolder] + oldRootParts).joined(separator: "/")
        let newRoot = ([dir, newHostFolder] + newRootParts).joined(separator: "/")
        try Self.makeDirectories(oldRoot)
        try Self.makeDirectories(newRoot)
        let ldifText = ldif(entries)
        try Self.writeFile(dir + "/" + ldifFileName, Array(ldifText.utf8), mode: 0o644, mtime: exportTime)

        // Mailboxes, in parallel: each user's messages depend only on the
        // seed and the user, so the bytes do not depend on scheduling.
        let results = ResultSlots(count: users.count)
        DispatchQueue.concurrentPerform(iterations: users.count) { i in
            let user = users[i]
            guard !user.isProbe else { return }
            var r = MailboxResult()
            do throws(FixtureSynthError) {
                let messages = self.messages(for: user, roster: users)
                let home = oldRoot + "/" + user.uid
                var made = Set<String>()
                for m in messages {
                    let folder = home + "/" + m.folder
                    if !made.contains(m.folder) {
                        try Self.makeDirectories(folder)
                        made.insert(m.folder)
                    }
                    try Self.writeFile(folder + "/" + m.name.name, m.bytes, mode: 0o600, mtime: m.time)
                    r.messages += 1
                    r.bytes += UInt64(m.bytes.count)
                    if m.folder == "new" { r.unread += 1 }
                }
            } catch {
                r.error = error
            }
            results.set(i, r)
        }
        var summary = Summary(users: users.count - (includeProbe ? 1 : 0), probe: includeProbe, entries: entries.count,
                              messages: 0, unread: 0, bytes: 0, ldifBytes: ldifText.utf8.count)
        for r in results.all {
            if let e = r.error { throw e }
            summary.messages += r.messages
            summary.unread += r.unread
            summary.bytes += r.bytes
        }
        try Self.writeFile(dir + "/README.md", Array(readme(summary, users: users, command: command).utf8), mode: 0o644,
                           mtime: exportTime)
        try Self.writeFile(dir + "/" + oldHostFolder + "/README.md", Array(hostNote(old: true).utf8), mode: 0o644, mtime: exportTime)
        try Self.writeFile(dir + "/" + newHostFolder + "/README.md", Array(hostNote(old: false).utf8), mode: 0o644, mtime: exportTime)
        return summary
    }

    /// The time of the files that are not messages (the LDIF, the READMEs):
    /// the end of the delivery period, as if exported then, so that nothing
    /// in the set depends on the clock.
    var exportTime: Int64 { period.upperBound }

    struct MailboxResult {
        var messages = 0
        var unread = 0
        var bytes: UInt64 = 0
        var error: FixtureSynthError?
    }

    /// One result slot per user, each written by one thread only.
    final class ResultSlots: @unchecked Sendable {
        private var slots: [MailboxResult]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: MailboxResult(), count: count) }
        func set(_ i: Int, _ r: MailboxResult) { lock.withLock { slots[i] = r } }
        var all: [MailboxResult] { lock.withLock { slots } }
    }

    /// `mkdir -p` with mode 0700 for what it creates.
    static func makeDirectories(_ path: String) throws(FixtureSynthError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 {
                let code = errno
                var st = stat()
                guard code == EEXIST, stat(current, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
                    throw .io(current, "mkdir", code == EEXIST ? ENOTDIR : code)
                }
            }
        }
    }

    /// Creates `path` (never replacing a file), writes `bytes`, sets its
    /// mtime and atime to `mtime` when given.
    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t, mtime: Int64? = nil) throws(FixtureSynthError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw .io(path, "create", errno) }
        var failure: FixtureSynthError?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .io(path, "write", errno); return
                }
                offset += n
            }
        }
        if failure == nil, let mtime {
            var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
            if futimens(fd, &times) != 0 { failure = .io(path, "set the time of", errno) }
        }
        if close(fd) != 0 && failure == nil { failure = .io(path, "close", errno) }
        if let failure { throw failure }
    }

    // MARK: - READMEs

    func readme(_ s: Summary, users: [User], command: String?) -> String {
        let namedList = named.isEmpty ? "" : " (" + named.joined(separator: ", ") + " first)"
        var t = """
        # Dry-run fixtures: \(mailDomain), \(oldHostFolder) → \(newHostFolder)

        A synthetic fixture set for `relevo simulate`: the old directory as LDIF
        and the Maildirs of the old host, \(oldHostFolder) (\(oldHost)), before
        any user moves to \(newHostFolder) (\(newHost)). Nothing here is real
        mail or a real person; there are no passwords.

        ## How it was made


        """
        if let command {
            t += "    \(command)\n\n"
            t += "The same command writes the same bytes (file times included). Do not\nedit the files: change the command and write the set again (with --force).\n"
        } else {
            t += "With the library's `FixtureSynth` (options the command line cannot\nexpress; see the table below), seed \(seed).\n"
        }
        t += """

        | | |
        |---|---|
        | users on \(oldHostFolder) | \(s.users)\(namedList) |
        | probe user | \(s.probe ? "`\(probeUID)`: mailHost \(newHost), empty Maildir (not written)" : "none") |
        | directory entries | \(s.entries) (the base entry, the users\(s.probe ? ", the probe" : "")) |
        | messages | \(s.messages): \(s.messages - s.unread) read in `cur/`, \(s.unread) unread in `new/` |
        | message bytes | \(s.bytes) (\(s.megabytes) MB) |
        | messages per user | \(messages.lowerBound) to \(messages.upperBound) |
        | base DN | `\(baseDN)` |
        | delivery dates | \(Self.day(period.lowerBound)) to \(Self.day(period.upperBound)) (UTC) |
        | seed | \(seed) |

        ## Layout

        \(layout(s))
        Each user entry has uid, cn, sn, objectClass (top, person,
        inetOrgPerson, qmailUser), mail `UID@\(mailDomain)`, mailQuota
        (`SIZES,COUNTC`, varied), mailMessageStore `\(oldStoreRoot)/UID/` and
        mailHost `\(oldHost)`\(s.probe ? " (the probe: `\(newHost)`)" : ""). Names with
        accents are base64 in the LDIF, as slapcat writes them.

        Each message is a text/plain UTF-8 RFC 5322 message as qmail delivered
        it (Return-Path, Delivered-To, Received, Date, From, To, Subject, a
        unique Message-ID `<...@fixture.relevo>`); the file's mtime is its Date,
        which Maildir servers show as the received date. Most read messages
        are `:2,S`; some are replied (R), flagged (F), forwarded (P), trashed
        (T) or unseen.

        Empty folders are not stored: `tmp/`, `new/` of a user with no unread
        mail, the probe's Maildir, and the new store root hold nothing, and a
        placeholder file would be a stray file in a Maildir census. The dry run
        creates the store roots and any missing `cur/`, `new/` and `tmp/`. The
        README.md in each host folder keeps that folder in git; the dry run
        copies only the folders of a host folder, so it never sees them.

        ## In a plan

        `folder` is relative to the plan's folder, the other paths to `folder`;
        for a plan in `plans/` and this set in `examples/NAME/`:

            fixtures:
              folder: ../examples/NAME
              directories: { directory-\(oldHostFolder): \(ldifFileName) }
              hosts: { \(oldHostFolder): \(oldHostFolder), \(newHostFolder): \(newHostFolder) }
              dns: { \(mailDomain): \(newHost) }

        Or keep the plan as it is and name this set when running it:
        `relevo simulate PLAN --fixtures DIR`.

        See docs/fixtures.md.

        """
        return t
    }

    /// The layout block of the README, its comments in one column.
    func layout(_ s: Summary) -> String {
        let oldRel = String(oldStoreRoot.drop { $0 == "/" }), newRel = String(newStoreRoot.drop { $0 == "/" })
        let rows = [
            ("README.md", "this file"),
            (ldifFileName, "the old directory (\(s.entries) entries)"),
            ("\(oldHostFolder)/", "the file system of \(oldHostFolder) (README.md: a note)"),
            ("  \(oldRel)/UID/cur/", "read mail:   TIME.MmicrosPpidQn.\(oldHostFolder),S=SIZE:2,FLAGS"),
            ("  \(oldRel)/UID/new/", "unread mail: TIME.MmicrosPpidQn.\(oldHostFolder),S=SIZE"),
            ("\(newHostFolder)/", "the file system of \(newHostFolder) (README.md: a note)"),
            ("  \(newRel)/", "the new store root: empty"),
        ]
        let width = rows.map(\.0.count).max()! + 3
        return rows.map { "    " + $0.0 + String(repeating: " ", count: width - $0.0.count) + $0.1 }.joined(separator: "\n") + "\n"
    }

    func hostNote(old: Bool) -> String {
        let folder = old ? oldHostFolder : newHostFolder, host = old ? oldHost : newHost
        let root = old ? oldStoreRoot : newStoreRoot
        return """
        This folder stands for the file system of \(folder) (\(host)) in a dry run:
        the store root \(root) is \(root.dropFirst())/ here. \(old ? "Each user's Maildir is UID/ under it." : "It starts empty.")
        A dry run copies only the folders found here, so this note is not part of
        the host. See ../README.md.

        """
    }

    // MARK: - Randomness

    /// A stream of the seed independent of the others.
    static func mix(_ seed: UInt64, _ stream: UInt64) -> UInt64 {
        var r = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        return r.next()
    }

    /// An index drawn with the given weights.
    static func weighted(_ rng: inout SplitMix64, _ weights: [Int]) -> Int {
        var r = Int(rng.below(UInt64(weights.reduce(0, +))))
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.count - 1
    }
}

/// Why a fixture set could not be made or written.
public struct FixtureSynthError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var help: String?

    public init(_ message: String, help: String? = nil) {
        self.message = message
        self.help = help
    }

    /// Whether the file system refused (rather than the options).
    public var isIO = false

    static func io(_ path: String, _ operation: String, _ code: Int32) -> FixtureSynthError {
        var e = FixtureSynthError("cannot \(operation) \(path): \(String(cString: strerror(code)))")
        e.isIO = true
        return e
    }

    public var description: String { message }
}

/// Names and text the messages are made of.
enum Words {
    /// A word and its width in columns (characters, not bytes).
    struct Word: Sendable {
        var bytes: [UInt8]
        var width: Int
    }

    static func split(_ sentences: [String]) -> [[Word]] {
        sentences.map { s in s.split(separator: " ").map { Word(bytes: Array($0.utf8), width: $0.count) } }
    }

    static let firstNames = [
        "María", "José", "Juan", "Guadalupe", "Ana", "Luis", "Carlos", "Verónica", "Alejandro", "Patricia",
        "Jorge", "Gabriela", "Miguel", "Adriana", "Ricardo", "Lucía", "Fernando", "Mónica", "Roberto", "Claudia",
        "Héctor", "Sofía", "Raúl", "Elena", "Andrés", "Teresa", "Sergio", "Leticia", "Ramón", "Beatriz",
        "Óscar", "Rocío", "Javier", "Silvia", "Martín", "Irene", "Arturo", "Laura", "Ernesto", "Diana",
        "Rubén", "Alma", "Enrique", "Norma", "Iván", "Paola", "Jesús", "Susana", "Tomás", "Yolanda",
    ]

    static let surnames = [
        "Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez", "Cruz",
        "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres", "Díaz", "Gutiérrez", "Ruiz",
        "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero", "Álvarez", "Méndez", "Chávez", "Rivera",
        "Juárez", "Ramos", "Domínguez", "Herrera", "Medina", "Castro", "Vargas", "Guzmán", "Velázquez", "Muñoz",
        "Rojas", "Contreras", "Salazar", "Luna", "Ortega", "Santiago", "Guerrero", "Bautista", "Estrada", "Cortés",
        "Soto", "Alvarado", "Espinoza", "Lara", "Ávila", "Ríos", "Delgado", "Núñez", "Cervantes", "Ibarra",
    ]

    /// Domains reserved for examples (RFC 2606), for senders outside the set.
    static let outsideDomains = ["example.com", "example.org", "example.net", "correo.example.mx"]

    static let subjectsES = [
        "Reunión de generación", "Convocatoria de becas", "Fotos de la ceremonia", "Curso de actualización",
        "Comida del sábado", "Trámite de titulación", "Vacante en sistemas", "Cambio de horario",
        "Confirmación de asistencia", "Invitación a la conferencia", "Apuntes del diplomado", "Torneo de fútbol",
        "Aviso de mantenimiento", "Credencial de exalumno", "Feliz cumpleaños", "Documentos pendientes",
        "Seminario de titulación", "Feria del libro", "Cuota de la asociación", "Resultados del examen",
    ]

    static let subjectsEN = [
        "Alumni newsletter", "Workshop schedule", "Meeting agenda", "Reunion photos", "Scholarship deadline",
        "Dinner on Saturday", "Corrected report", "Travel next week", "Volunteers needed", "Library hours",
    ]

    static let sentencesES = split([
        "Te escribo para confirmar la reunión del próximo jueves en la Facultad.",
        "Ya quedó lista la lista de asistentes para la comida de generación.",
        "¿Podrías enviarme los apuntes de la última sesión del diplomado?",
        "La biblioteca central amplió su horario durante el periodo de exámenes.",
        "Adjunto el programa del curso de actualización; las inscripciones cierran el viernes.",
        "Muchas gracias por tu ayuda con el trámite del título.",
        "Nos vemos a las seis en la explanada de Rectoría.",
        "Recuerda que la credencial de exalumno te da acceso a las bibliotecas.",
        "El coordinador pidió que mandemos los documentos antes del día quince.",
        "Hay una vacante en el área de sistemas que quizá te interese.",
        "Mi número de teléfono es el mismo de la oficina, extensión 214.",
        "Estamos organizando un torneo de fútbol para exalumnos de Ingeniería.",
        "La conferencia se pospuso por la lluvia; te aviso cuando haya nueva fecha.",
        "Saludos a tu familia, espero que todos estén muy bien.",
        "¿Sabes si todavía se puede tramitar el certificado en línea?",
        "El boletín de este mes trae una entrevista con la directora de la Facultad.",
        "Ya revisé tu propuesta y me parece muy buena; sólo faltan las referencias.",
        "La próxima semana estaré fuera de la ciudad, pero reviso el correo por las noches.",
        "Te comparto la dirección del sitio donde subieron las fotos de la ceremonia.",
        "El seminario de titulación empieza en enero y tiene cupo limitado.",
        "Por favor confirma tu asistencia respondiendo a este mensaje.",
        "Se abrió la convocatoria para becas de posgrado en el extranjero.",
        "Me dio mucho gusto verte en la feria del libro.",
        "Acuérdate de traer una identificación oficial para el registro.",
        "Cualquier duda, estoy a tus órdenes.",
        "El servidor de correo estará en mantenimiento el domingo por la mañana.",
        "Ya depositamos la cuota de la asociación; falta que llegue el recibo.",
        "¿Te late si comemos el sábado cerca de Ciudad Universitaria?",
        "Los resultados del examen se publican el lunes en la página de la Facultad.",
        "Gracias por avisarme, lo tomaré en cuenta para la próxima vez.",
    ])

    static let sentencesEN = split([
        "Thanks for sending the slides from yesterday's talk.",
        "The alumni newsletter is out; the link is at the bottom of this message.",
        "Could you forward me the schedule for the summer workshop?",
        "We are still looking for volunteers for the registration desk.",
        "I will be travelling next week, so expect slow replies.",
        "Please find the agenda for Thursday's meeting below.",
        "The deadline for the scholarship application has been extended to Friday.",
        "Let me know if the new address works for you.",
        "It was great to see everyone at the reunion.",
        "The conference room is booked from ten to twelve.",
        "I have attached the corrected version of the report.",
        "Your account details have not changed; only the server name is new.",
        "We moved the dinner to Saturday because of the holiday.",
        "Happy to help with the translation if you need it.",
        "The library will be closed on Monday for inventory.",
        "Best wishes to you and your family.",
    ])
}
