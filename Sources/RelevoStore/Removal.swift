/// The inverse of a copy: deletes from the destination exactly the files the
/// given reports say were created, each only when its contents still have
/// the SHA-256 recorded at copy time, then the directories the copy created
/// when they are empty. A file delivered or changed after the copy is never
/// deleted.
struct Remover {
    let destination: StoreLocation
    let reports: [CopyReport]
    /// Find a moved or re-flagged message by identity (folder + base name).
    let maildir: Bool

    func run() throws -> RemovalReport {
        for report in reports where report.destination != destination.path {
            throw StoreError.reportMismatch(expected: destination.path, found: report.destination)
        }
        // Follow later renames to each created file's current name.
        var current: [String: CopiedFile] = [:]
        var order: [String] = []
        for report in reports {
            for file in report.copied {
                current[file.path] = file
                order.append(file.path)
            }
            for rename in report.renamed {
                if let file = current.removeValue(forKey: rename.from) {
                    current[rename.to] = file
                    order.append(rename.to)
                }
            }
        }
        var seen = Set<String>()
        let paths = order.filter { current[$0] != nil && seen.insert($0).inserted }

        var result = RemovalReport()
        if let directory = try destination.open() {
            try removeFiles(paths, current, in: directory, &result)
        } else {
            result.kept = paths.map { KeptFile(path: $0, reason: .missing) }
        }
        try removeDirectories(&result)
        return result
    }

    private func removeFiles(_ paths: [String], _ current: [String: CopiedFile],
                             in directory: DirectoryHandle, _ result: inout RemovalReport) throws {
        let options = CensusOptions(allowHardLinks: true, hashContents: false)
        var byPath: [String: CensusEntry] = [:]
        var byKey: [MessageKey: [CensusEntry]] = [:]
        if maildir {
            let census = try MaildirCensus.scan(directory, location: destination, options: options,
                                                ignoringRefusals: true)
            byPath = census.filesByPath
            for (key, message) in census.messages {
                byKey[key] = census.duplicates[key]?.map(\.file) ?? [message.file]
            }
        } else {
            let census = try TreeCensus.scan(directory, location: destination, options: options,
                                             ignoringRefusals: true)
            for file in census.files { byPath[file.path] = file }
        }
        let directories = DirectoryCache(base: directory)
        for path in paths {
            guard let copied = current[path] else { continue }
            var found = byPath[path]
            var ambiguous = false
            if found == nil, maildir, case .message(let folder, _) = MaildirCensus.slot(of: path),
               let name = try? MaildirName(parsing: String(path.split(separator: "/").last!)) {
                let candidates = byKey[MessageKey(folder: folder, base: name.base)] ?? []
                if candidates.count == 1 { found = candidates[0] } else { ambiguous = candidates.count > 1 }
            }
            guard let file = found else {
                result.kept.append(KeptFile(path: path, reason: ambiguous ? .ambiguous : .missing))
                continue
            }
            do {
                let (parent, name) = try directories.parent(of: file.path, create: false)
                let hashed = try hashRegularFile(in: parent, name: name, expected: nil)
                guard hashed.sha256 == copied.sha256 else {
                    result.kept.append(KeptFile(path: file.path, reason: .changed))
                    continue
                }
                try parent.unlink(name)
                result.removed.append(file.path)
            } catch let error as StoreError where error.isNotFound {
                result.kept.append(KeptFile(path: file.path, reason: .missing))
            }
        }
    }

    private func removeDirectories(_ result: inout RemovalReport) throws {
        var seen = Set<String>()
        let created = reports.flatMap(\.createdDirectories).filter { seen.insert($0).inserted }
        let deepestFirst = created.sorted {
            let a = $0.split(separator: "/").count, b = $1.split(separator: "/").count
            return a != b ? a > b : $0 > $1
        }
        let top = try destination.root.fileSystem.openDirectory(absolute: destination.root.path, display: "")
        for path in deepestFirst {
            var parts = path.split(separator: "/").map(String.init)
            guard let last = parts.popLast(),
                  let parent = try top.descend(parts, create: false)?.handle else { continue }
            if try parent.removeDirectoryIfEmpty(last) {
                result.removedDirectories.append(path)
            }
        }
    }
}
