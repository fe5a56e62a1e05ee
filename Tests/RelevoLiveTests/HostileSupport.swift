import Foundation
import Testing
import TestbedSupport

/// What the hostile-input tests compare before and after a run: every
/// entry of both directories (every user attribute), and every file of the
/// trees named (relative path → SHA-256, or a marker for links and special
/// files; see `files`).
struct Snapshot {
    /// DN → attribute → values, of the old and of the new directory.
    var old: [String: [String: [String]]]
    var new: [String: [String: [String]]]
    /// Tree root → its files.
    var trees: [String: [String: String]]
}

extension LiveBed {
    /// Every entry of a directory, by DN.
    func entries(old: Bool) throws -> [String: [String: [String]]] {
        var out: [String: [String: [String]]] = [:]
        for entry in try search(old: old, filter: "(objectClass=*)", attributes: ["*"]) {
            guard let dn = entry["dn"]?.first else { continue }
            var attributes = entry
            attributes["dn"] = nil
            out[dn.lowercased()] = attributes
        }
        return out
    }

    func snapshot(trees: [String]) throws -> Snapshot {
        Snapshot(old: try entries(old: true), new: try entries(old: false),
                 trees: Dictionary(uniqueKeysWithValues: trees.map { ($0, files($0)) }))
    }

    /// The plan `examples/exalumno/live.yaml` changed by `edit` (text
    /// replacements), written into the bed's work folder.
    func plan(_ name: String, _ edits: [(String, String)]) throws -> String {
        var text = try String(contentsOfFile: livePlan, encoding: .utf8)
        for (from, to) in edits {
            try #require(text.contains(from), "the live plan has no '\(from)'")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let path = work + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// The live plan's contingency made to go on with the other users (up to
/// ten failures), so one run meets several hostile users.
let goOnAfterFailures = ("""
    on-failure:
      undo: true
      notify: ops
      then: halt
""", """
    on-failure:
      undo: true
      notify: ops
      then: { continue: true, budget: 10 }
""")

/// Differences between two sets of entries, one line each (empty: equal).
func differences(_ before: [String: [String: [String]]], _ after: [String: [String: [String]]]) -> [String] {
    var out: [String] = []
    for dn in Set(before.keys).union(after.keys).sorted() {
        guard let b = before[dn] else { out.append("added \(dn)"); continue }
        guard let a = after[dn] else { out.append("removed \(dn)"); continue }
        for name in Set(b.keys).union(a.keys).sorted() where Set(b[name] ?? []) != Set(a[name] ?? []) {
            out.append("\(dn): \(name) \(b[name] ?? []) -> \(a[name] ?? [])")
        }
    }
    return out
}

/// What the live plan makes of the old directory in the new one: every
/// entry copied, `mailQuota` split into `mailQuotaSize` and `mailQuotaCount`,
/// and `mailHost` switched for the users (DNs, lowercased) that migrated.
/// Anything else in the new directory is a change nobody asked for.
func expectedNewDirectory(from old: [String: [String: [String]]], migrated: Set<String>,
                          newMailHost: String) -> [String: [String: [String]]] {
    var out: [String: [String: [String]]] = [:]
    for (dn, entry) in old {
        var e = entry
        if let quota = e["mailQuota"]?.first {
            let parts = quota.split(separator: ",")
            if parts.count == 2, parts[0].hasSuffix("S"), parts[1].hasSuffix("C") {
                e["mailQuota"] = nil
                e["mailQuotaSize"] = [String(parts[0].dropLast())]
                e["mailQuotaCount"] = [String(parts[1].dropLast())]
            }
        }
        if migrated.contains(dn) { e["mailHost"] = [newMailHost] }
        out[dn] = e
    }
    return out
}

/// The DNs (lowercased) of the entries whose `mailHost` is `host`.
func dns(of entries: [String: [String: [String]]], mailHost host: String) -> Set<String> {
    Set(entries.filter { $0.value["mailHost"] == [host] }.keys)
}

/// The per-set lines of a run's progress (`relevo: users: KEY STATE: REASON`).
func setLines(_ stderr: String) -> [String] {
    stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("relevo: users: ") }
}

/// An LDIF entry for the old directory: a qmail user with the attributes
/// given as raw values (base64-encoded, so any byte can be carried).
func userLDIF(uid: String, store: String, mailHost: String, name: String) -> String {
    func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
    return """
        dn:: \(b64("uid=\(escapeDN(uid)),dc=exalumno,dc=unam,dc=mx"))
        objectClass: inetOrgPerson
        objectClass: qmailUser
        uid:: \(b64(uid))
        cn: \(name)
        sn: \(name)
        mail: \(name)@exalumno.unam.mx
        mailQuota: 1000S,10C
        mailMessageStore:\(store.isEmpty ? "" : ": " + b64(store))
        mailHost: \(mailHost)


        """
}

/// A Maildir with one message, for a user the test adds.
@discardableResult
func makeMaildir(_ path: String, message: String = "Subject: hi\n\nhello\n", name: String = "1700000000.M1P1.neon") throws -> String {
    for sub in ["cur", "new", "tmp"] {
        try FileManager.default.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true)
    }
    let file = path + "/cur/" + name + ",S=\(message.utf8.count):2,S"
    try Data(message.utf8).write(to: URL(fileURLWithPath: file))
    return file
}
