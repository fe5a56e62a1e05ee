import RelevoBasics
import Foundation
import Glibc
import Testing
import RelevoDirectory
@testable import RelevoSimulation
import RelevoStore

/// A fresh folder for one fixture set, removed when the value goes away.
private final class SynthFolder {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-synth-\(UUID().uuidString)").path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func sub(_ relative: String) -> String { path + "/" + relative }
}

/// Every regular file under `root`: relative path → (SHA-256 of the bytes, mtime seconds, size).
private func census(_ root: String) throws -> [String: (hash: String, mtime: Int, size: Int)] {
    var out: [String: (String, Int, Int)] = [:]
    let fm = FileManager.default
    for relative in try fm.subpathsOfDirectory(atPath: root).sorted() {
        let full = root + "/" + relative
        var st = stat()
        guard lstat(full, &st) == 0 else { throw CocoaError(.fileReadUnknown) }
        guard st.st_mode & S_IFMT == S_IFREG else { continue }
        out[relative] = (try SHA256.hashFile(atPath: full), Int(st.st_mtim.tv_sec), Int(st.st_size))
    }
    return out
}

/// One digest of a whole tree: names, bytes and mtimes.
private func treeDigest(_ root: String) throws -> String {
    var h = SHA256()
    for (name, file) in try census(root).sorted(by: { $0.key < $1.key }) {
        h.update("\(name)\u{0}\(file.hash)\u{0}\(file.mtime)\n")
    }
    return h.hexDigest()
}

/// The message files of a set: relative path under the old store root.
private func messageFiles(_ root: String) throws -> [String] {
    try census(root + "/neon/home1/maildirs").keys.sorted()
}

/// The value of header `name` in a message (first occurrence, unfolded).
private func header(_ name: String, in text: String) -> String? {
    let head = text.components(separatedBy: "\n\n").first ?? ""
    var value: String?
    for line in head.split(separator: "\n", omittingEmptySubsequences: false) {
        if value != nil, line.hasPrefix(" ") || line.hasPrefix("\t") { value! += String(line); continue }
        if value != nil { break }
        if line.lowercased().hasPrefix(name.lowercased() + ":") {
            value = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
    }
    return value
}

private let rfc5322: DateFormatter = {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
    return f
}()

@Suite("fixture synthesis")
struct FixtureSynthTests {
    static func small(seed: UInt64 = 1) -> FixtureSynth {
        FixtureSynth(users: 12, messages: 2...9, seed: seed, named: ["ceres", "calewiro", "icovilla"])
    }

    @Test("the same seed writes byte-identical sets, file times included")
    func deterministic() throws {
        let a = SynthFolder(), b = SynthFolder()
        // The README names the command, whose -o differs: give both the same.
        let command = Self.small().commandLine(output: "fixtures")
        let sa = try Self.small().write(to: a.path, command: command), sb = try Self.small().write(to: b.path, command: command)
        #expect(sa == sb)
        #expect(try treeDigest(a.path) == treeDigest(b.path))
        #expect(try census(a.path).count == sa.messages + 4, "messages, the LDIF and three READMEs")
    }

    @Test("different seeds write different sets")
    func seedsDiffer() throws {
        let a = SynthFolder(), b = SynthFolder()
        try Self.small(seed: 1).write(to: a.path)
        try Self.small(seed: 2).write(to: b.path)
        #expect(try treeDigest(a.path) != treeDigest(b.path))
        #expect(try messageFiles(a.path) != messageFiles(b.path))
        #expect(try String(contentsOfFile: a.sub("neon.ldif"), encoding: .utf8)
                    != String(contentsOfFile: b.sub("neon.ldif"), encoding: .utf8))
    }

    @Test("the LDIF reads back: base entry, probe, named users first, every attribute a user needs")
    func ldifReadsBack() throws {
        let folder = SynthFolder()
        let summary = try Self.small().write(to: folder.path)
        let text = try String(contentsOfFile: folder.sub("neon.ldif"), encoding: .utf8)
        let records = try LDIFReader().read(text)
        #expect(records.count == 1 + 12 + 1)
        #expect(summary.entries == records.count)
        let entries = records.compactMap { if case .content(let e) = $0 { e } else { nil } }
        #expect(entries.count == records.count, "content records only")

        let base = entries[0]
        #expect(base.dn == (try DistinguishedName("dc=exalumno,dc=unam,dc=mx")))
        #expect(base.strings("objectClass") == ["top", "dcObject", "organization"])

        let users = Array(entries.dropFirst())
        #expect(users.map { $0.first("uid") ?? "" }.prefix(4) == ["probe", "ceres", "calewiro", "icovilla"])
        #expect(Set(users.compactMap { $0.first("uid") }).count == users.count, "uids are unique")
        var quotas = Set<String>()
        for u in users {
            let uid = try #require(u.first("uid"))
            #expect(u.dn == (try DistinguishedName("uid=\(uid),dc=exalumno,dc=unam,dc=mx")))
            #expect(u.strings("objectClass") == ["top", "person", "inetOrgPerson", "qmailUser"])
            #expect(u.has("cn") && u.has("sn"))
            #expect(u.first("mail") == "\(uid)@exalumno.unam.mx")
            #expect(u.first("mailMessageStore") == "/home1/maildirs/\(uid)/")
            let quota = try #require(u.first("mailQuota"))
            #expect(quota.wholeMatch(of: /[0-9]+S,[0-9]+C/) != nil, "\(quota)")
            quotas.insert(quota)
            #expect(!u.has("userPassword"))
            #expect(u.first("mailHost") == (uid == "probe" ? "xalumno.servidores.unam.mx" : "neon.servidores.unam.mx"))
        }
        #expect(users[0].first("mailQuota") == "10000000S,5000000C", "the plan's directory gate reads the probe's quota")
        #expect(quotas.count > 1, "quotas vary")
        // Accented names are written in base64 and read back as UTF-8.
        let big = try FixtureSynth(users: 200).entries()
        #expect(big.contains { ($0.first("cn") ?? "").unicodeScalars.contains { !$0.isASCII } })
    }

    @Test("every message file is a Maildir name of host neon, with its size, in cur/ with flags or in new/ without")
    func maildirNames() throws {
        let folder = SynthFolder()
        let summary = try FixtureSynth(users: 30, messages: 3...15, seed: 5).write(to: folder.path)
        let files = try census(folder.sub("neon/home1/maildirs"))
        #expect(files.count == summary.messages)
        #expect(UInt64(files.values.map(\.size).reduce(0, +)) == summary.bytes)
        var flags = Set<String>(), inNew = 0, bases = Set<String>()
        for (relative, file) in files {
            let parts = relative.split(separator: "/")
            #expect(parts.count == 3, "\(relative) is UID/FOLDER/NAME")
            let name = try MaildirName(parsing: String(parts[2]))
            #expect(name.host == "neon")
            #expect(name.sizeHint == UInt64(file.size))
            #expect(Int(name.time) == file.mtime, "the name's time is the delivery time")
            #expect(bases.insert(String(parts[0]) + "/" + name.base).inserted)
            switch parts[1] {
            case "cur":
                #expect(name.info?.hasPrefix("2,") == true, "\(relative)")
                flags.insert(name.flagString)
            case "new":
                #expect(name.info == nil, "\(relative)")
                inNew += 1
            default:
                Issue.record("\(relative) is not in cur/ or new/")
            }
        }
        #expect(inNew == summary.unread && inNew > 0)
        #expect(flags.contains("S") && flags.contains("RS") && flags.count >= 4, "\(flags)")
        // No tmp/ and no placeholder files anywhere in the store.
        let all = try FileManager.default.subpathsOfDirectory(atPath: folder.sub("neon/home1/maildirs"))
        #expect(!all.contains { $0.hasSuffix("/tmp") || $0.hasSuffix(".keep") })
    }

    @Test("messages are RFC 5322 with unique Message-IDs; the file's mtime is the Date header")
    func messages() throws {
        let folder = SynthFolder()
        let summary = try FixtureSynth(users: 25, messages: 4...12, seed: 9, named: ["ceres"]).write(to: folder.path)
        let root = folder.sub("neon/home1/maildirs")
        var ids = Set<String>(), sizes: [Int] = []
        for (relative, file) in try census(root) {
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
            let text = try #require(String(data: data, encoding: .utf8), "\(relative) is UTF-8")
            for name in ["Return-Path", "Delivered-To", "Received", "From", "To", "Subject"] {
                #expect(header(name, in: text) != nil, "\(relative) lacks \(name)")
            }
            #expect(header("MIME-Version", in: text) == "1.0")
            #expect(header("Content-Type", in: text) == "text/plain; charset=utf-8")
            let id = try #require(header("Message-ID", in: text))
            #expect(id.hasPrefix("<") && id.hasSuffix("@fixture.relevo>"), "\(id)")
            #expect(ids.insert(id).inserted, "duplicate Message-ID \(id)")
            let dateText = try #require(header("Date", in: text))
            let date = try #require(rfc5322.date(from: dateText), "\(dateText)")
            #expect(Int(date.timeIntervalSince1970) == file.mtime, "\(relative): Date \(dateText)")
            #expect(text.contains("\n\n"), "a body after the header")
            // Header lines are ASCII (non-ASCII words are RFC 2047 encoded).
            let head = text.components(separatedBy: "\n\n")[0]
            let ascii = head.unicodeScalars.allSatisfy { $0.isASCII }
            #expect(ascii, "\(relative)")
            let longest = head.split(separator: "\n").map(\.utf8.count).max() ?? 0
            #expect(longest <= 998)
            sizes.append(file.size)
        }
        #expect(ids.count == summary.messages)
        #expect(sizes.min()! >= 400 && sizes.min()! < 1_500, "small messages: \(sizes.min()!)")
        #expect(sizes.contains { $0 > 3_000 } && sizes.contains { $0 < 1_500 }, "sizes vary")
    }

    @Test("named users come first and have Maildirs; the probe has none and the new store is empty")
    func namedUsersAndProbe() throws {
        let folder = SynthFolder()
        try FixtureSynth(users: 5, messages: 1...3, seed: 3, named: ["ceres", "calewiro", "icovilla"]).write(to: folder.path)
        let fm = FileManager.default
        for uid in ["ceres", "calewiro", "icovilla"] {
            #expect(fm.fileExists(atPath: folder.sub("neon/home1/maildirs/\(uid)")), "\(uid)")
        }
        let homes = try fm.contentsOfDirectory(atPath: folder.sub("neon/home1/maildirs"))
        #expect(homes.count == 5)
        #expect(!homes.contains("probe"))
        #expect(try fm.contentsOfDirectory(atPath: folder.sub("xalumno/var/qmail/maildirs")).isEmpty)
        #expect(try fm.contentsOfDirectory(atPath: folder.path).sorted() == ["README.md", "neon", "neon.ldif", "xalumno"])
        let readme = try String(contentsOfFile: folder.sub("README.md"), encoding: .utf8)
        #expect(readme.contains("relevo fixtures synth --users 5 --messages 1..3 --seed 3 --named ceres,calewiro,icovilla -o "))

        let noProbe = SynthFolder()
        var synth = FixtureSynth(users: 2, messages: 0...0, named: ["ceres"])
        synth.includeProbe = false
        let s = try synth.write(to: noProbe.path)
        #expect(s.entries == 3 && s.messages == 0 && !s.probe)
        #expect(!(try String(contentsOfFile: noProbe.sub("neon.ldif"), encoding: .utf8)).contains("uid=probe"))
    }

    @Test("writing never replaces a file")
    func noOverwrite() throws {
        let folder = SynthFolder()
        try Self.small().write(to: folder.path)
        #expect(throws: FixtureSynthError.self) { try Self.small().write(to: folder.path) }
    }

    @Test("options that cannot make a sound set are refused")
    func validation() {
        func refused(_ change: (inout FixtureSynth) -> Void) -> Bool {
            var s = FixtureSynth(users: 3, named: ["ceres"])
            change(&s)
            do { try s.validate(); return false } catch { return true }
        }
        #expect(!refused { _ in })
        #expect(refused { $0.named = ["a", "b", "c", "d"] }, "more named users than users")
        #expect(refused { $0.named = ["ceres", "ceres"] })
        #expect(refused { $0.named = ["../etc"] })
        #expect(refused { $0.named = ["Ceres"] })
        #expect(refused { $0.named = ["probe"] })
        #expect(!refused { $0.named = ["probe"]; $0.includeProbe = false })
        #expect(refused { $0.oldStoreRoot = "home1/maildirs" })
        #expect(refused { $0.oldStoreRoot = "/home1/../etc" })
        #expect(refused { $0.newHostFolder = "neon" })
        #expect(refused { $0.baseDN = "not a dn" })
        #expect(refused { $0.users = -1 })
    }

    @Test("the calendar arithmetic agrees with Foundation")
    func dates() {
        for t: Int64 in [0, 951_782_400, 1_188_604_800, 1_204_329_600, 1_267_401_599, 4_107_542_400] {
            let text = FixtureSynth.rfc5322Date(t)
            #expect(rfc5322.date(from: text).map { Int64($0.timeIntervalSince1970) } == t, "\(t): \(text)")
        }
    }

    @Test("the seeded generator is SplitMix64")
    func splitMix() {
        // Reference values of SplitMix64 for seed 0 (from the published C code).
        var r = SplitMix64(seed: 0)
        #expect(r.next() == 0xE220_A839_7B1D_CDAF)
        #expect(r.next() == 0x6E78_9E6A_A1B9_65F4)
    }
}
