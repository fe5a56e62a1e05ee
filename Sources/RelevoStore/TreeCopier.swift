/// Copies a plain directory tree (a store that is not a Maildir) with the
/// same safety rules as `MaildirCopier`: the source census refuses links,
/// special files and hard links before anything is written; each file is
/// written to a hidden temporary name in its target directory and moved into
/// place without ever replacing an existing file; an existing file with other
/// contents is a conflict, never overwritten; modes and times are kept.
/// Directory times are not kept.
public struct TreeCopier: Sendable {
    public let source: StoreLocation
    public let destination: StoreLocation
    public var options: CopyOptions

    public init(from source: StoreLocation, to destination: StoreLocation,
                options: CopyOptions = CopyOptions()) {
        self.source = source
        self.destination = destination
        self.options = options
    }

    /// One pass.
    public static func copy(from source: StoreLocation, to destination: StoreLocation,
                            options: CopyOptions = CopyOptions()) throws -> CopyReport {
        try TreeCopier(from: source, to: destination, options: options).copy()
    }

    /// One pass: copies each source file absent from the destination.
    /// Throws `StoreError.refused` (nothing written) for a refused source
    /// entry; a later error is `StoreError.interrupted` with what completed.
    public func copy() throws -> CopyReport {
        try checkSeparate(source, destination)
        guard let sourceDirectory = try source.open() else {
            throw StoreError.io(path: source.relative, operation: "open directory", errno: 2 /* ENOENT */)
        }
        let sourceCensus = try TreeCensus.scan(
            sourceDirectory, location: source,
            options: CensusOptions(allowHardLinks: options.allowHardLinks, hashContents: false))
        var report = CopyReport(source: source.path, destination: destination.path)
        let top = try destination.openCreating()
        report.createdDirectories = top.created
        do {
            try pass(sourceDirectory, sourceCensus, top.handle, &report)
        } catch let error as StoreError {
            throw StoreError.interrupted(partial: report, cause: error)
        }
        return report
    }

    /// Passes until one copies nothing, at most `maxPasses`.
    public func copyUntilStable(maxPasses: Int = 5) throws -> [CopyReport] {
        try repeatUntilStable(maxPasses: maxPasses, pass: copy)
    }

    /// Deletes exactly the files the reports say were created, by path, each
    /// only if its SHA-256 is unchanged; then the created directories that
    /// are empty.
    public func removeCopied(report: CopyReport) throws -> RemovalReport {
        try removeCopied(reports: [report])
    }

    /// `removeCopied` for several passes, in the order they ran.
    public func removeCopied(reports: [CopyReport]) throws -> RemovalReport {
        try Remover(destination: destination, reports: reports, maildir: false).run()
    }

    private func pass(_ sourceDirectory: DirectoryHandle, _ sourceCensus: Census,
                      _ destinationDirectory: DirectoryHandle, _ report: inout CopyReport) throws {
        let destinationCensus = try TreeCensus.scan(
            destinationDirectory, location: destination,
            options: CensusOptions(allowHardLinks: true, hashContents: false))
        let destinationDirectories = Set(destinationCensus.directories.map(\.path))
        let sources = DirectoryCache(base: sourceDirectory)
        let destinations = DirectoryCache(base: destinationDirectory)
        defer { report.createdDirectories += destinations.created }

        for directory in sourceCensus.directories {
            if destinationCensus[directory.path] != nil {
                throw StoreError.notADirectory(destinationDirectory.display(directory.path))
            }
            _ = try destinations.directory(directory.path, create: true, mode: directory.mode & 0o777)
        }
        for file in sourceCensus.files {
            do {
                try copyFile(file, destinationCensus, destinationDirectories, sources, destinations, &report)
            } catch let error as StoreError where error.isNotFound {
                report.vanished.append(file.path)
            }
        }
    }

    private func copyFile(_ file: CensusEntry, _ destinationCensus: Census, _ destinationDirectories: Set<String>,
                          _ sources: DirectoryCache, _ destinations: DirectoryCache,
                          _ report: inout CopyReport) throws {
        if destinationDirectories.contains(file.path) {
            report.conflicts.append(CopyConflict(sourcePath: file.path, destinationPath: file.path,
                                                 reason: .notARegularFile, isMessage: false))
            return
        }
        let (sourceParent, name) = try sources.parent(of: file.path, create: false)
        let (target, targetName) = try destinations.parent(of: file.path, create: true)
        if let existing = destinationCensus[file.path] {
            let compared = try sameContents(file, in: sourceParent, existing, in: target,
                                            comparison: options.comparison)
            if compared.equal {
                report.skipped += 1
            } else {
                report.conflicts.append(CopyConflict(sourcePath: file.path, destinationPath: file.path,
                                                     reason: .differentContent, isMessage: false))
            }
            return
        }
        if let placed = try copyRegularFile(from: sourceParent, name: name, expected: file, staging: target,
                                            target: target, targetName: targetName, options: options) {
            report.copied.append(CopiedFile(path: file.path, size: placed.size, sha256: placed.sha256,
                                            mtime: placed.mtime))
        } else {
            report.conflicts.append(CopyConflict(sourcePath: file.path, destinationPath: file.path,
                                                 reason: .appearedDuringCopy, isMessage: false))
        }
    }
}
