/// The two message subdirectories of a Maildir folder.
public enum MaildirSubdirectory: String, Hashable, Comparable, Sendable, Codable {
    case new, cur

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The identity of a message in a Maildir: its folder and base name.
public struct MessageKey: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// `""` for the top folder (INBOX), else the Maildir++ folder directory
    /// name such as `.Sent`.
    public var folder: String
    /// `MaildirName.base`.
    public var base: String

    public init(folder: String = "", base: String) {
        self.folder = folder
        self.base = base
    }

    public static func < (a: Self, b: Self) -> Bool { (a.folder, a.base) < (b.folder, b.base) }

    public var description: String { folder.isEmpty ? base : folder + "/" + base }
}

/// One message file of a Maildir census.
public struct MaildirMessage: Hashable, Sendable, Codable {
    public var folder: String
    public var subdirectory: MaildirSubdirectory
    public var name: MaildirName
    /// The file; its path is relative to the Maildir (`.Sent/cur/NAME`).
    public var file: CensusEntry

    public var key: MessageKey { MessageKey(folder: folder, base: name.base) }

    /// `folder/subdirectory/name` relative to the Maildir.
    public static func path(folder: String, subdirectory: MaildirSubdirectory, name: String) -> String {
        (folder.isEmpty ? "" : folder + "/") + subdirectory.rawValue + "/" + name
    }
}

/// A census of a Maildir (with Maildir++ subfolders such as `.Sent`), keyed
/// by message identity: `new/X` and `cur/X:2,S` are one message.
///
/// Files in `tmp/` are deliveries in progress: listed, never hashed, never
/// copied. A file in `new/` with two links whose other link is in the same
/// folder's `tmp/` is a delivery between its `link` and `unlink` and is
/// accepted; any other hard-linked file is refused unless allowed. Files in
/// `cur/`/`new/` whose names are not Maildir message names, and files
/// outside the message directories (`maildirsize`, `courierimapuiddb`,
/// `.Sent/maildirfolder`, ...) are listed in `otherFiles`.
public struct MaildirCensus: Hashable, Sendable, Codable {
    /// Canonical store root.
    public var root: String
    /// The Maildir, relative to the root.
    public var location: String
    /// `""` (the top folder) and each Maildir++ folder directory, sorted.
    public var folders: [String]
    /// Messages by identity. For a key listed in `duplicates` this holds
    /// one of its files.
    public var messages: [MessageKey: MaildirMessage]
    /// Identities held by more than one file (such as `new/X` and `cur/X:2,S`
    /// at once), with all their files.
    public var duplicates: [MessageKey: [MaildirMessage]]
    /// Regular files that are not messages, sorted by path.
    public var otherFiles: [CensusEntry]
    /// Files in `tmp/` directories (not hashed).
    public var temporaryFiles: [CensusEntry]
    /// Every directory, parents before children.
    public var directories: [DirectoryEntry]

    public var messageCount: Int { messages.count }
    public var messageBytes: UInt64 { messages.values.reduce(0) { $0 + $1.file.size } }

    /// The message with base name `base` in `folder`.
    public subscript(_ base: String, folder folder: String = "") -> MaildirMessage? {
        messages[MessageKey(folder: folder, base: base)]
    }

    /// Every file (messages, other files, tmp files) by path.
    public var filesByPath: [String: CensusEntry] {
        var all: [String: CensusEntry] = [:]
        for message in messages.values { all[message.file.path] = message.file }
        for list in duplicates.values { for message in list { all[message.file.path] = message.file } }
        for file in otherFiles { all[file.path] = file }
        for file in temporaryFiles { all[file.path] = file }
        return all
    }

    /// Scans `relative` below the store root `root` (see `TreeCensus.scan`
    /// for what is refused).
    public static func scan(root: String, relative: String,
                            options: CensusOptions = CensusOptions()) throws -> MaildirCensus {
        try scan(StoreRoot(root).location(relative), options: options)
    }

    /// Scans a checked location.
    public static func scan(_ location: StoreLocation,
                            options: CensusOptions = CensusOptions()) throws -> MaildirCensus {
        guard let directory = try location.open() else {
            throw StoreError.io(path: location.relative, operation: "open directory", errno: 2 /* ENOENT */)
        }
        return try scan(directory, location: location, options: options)
    }

    /// Where a path relative to a Maildir belongs.
    enum Slot: Equatable {
        case message(folder: String, subdirectory: MaildirSubdirectory)
        case temporary(folder: String)
        case other
    }

    static func slot(of path: String) -> Slot {
        // The path's components, looked at in place (this runs for every
        // file of every census): SUB/NAME, or .FOLDER/SUB/NAME.
        let slash = UInt8(ascii: "/")
        let utf8 = path.utf8
        guard let first = utf8.firstIndex(of: slash) else { return .other }
        let afterFirst = utf8.index(after: first)
        let folder: Substring
        let subdirectory: Substring
        if let second = utf8[afterFirst...].firstIndex(of: slash) {
            guard !utf8[utf8.index(after: second)...].contains(slash) else { return .other }
            folder = path[..<first]
            guard folder.hasPrefix("."), folder.count > 1 else { return .other }
            subdirectory = path[afterFirst..<second]
        } else {
            folder = ""
            subdirectory = path[..<first]
        }
        switch subdirectory {
        case "new": return .message(folder: String(folder), subdirectory: .new)
        case "cur": return .message(folder: String(folder), subdirectory: .cur)
        case "tmp": return .temporary(folder: String(folder))
        default: return .other
        }
    }

    /// Census of an open directory. With `ignoringRefusals`, refused entries
    /// are left out instead of thrown (for `removeCopied`, which only looks
    /// for files it created).
    static func scan(_ directory: DirectoryHandle, location: StoreLocation,
                     options: CensusOptions, ignoringRefusals: Bool = false) throws -> MaildirCensus {
        var census = MaildirCensus(root: location.root.path, location: location.relative, folders: [""],
                                   messages: [:], duplicates: [:], otherFiles: [], temporaryFiles: [],
                                   directories: [])
        var refusals: [Refusal] = []
        var linked: [(message: MaildirMessage, display: String)] = []
        var otherLinked: [(entry: CensusEntry, display: String)] = []
        var found: [MessageKey: [MaildirMessage]] = [:]
        let walker = TreeWalker(allowHardLinks: true)  // the rules below decide

        var files: [(item: WalkItem, slot: Slot)] = []
        try walker.walk(directory, refusals: &refusals) { item in
            if item.status.kind == .directory {
                census.directories.append(DirectoryEntry(path: item.path, status: item.status))
                if !item.path.contains("/"), item.name.hasPrefix("."), item.name.count > 1 {
                    census.folders.append(item.name)
                }
                return
            }
            let slot = slot(of: item.path)
            if case .temporary = slot {
                census.temporaryFiles.append(CensusEntry(path: item.path, status: item.status, sha256: nil))
                return
            }
            files.append((item, slot))
        }
        // Contents, when asked: where the files are when the file system
        // can (one request for the whole Maildir), else read here, file by
        // file, checking each is still the file listed.
        var digests: [String: String] = [:]
        let hashing = options.hashContents && (refusals.isEmpty || ignoringRefusals)
        if hashing && !files.isEmpty {
            digests = try directory.digests(of: files.map(\.item.path), bytes: files.reduce(0) { $0 + $1.item.status.size }) ?? [:]
        }
        for (item, slot) in files {
            var entry = CensusEntry(path: item.path, status: item.status, sha256: digests[item.path])
            if hashing && !item.afterRefusal && entry.sha256 == nil {
                let hashed = try hashRegularFile(in: item.parent, name: item.name, expected: item.status)
                entry = CensusEntry(path: item.path, status: hashed.status, sha256: hashed.sha256)
            }
            if case .message(let folder, let subdirectory) = slot,
               let name = try? MaildirName(parsing: item.name) {
                let message = MaildirMessage(folder: folder, subdirectory: subdirectory, name: name, file: entry)
                found[message.key, default: []].append(message)
                if entry.linkCount > 1 { linked.append((message, item.parent.display(item.name))) }
            } else {
                census.otherFiles.append(entry)
                if entry.linkCount > 1 { otherLinked.append((entry, item.parent.display(item.name))) }
            }
        }

        // Hard links: a delivery in progress is new/X linked to tmp/X.
        if !options.allowHardLinks {
            var temporaryInodes: [String: Set<[UInt64]>] = [:]
            for file in census.temporaryFiles {
                if case .temporary(let folder) = slot(of: file.path) {
                    temporaryInodes[folder, default: []].insert([file.device, file.inode])
                }
            }
            for (message, display) in linked {
                let inDelivery = message.subdirectory == .new && message.file.linkCount == 2
                    && temporaryInodes[message.folder]?.contains([message.file.device, message.file.inode]) == true
                if !inDelivery {
                    refusals.append(Refusal(path: display, reason: .hardLinked(links: message.file.linkCount)))
                }
            }
            for (entry, display) in otherLinked {
                refusals.append(Refusal(path: display, reason: .hardLinked(links: entry.linkCount)))
            }
        }
        if !refusals.isEmpty && !ignoringRefusals {
            throw StoreError.refused(refusals.sorted { $0.path < $1.path })
        }

        for (key, list) in found {
            // Prefer the file in cur/ as the representative.
            let ordered = list.sorted { ($0.subdirectory, $0.name.name) < ($1.subdirectory, $1.name.name) }
            census.messages[key] = ordered.first
            if ordered.count > 1 { census.duplicates[key] = ordered }
        }
        census.folders.sort()
        census.otherFiles.sort { $0.path < $1.path }
        census.temporaryFiles.sort { $0.path < $1.path }
        return census
    }
}

/// How two Maildir censuses differ, message by message (the verification
/// after a copy). Contents are compared by SHA-256 when both sides were
/// hashed, else by size.
public struct MaildirCensusDifference: Hashable, Sendable, Codable {
    /// In the first census only.
    public var missing: [MessageKey] = []
    /// In the second census only.
    public var extra: [MessageKey] = []
    /// In both, with different contents.
    public var differentContent: [MessageKey] = []
    /// In both with equal contents, but in another subdirectory or with other flags.
    public var differentName: [MessageKey] = []

    /// No message missing and no content different.
    public var isComplete: Bool { missing.isEmpty && differentContent.isEmpty }
}

extension MaildirCensus {
    /// Compares this census (the source) with `other` (the destination).
    public func difference(to other: MaildirCensus) -> MaildirCensusDifference {
        var result = MaildirCensusDifference()
        for key in messages.keys.sorted() {
            let mine = messages[key]!
            guard let theirs = other.messages[key] else {
                result.missing.append(key)
                continue
            }
            let same: Bool
            if let a = mine.file.sha256, let b = theirs.file.sha256 {
                same = a == b
            } else {
                same = mine.file.size == theirs.file.size
            }
            if !same {
                result.differentContent.append(key)
            } else if mine.subdirectory != theirs.subdirectory || mine.name.name != theirs.name.name {
                result.differentName.append(key)
            }
        }
        result.extra = other.messages.keys.filter { messages[$0] == nil }.sorted()
        return result
    }
}
