import Glibc

/// A batch's copies (a phase's `batch:`), sharing requests where the file
/// systems can.
extension MaildirCopier {
    /// `copy()` of each copier, for a batch of sets: the sources of all of
    /// them opened and listed in one request where the file system can
    /// (`StoreLocation.openMany`), whether each destination exists asked in
    /// one request (`StoreLocation.existMany`), and the messages of those
    /// whose destination does not exist yet (a first copy: every message
    /// will be read) read in one request too, up to 32 MB in all and 1 MB a
    /// message. Then the first copies whose every file came in that read
    /// are written whole (`stageWhole`: one write for all of them, one
    /// rename each); every other copier's pass is the one `copy()` makes,
    /// over that listing and those bytes (checked against its census as any
    /// read is). Each result is what its `copy()` would return or throw.
    ///
    /// `destinationsExist`: whether each destination exists, when the
    /// caller asked already (its locations were checked by the same request).
    public static func copyMany(_ copiers: [MaildirCopier], destinationsExist: [Bool]? = nil) -> [Result<CopyReport, any Error>] {
        guard copiers.count > 1 else { return copiers.map { copier in Result { try copier.copy() } } }
        let sources = StoreLocation.openMany(copiers.map(\.source))
        let absent = destinationsExist.map { $0.map { !$0 } }
            ?? StoreLocation.existMany(copiers.map(\.destination)).map { (try? $0.get()) == false }
        prefetch(copiers, sources, absent: absent)
        let whole = stageWhole(copiers, sources, absent: absent)
        return copiers.indices.map { i in
            whole[i] ?? Result { try copiers[i].copy(removingLeftovers: true, opened: try sources[i].get()) }
        }
    }

    /// `copyUntilStable(maxPasses:)` of each copier, for a batch: every
    /// pass lists the sources of the copiers not stable yet with one
    /// request and their destinations with another
    /// (`StoreLocation.openMany`), afresh for each pass, so that the pass
    /// that says "stable" sees both stores as they are then; each copier's
    /// pass is the one `copy()` makes, over those listings. Each result is
    /// what its `copyUntilStable` would return or throw.
    public static func copyManyUntilStable(_ copiers: [MaildirCopier], maxPasses: Int = 5) -> [Result<[CopyReport], any Error>] {
        guard copiers.count > 1 else { return copiers.map { copier in Result { try copier.copyUntilStable(maxPasses: maxPasses) } } }
        var reports = Array(repeating: [CopyReport](), count: copiers.count)
        var results: [Result<[CopyReport], any Error>?] = Array(repeating: nil, count: copiers.count)
        var active = Array(copiers.indices)
        for pass in 0..<max(1, maxPasses) where !active.isEmpty {
            let sources = StoreLocation.openMany(active.map { copiers[$0].source })
            let destinations = StoreLocation.openMany(active.map { copiers[$0].destination })
            for (k, i) in active.enumerated() {
                do {
                    let report = try copiers[i].copy(removingLeftovers: pass == 0, opened: try sources[k].get(),
                                                     openedDestination: try? destinations[k].get())
                    reports[i].append(report)
                    if report.isStable { results[i] = .success(reports[i]) }
                } catch {
                    results[i] = .failure(interrupted(after: reports[i], error))
                }
            }
            active = active.filter { results[$0] == nil }
        }
        for i in active { results[i] = .success(reports[i]) }
        return results.map { $0! }
    }

    /// Reads into the listed sources of `copiers` whose destination is
    /// absent the files their pass will read (messages and other files,
    /// never `tmp/`), in one request.
    private static func prefetch(_ copiers: [MaildirCopier], _ sources: [Result<any StoreDirectory, any Error>],
                                 absent: [Bool]) {
        var wanted: [(listed: ListedDirectory, relative: String, paths: [String])] = []
        var total: UInt64 = 0
        for (i, (copier, source)) in zip(copiers, sources).enumerated() {
            guard absent[i], case .success(let handle) = source, let listed = handle as? ListedDirectory else { continue }
            var paths: [String] = []
            for (directory, entries) in listed.tree.directories.sorted(by: { $0.key < $1.key }) {
                for entry in entries where entry.status.kind == .regularFile && entry.status.size <= 1 << 20 {
                    guard let name = entry.name.text, total + entry.status.size <= 32 << 20 else { continue }
                    let path = directory.isEmpty ? name : directory + "/" + name
                    if case .temporary = MaildirCensus.slot(of: path) { continue }
                    paths.append(path)
                    total += entry.status.size
                }
            }
            if !paths.isEmpty { wanted.append((listed, copier.source.relative, paths)) }
        }
        guard wanted.count > 1, let first = copiers.first,
              let top = try? first.source.root.fileSystem.openDirectory(absolute: first.source.root.path, display: ""),
              top.readsManyFiles,
              let fetched = (try? top.readFiles(wanted.flatMap { item in item.paths.map { item.relative + "/" + $0 } })) ?? nil
        else { return }
        for item in wanted {
            var mine: [String: FetchedFile] = [:]
            for path in item.paths { if let file = fetched[item.relative + "/" + path] { mine[path] = file } }
            item.listed.prefetched = mine
        }
    }

    /// The folder of a store root where whole first copies are staged.
    static let stagingFolder = ".relevo-staging"

    /// First copies written whole: for each copier whose destination is
    /// absent, directly in its store root, and whose source's every file
    /// (messages and other files; `tmp/` is never copied) was read by the
    /// batch and matches its census (no duplicate identities, nothing
    /// refused), the whole Maildir (its directories with their modes,
    /// `cur`, `new` and `tmp` of every folder, every file with its mode and
    /// times) is written with one request for all of them into a fresh
    /// staging folder of `.relevo-staging` in the destination's store
    /// root, invisible to every reader, then each Maildir is moved into
    /// place by one rename that never replaces anything. So a user's mail
    /// appears all at once and complete, as it would message by message.
    /// A destination that appeared in between is not touched: that copier
    /// gets nil (copied the ordinary way), as does any copier when the file
    /// system cannot write trees or the write fails. What is not moved is
    /// removed with the staging folder, whatever happens; a staging folder
    /// left by a killed run is removed by the next batch.
    ///
    /// The result of each copier done so is its `copy()` report (every file
    /// copied, with the SHA-256 of the bytes written, and every directory
    /// made), so that undo and the gates treat it as any other copy.
    private static func stageWhole(_ copiers: [MaildirCopier], _ sources: [Result<any StoreDirectory, any Error>],
                                   absent: [Bool]) -> [Result<CopyReport, any Error>?] {
        var results: [Result<CopyReport, any Error>?] = Array(repeating: nil, count: copiers.count)
        struct Whole {
            var index: Int
            var directories: [(path: String, mode: UInt32)]
            var files: [(path: String, file: FetchedFile)]
        }
        var wholes: [Whole] = []
        for (i, copier) in copiers.enumerated() {
            guard absent[i], copier.destination.components.count == 1,
                  copier.destination.components[0] != stagingFolder,
                  case .success(let handle) = sources[i], let listed = handle as? ListedDirectory,
                  (try? checkSeparate(copier.source, copier.destination)) != nil,
                  let whole = wholeCopy(listed, copier) else { continue }
            wholes.append(Whole(index: i, directories: whole.directories, files: whole.files))
        }
        guard !wholes.isEmpty, let root = copiers.first?.destination.root,
              wholes.allSatisfy({ copiers[$0.index].destination.root == root }) else { return results }
        do {
            let top = try root.fileSystem.openDirectory(absolute: root.path, display: "")
            guard top.writesTrees else { return results }
            let parent = try top.makeDirectory(stagingFolder, mode: 0o700).handle
            removeLeftoverStaging(in: parent, root: root)
            let (staging, stagingName) = try makeStagingDirectory(in: parent)
            var pending = Set(wholes.indices)
            defer {
                for k in pending { _ = try? root.location(stagingFolder + "/" + stagingName + "/" + String(k)).removeTree() }
                _ = try? parent.removeDirectoryIfEmpty(stagingName)
            }
            var items: [TreeItem] = []
            for (k, whole) in wholes.enumerated() {
                items.append(.directory(path: String(k), mode: 0o700))
                for directory in whole.directories { items.append(.directory(path: "\(k)/\(directory.path)", mode: directory.mode)) }
                for file in whole.files { items.append(.file(path: "\(k)/\(file.path)", file.file)) }
            }
            guard try parent.writeTree(items, into: stagingName) else { return results }
            for (k, whole) in wholes.enumerated() {
                let copier = copiers[whole.index]
                let destination = copier.destination
                guard try staging.moveNoReplace(String(k), to: top, as: destination.components[0]) else { continue }
                pending.remove(k)
                var report = CopyReport(source: copier.source.path, destination: destination.path)
                report.createdDirectories = [destination.relative] + whole.directories.map { destination.relative + "/" + $0.path }
                for (path, file) in whole.files {
                    var hasher = SHA256()
                    hasher.update(file.bytes)
                    report.copied.append(CopiedFile(path: path, size: UInt64(file.bytes.count), sha256: hasher.hexDigest(),
                                                    mtime: file.status.mtime))
                }
                results[whole.index] = .success(report)
            }
        } catch {
            // Copied the ordinary way, which meets the problem itself.
        }
        return results
    }

    /// What a first copy of the listed source writes, when the batch read
    /// every file of it and each matches the census: the directories
    /// (parents first, with the modes a pass gives them) and the files, in
    /// the order a pass copies them. nil when anything would need the
    /// ordinary pass (a refusal, a duplicate identity, a file not read or
    /// changed since the listing).
    private static func wholeCopy(_ listed: ListedDirectory, _ copier: MaildirCopier)
        -> (directories: [(path: String, mode: UInt32)], files: [(path: String, file: FetchedFile)])? {
        let options = CensusOptions(allowHardLinks: copier.options.allowHardLinks, hashContents: false)
        guard let census = try? MaildirCensus.scan(listed, location: copier.source, options: options),
              census.duplicates.isEmpty else { return nil }
        var files: [(path: String, file: FetchedFile)] = []
        for entry in census.messages.keys.sorted().map({ census.messages[$0]!.file }) + census.otherFiles {
            guard let file = listed.prefetched[entry.path], (try? checkFetched(file, path: entry.path, expected: entry)) != nil
            else { return nil }
            files.append((entry.path, file))
        }
        var directories: [(path: String, mode: UInt32)] = census.directories.map { ($0.path, $0.mode & 0o777) }
        var seen = Set(directories.map(\.path))
        for folder in census.folders {
            for sub in ["cur", "new", "tmp"] {
                let path = folder.isEmpty ? sub : folder + "/" + sub
                if seen.insert(path).inserted { directories.append((path, 0o700)) }
            }
        }
        // Parents before children, as a pass makes them.
        let depth = { (path: String) in path.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) } }
        directories = directories.map { (depth($0.path), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        return (directories, files)
    }

    /// Removes what a killed run left in `.relevo-staging`: folders named
    /// `.relevo-PID-….d` of another process than this one that hold only
    /// numbered folders (staged Maildirs), never following a link. Anything
    /// else there is left alone.
    private static func removeLeftoverStaging(in parent: any StoreDirectory, root: StoreRoot) {
        let mine = ".relevo-\(getpid())-"
        guard let entries = try? parent.listing() else { return }
        for (entry, status) in entries {
            guard let name = entry.text, name.hasPrefix(".relevo-"), name.hasSuffix(".d"), !name.hasPrefix(mine),
                  status?.kind == .directory,
                  let inner = try? parent.openListed(name, listed: status!).handle.listing(),
                  inner.allSatisfy({ $0.status?.kind == .directory && ($0.name.text.map { !$0.isEmpty && $0.allSatisfy(\.isNumber) } ?? false) })
            else { continue }
            _ = try? root.location(stagingFolder + "/" + name).removeTree()
        }
    }
}

extension StoreLocation {
    /// `exists()` of each of `locations`, asked in one request per store
    /// root for those that are entries of it directly
    /// (`StoreRoot.locationsExisting`); each answer is what its own
    /// `exists()` would give.
    public static func existMany(_ locations: [StoreLocation]) -> [Result<Bool, any Error>] {
        var answers: [Result<Bool, any Error>?] = Array(repeating: nil, count: locations.count)
        for indices in Dictionary(grouping: locations.indices, by: { locations[$0].root }).values {
            let root = locations[indices[0]].root
            for (i, answer) in zip(indices, root.locationsExisting(indices.map { locations[$0].relative })) {
                answers[i] = answer.map(\.exists)
            }
        }
        return answers.map { $0! }
    }
}
