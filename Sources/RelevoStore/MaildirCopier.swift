import Glibc
/// Copies one Maildir (with its Maildir++ folders) into another, message by
/// message, for a live migration: the source is the old host's store, the
/// destination the new host's, which may already receive new mail.
///
/// A pass: census of both sides (the source census refuses links, special
/// files and hard links before anything is written); make the destination's
/// missing directories (`cur/`, `new/`, `tmp/` of every folder); then for
/// each source message, by identity (`MessageKey`):
/// - absent from the destination: copy into the destination folder's `tmp/`
///   and move (never replacing) into the same subdirectory under the same
///   name, keeping mode and times;
/// - present with equal contents: leave it, or rename it to follow a flag
///   change according to `CopyOptions.flagPolicy`;
/// - present with other contents: report a conflict, touch nothing.
/// Other files (`maildirsize`, `courierimapuiddb`, ...) are copied when
/// absent and otherwise left as they are (a difference is a conflict with
/// `isMessage == false`). `tmp/` contents are never copied.
public struct MaildirCopier: Sendable {
    public let source: StoreLocation
    public let destination: StoreLocation
    public var options: CopyOptions

    public init(from source: StoreLocation, to destination: StoreLocation,
                options: CopyOptions = CopyOptions()) {
        self.source = source
        self.destination = destination
        self.options = options
    }

    /// One pass (see the type's description).
    public static func copy(from source: StoreLocation, to destination: StoreLocation,
                            options: CopyOptions = CopyOptions()) throws -> CopyReport {
        try MaildirCopier(from: source, to: destination, options: options).copy()
    }

    /// One pass. Throws `StoreError.refused` (nothing written) when the
    /// source holds a link or special file; any later error is
    /// `StoreError.interrupted` carrying what was completed.
    public func copy() throws -> CopyReport { try copy(removingLeftovers: true) }

    /// One pass; `removingLeftovers`: first clear what a killed copy left in
    /// the destination's `tmp/` folders (once per copy is enough: while this
    /// run holds its journal's lock no other Relevo writes there).
    /// `opened`, `openedDestination`: the source and the (existing)
    /// destination opened already, for a batch (`copyMany`).
    func copy(removingLeftovers: Bool, opened: (any StoreDirectory)? = nil,
              openedDestination: (any StoreDirectory)? = nil) throws -> CopyReport {
        try checkSeparate(source, destination)
        guard let sourceDirectory = try opened ?? source.open() else {
            throw StoreError.io(path: source.relative, operation: "open directory", errno: 2 /* ENOENT */)
        }
        let scanOptions = CensusOptions(allowHardLinks: options.allowHardLinks, hashContents: false)
        let sourceCensus = try MaildirCensus.scan(sourceDirectory, location: source, options: scanOptions)

        var report = CopyReport(source: source.path, destination: destination.path)
        let top = try openedDestination.map { (handle: $0, created: [String]()) } ?? destination.openCreating()
        report.createdDirectories = top.created
        // Made just now (a first copy): empty, nothing to list.
        let madeNow = top.created.last == top.handle.displayPath
        do {
            try pass(sourceDirectory, sourceCensus, top.handle, &report, removingLeftovers: removingLeftovers,
                     destinationMadeNow: madeNow)
        } catch let error as StoreError {
            throw StoreError.interrupted(partial: report, cause: error)
        }
        return report
    }

    /// Passes until one copies and renames nothing, at most `maxPasses`.
    /// Returns every pass's report; the last one's `isStable` tells whether
    /// the destination caught up. An error after the first pass is
    /// `interrupted` with all passes so far merged (for `removeCopied`).
    public func copyUntilStable(maxPasses: Int = 5) throws -> [CopyReport] {
        var first = true
        return try repeatUntilStable(maxPasses: maxPasses) {
            defer { first = false }
            return try copy(removingLeftovers: first)
        }
    }

    /// Deletes from the destination exactly the files `report` says were
    /// created, each only if its contents still have the recorded SHA-256
    /// (a message is found by identity, so one the user has since read or
    /// flagged is still found), then the directories the copy created if
    /// they are empty. Nothing else is touched.
    public func removeCopied(report: CopyReport) throws -> RemovalReport {
        try removeCopied(reports: [report])
    }

    /// `removeCopied` for several passes, given in the order they ran.
    public func removeCopied(reports: [CopyReport]) throws -> RemovalReport {
        try Remover(destination: destination, reports: reports, maildir: true).run()
    }

    // MARK: - One pass

    private func pass(_ sourceDirectory: DirectoryHandle, _ sourceCensus: MaildirCensus,
                      _ destinationDirectory: DirectoryHandle, _ report: inout CopyReport, removingLeftovers: Bool,
                      destinationMadeNow: Bool = false) throws {
        // A destination this pass made is listed as empty without asking
        // (whatever another writer put there since is never replaced: every
        // move is without replacement).
        let listed: DirectoryHandle = destinationMadeNow
            ? ListedDirectory(real: destinationDirectory, tree: ListedTree(directories: ["": []])) : destinationDirectory
        let destinationCensus = try MaildirCensus.scan(
            listed, location: destination,
            options: CensusOptions(allowHardLinks: true, hashContents: false))
        let sources = DirectoryCache(base: sourceDirectory, existing: sourceCensus.directories)
        let destinations = DirectoryCache(base: destinationDirectory, existing: destinationCensus.directories)
        defer { report.createdDirectories += destinations.created }

        // Directories: the source's, and cur/new/tmp of every folder.
        for directory in sourceCensus.directories {
            _ = try destinations.directory(directory.path, create: true, mode: directory.mode & 0o777)
        }
        for folder in sourceCensus.folders {
            for sub in ["cur", "new", "tmp"] {
                _ = try destinations.directory(folder.isEmpty ? sub : folder + "/" + sub, create: true)
            }
            let tmp = try destinations.directory(folder.isEmpty ? "tmp" : folder + "/tmp", create: true)
            // A `tmp/` made by this pass holds no leftovers.
            if removingLeftovers, !destinations.created.contains(tmp.displayPath) {
                _ = try removeLeftoverTemporaries(in: tmp)
            }
        }

        // Messages absent from the destination are copied after the others
        // are decided when the source reads many files in one request
        // (`readFiles`, over SSH): then a batch costs one round trip, not
        // several per message. Otherwise each is copied when met.
        var absent: [MaildirMessage]? = sourceDirectory.readsManyFiles ? [] : nil
        for key in sourceCensus.messages.keys.sorted() {
            let message = sourceCensus.messages[key]!
            do {
                try copyOrRename(message, sourceCensus, destinationCensus, sources, destinations, &report, absent: &absent)
            } catch let error as StoreError where error.isNotFound {
                report.vanished.append(message.file.path)
            }
        }
        if let absent { try copyInBatches(absent, from: sourceDirectory, sources, destinations, &report) }

        // Other files: copied when absent, never replaced.
        let destinationFiles = destinationCensus.filesByPath
        let destinationDirectories = Set(destinationCensus.directories.map(\.path))
        let staging = try destinations.directory("tmp", create: true)
        for file in sourceCensus.otherFiles {
            do {
                try copyOther(file, existing: destinationFiles[file.path],
                              isDirectory: destinationDirectories.contains(file.path),
                              sources: sources, destinations: destinations, staging: staging, &report)
            } catch let error as StoreError where error.isNotFound {
                report.vanished.append(file.path)
            }
        }
    }

    /// Copies one message, or renames its destination copy, or reports why not.
    private func copyOrRename(_ message: MaildirMessage, _ sourceCensus: MaildirCensus,
                              _ destinationCensus: MaildirCensus, _ sources: DirectoryCache,
                              _ destinations: DirectoryCache, _ report: inout CopyReport,
                              absent: inout [MaildirMessage]?) throws {
        let key = message.key
        let sourcePath = message.file.path
        if sourceCensus.duplicates[key] != nil {
            report.conflicts.append(CopyConflict(sourcePath: sourcePath, destinationPath: sourcePath,
                                                 reason: .ambiguousSource, isMessage: true))
            return
        }
        if let copies = destinationCensus.duplicates[key] {
            report.conflicts.append(CopyConflict(sourcePath: sourcePath, destinationPath: copies[0].file.path,
                                                 reason: .ambiguousDestination, isMessage: true))
            return
        }
        guard let existing = destinationCensus.messages[key] else {
            if absent != nil {
                absent?.append(message)
            } else {
                let (sourceFolder, sourceName) = try sources.parent(of: sourcePath, create: false)
                try copyMessage(message, from: sourceFolder, named: sourceName, into: destinations, &report)
            }
            return
        }
        let (sourceFolder, _) = try sources.parent(of: sourcePath, create: false)
        let (destinationFolder, destinationName) = try destinations.parent(of: existing.file.path, create: false)
        let compared = try sameContents(message.file, in: sourceFolder, existing.file, in: destinationFolder,
                                        comparison: options.comparison)
        guard compared.equal else {
            report.conflicts.append(CopyConflict(sourcePath: sourcePath, destinationPath: existing.file.path,
                                                 reason: .differentContent, isMessage: true))
            return
        }
        guard let target = options.flagPolicy.target(source: message, destination: existing) else {
            report.skipped += 1
            return
        }
        let targetPath = MaildirMessage.path(folder: key.folder, subdirectory: target.subdirectory,
                                             name: target.name.name)
        let (targetDirectory, targetName) = try destinations.parent(of: targetPath, create: true)
        if try destinationFolder.moveNoReplace(destinationName, to: targetDirectory, as: targetName) {
            report.renamed.append(RenamedFile(from: existing.file.path, to: targetPath,
                                              sha256: compared.destinationSHA))
        } else {
            report.conflicts.append(CopyConflict(sourcePath: sourcePath, destinationPath: targetPath,
                                                 reason: .appearedDuringCopy, isMessage: true))
        }
    }

    /// Copies `messages` (absent from the destination) fetched from the
    /// source in batches of at most 256 files and 4 MiB; a file larger than
    /// 1 MiB, or one a batch did not bring back, is copied alone (where a
    /// vanished or swapped file is met and reported as in a single copy).
    private func copyInBatches(_ messages: [MaildirMessage], from sourceDirectory: DirectoryHandle,
                               _ sources: DirectoryCache, _ destinations: DirectoryCache,
                               _ report: inout CopyReport) throws {
        var batch: [MaildirMessage] = []
        var bytes: UInt64 = 0
        let destinationTop = try destinations.directory("", create: false)
        func copyAlone(_ message: MaildirMessage, fetched: FetchedFile? = nil) throws {
            do {
                if let fetched {
                    try place(message, fetched, destinations, &report)
                } else {
                    let (folder, name) = try sources.parent(of: message.file.path, create: false)
                    try copyMessage(message, from: folder, named: name, into: destinations, &report)
                }
            } catch let error as StoreError where error.isNotFound {
                report.vanished.append(message.file.path)
            }
        }
        func flush() throws {
            guard !batch.isEmpty else { return }
            let fetched = try sourceDirectory.readFiles(batch.map(\.file.path)) ?? [:]
            var alone = batch
            if destinationTop.writesManyFiles && !options.syncFiles && fetched.count > 1 {
                alone = batch.filter { fetched[$0.file.path] == nil }
                try placeTogether(batch.filter { fetched[$0.file.path] != nil }, fetched, destinations, &report)
            }
            for message in alone { try copyAlone(message, fetched: fetched[message.file.path]) }
            batch.removeAll()
            bytes = 0
        }
        for message in messages {
            if message.file.size > 1 << 20 {
                try copyAlone(message)
                continue
            }
            if batch.count == 256 || bytes + message.file.size > 4 << 20 { try flush() }
            batch.append(message)
            bytes += message.file.size
        }
        try flush()
    }

    /// Places messages read by a batch with one write to the destination:
    /// all are checked against the census first, written into a fresh
    /// staging folder in the Maildir's `tmp/` (invisible to readers), then
    /// each moved into place without replacing anything; what was not moved
    /// is removed, with the staging folder, whatever happens. A destination
    /// that cannot write the batch gets the messages one by one.
    private func placeTogether(_ messages: [MaildirMessage], _ fetched: [String: FetchedFile],
                               _ destinations: DirectoryCache, _ report: inout CopyReport) throws {
        guard !messages.isEmpty else { return }
        for message in messages {
            try checkFetched(fetched[message.file.path]!, path: message.file.path, expected: message.file)
        }
        let tmp = try destinations.directory("tmp", create: true)
        let (staging, stagingName) = try makeStagingDirectory(in: tmp)
        var staged = Set(messages.indices)
        defer {
            for i in staged { try? staging.unlink(String(i)) }
            _ = try? tmp.removeDirectoryIfEmpty(stagingName)
        }
        let files = messages.enumerated().map { (name: String($0.offset), file: fetched[$0.element.file.path]!) }
        guard try tmp.writeFiles(files, into: stagingName) else {
            for message in messages { try place(message, fetched[message.file.path]!, destinations, &report) }
            return
        }
        for (i, message) in messages.enumerated() {
            let file = fetched[message.file.path]!
            let (target, targetName) = try destinations.parent(of: message.file.path, create: true)
            if try staging.moveNoReplace(String(i), to: target, as: targetName) {
                staged.remove(i)
                var hasher = SHA256()
                hasher.update(file.bytes)
                report.copied.append(CopiedFile(path: message.file.path, size: UInt64(file.bytes.count),
                                                sha256: hasher.hexDigest(), mtime: file.status.mtime))
            } else {
                report.conflicts.append(CopyConflict(sourcePath: message.file.path, destinationPath: message.file.path,
                                                     reason: .appearedDuringCopy, isMessage: true))
            }
        }
    }

    /// Places one message read by a batch.
    private func place(_ message: MaildirMessage, _ file: FetchedFile, _ destinations: DirectoryCache,
                       _ report: inout CopyReport) throws {
        let path = message.file.path
        let tmp = try destinations.directory(message.folder.isEmpty ? "tmp" : message.folder + "/tmp", create: true)
        let (target, targetName) = try destinations.parent(of: path, create: true)
        if let placed = try copyFetchedFile(file, path: path, expected: message.file, staging: tmp,
                                            target: target, targetName: targetName, options: options) {
            report.copied.append(CopiedFile(path: path, size: placed.size, sha256: placed.sha256, mtime: placed.mtime))
        } else {
            report.conflicts.append(CopyConflict(sourcePath: path, destinationPath: path,
                                                 reason: .appearedDuringCopy, isMessage: true))
        }
    }

    private func copyMessage(_ message: MaildirMessage, from sourceFolder: DirectoryHandle, named name: String,
                             into destinations: DirectoryCache, _ report: inout CopyReport) throws {
        let path = message.file.path
        let tmp = try destinations.directory(message.folder.isEmpty ? "tmp" : message.folder + "/tmp", create: true)
        let (target, targetName) = try destinations.parent(of: path, create: true)
        if let placed = try copyRegularFile(from: sourceFolder, name: name, expected: message.file,
                                            staging: tmp, target: target, targetName: targetName,
                                            options: options) {
            report.copied.append(CopiedFile(path: path, size: placed.size, sha256: placed.sha256, mtime: placed.mtime))
        } else {
            report.conflicts.append(CopyConflict(sourcePath: path, destinationPath: path,
                                                 reason: .appearedDuringCopy, isMessage: true))
        }
    }

    private func copyOther(_ file: CensusEntry, existing: CensusEntry?, isDirectory: Bool,
                           sources: DirectoryCache, destinations: DirectoryCache, staging: DirectoryHandle,
                           _ report: inout CopyReport) throws {
        let (sourceDirectory, name) = try sources.parent(of: file.path, create: false)
        if isDirectory {
            report.conflicts.append(CopyConflict(sourcePath: file.path, destinationPath: file.path,
                                                 reason: .notARegularFile, isMessage: false))
            return
        }
        let (target, targetName) = try destinations.parent(of: file.path, create: true)
        if let existing {
            let compared = try sameContents(file, in: sourceDirectory, existing, in: target,
                                            comparison: options.comparison)
            if compared.equal {
                report.skipped += 1
            } else {
                report.conflicts.append(CopyConflict(sourcePath: file.path, destinationPath: file.path,
                                                     reason: .differentContent, isMessage: false))
            }
            return
        }
        if let placed = try copyRegularFile(from: sourceDirectory, name: name, expected: file, staging: staging,
                                            target: target, targetName: targetName, options: options) {
            report.copied.append(CopiedFile(path: file.path, size: placed.size, sha256: placed.sha256,
                                            mtime: placed.mtime))
        } else {
            report.conflicts.append(CopyConflict(sourcePath: file.path, destinationPath: file.path,
                                                 reason: .appearedDuringCopy, isMessage: false))
        }
    }
}

extension FlagPolicy {
    /// Where the destination copy of a message should be, given the source
    /// copy (equal contents); nil when it should stay where it is. A message
    /// never moves from `cur/` back to `new/`.
    public func target(source: MaildirMessage, destination: MaildirMessage)
        -> (subdirectory: MaildirSubdirectory, name: MaildirName)? {
        if source.subdirectory == .new && destination.subdirectory == .cur { return nil }
        let wanted: (MaildirSubdirectory, MaildirName)
        switch self {
        case .keepDestination:
            return nil
        case .followSource:
            wanted = (source.subdirectory, source.name)
        case .merge:
            if source.subdirectory == .cur,
               source.name.info?.hasPrefix("2,") ?? true, destination.name.info?.hasPrefix("2,") ?? true,
               let merged = try? destination.name.withFlags(destination.name.flags.union(source.name.flags)) {
                wanted = (.cur, merged)
            } else {
                wanted = (source.subdirectory, source.name)
            }
        }
        if wanted.0 == destination.subdirectory && wanted.1.name == destination.name.name { return nil }
        return wanted
    }
}

/// Refuses copying a directory onto itself or into/out of its own subtree.
/// Removes what a copy killed part way left in a destination `tmp/`: files
/// named `.relevo-PID-…`, and staging folders `.relevo-PID-….d` with the
/// regular files in them, made by another process than this one. Only
/// Relevo names files so (never a delivery agent), a temporary is never
/// visible as mail, and two Relevo processes never copy into one store at
/// once (each run holds its journal's lock; docs/architecture.md). Returns
/// how many files were removed.
func removeLeftoverTemporaries(in tmp: DirectoryHandle) throws -> Int {
    let mine = ".relevo-\(getpid())-"
    var removed = 0
    for (entry, status) in try tmp.listing() {
        guard let name = entry.text, name.hasPrefix(".relevo-"), !name.hasPrefix(mine), let status else { continue }
        switch status.kind {
        case .regularFile:
            try tmp.unlink(name)
            removed += 1
        case .directory where name.hasSuffix(".d"):
            let staging = try tmp.openListed(name, listed: status).handle
            for (inner, innerStatus) in try staging.listing() where innerStatus?.kind == .regularFile {
                if let innerName = inner.text {
                    try staging.unlink(innerName)
                    removed += 1
                }
            }
            _ = try tmp.removeDirectoryIfEmpty(name)
        default:
            continue
        }
    }
    return removed
}

func checkSeparate(_ source: StoreLocation, _ destination: StoreLocation) throws {
    // The same path on two hosts is two places.
    guard source.root.fileSystem === destination.root.fileSystem else { return }
    let a = source.path, b = destination.path
    if a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/") {
        throw StoreError.overlapping(source: a, destination: b)
    }
}
