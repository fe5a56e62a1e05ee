/// Censuses of many Maildirs of one store root at once, for a batch of
/// sets (a phase's `batch:`): each Maildir is opened as `scan` opens it and
/// all are listed in one request where the file system can
/// (`StoreDirectory.listTrees`; else each is listed as `scan` lists it),
/// then the contents of every listed file of all of them are hashed in one
/// request where the file system can (`digests(of:)` on the store root: over
/// SSH, one `sha256sum` per 512 files on the host instead of one per Maildir
/// and side). The result for each location is what `scan` would return for
/// it: a Maildir whose files are not all in the answer (the file system
/// cannot hash, a file vanished or was replaced in between) is scanned again
/// on its own, the ordinary way, and a refusal or an error is that
/// location's failure only.
extension MaildirCensus {
    public static func scanMany(_ locations: [StoreLocation],
                                options: CensusOptions = CensusOptions()) -> [Result<MaildirCensus, any Error>] {
        func alone(_ location: StoreLocation) -> Result<MaildirCensus, any Error> {
            Result { try scan(location, options: options) }
        }
        guard options.hashContents, locations.count > 1, let first = locations.first,
              locations.allSatisfy({ $0.root == first.root }) else { return locations.map(alone) }
        var listingOnly = options
        listingOnly.hashContents = false
        let top: DirectoryHandle
        do {
            top = try first.root.fileSystem.openDirectory(absolute: first.root.path, display: "")
        } catch {
            return locations.map(alone)
        }
        // Each Maildir opened as `scan` opens it, all listed in one request
        // where the file system can (`StoreLocation.openMany`); the walk of
        // each is the ordinary one.
        let opened = StoreLocation.openMany(locations)
        var results = zip(locations, opened).map { location, handle in
            Result { try scan(try handle.get(), location: location, options: listingOnly) }
        }

        // Paths relative to the store root of every file `scan` would hash.
        func hashed(_ census: MaildirCensus) -> [CensusEntry] {
            census.messages.values.map(\.file) + census.duplicates.values.flatMap { $0.map(\.file) } + census.otherFiles
        }
        var paths: [String] = []
        var bytes: UInt64 = 0
        for (location, result) in zip(locations, results) {
            guard case .success(let census) = result else { continue }
            var sizes: [String: UInt64] = [:]
            for entry in hashed(census) { sizes[entry.path] = entry.size }
            paths += sizes.keys.sorted().map { location.relative + "/" + $0 }
            bytes += sizes.values.reduce(0, +)
        }
        let digests: [String: String]
        do {
            guard let answer = paths.isEmpty ? [:] : try top.digests(of: paths, bytes: bytes) else { return locations.map(alone) }
            digests = answer
        } catch {
            return locations.map(alone)
        }

        for i in locations.indices {
            guard case .success(var census) = results[i] else { continue }
            let prefix = locations[i].relative + "/"
            func fill(_ entry: inout CensusEntry) -> Bool {
                guard let digest = digests[prefix + entry.path] else { return false }
                entry.sha256 = digest
                return true
            }
            var complete = true
            for key in Array(census.messages.keys) where complete { complete = fill(&census.messages[key]!.file) }
            for key in Array(census.duplicates.keys) where complete {
                for j in census.duplicates[key]!.indices where complete { complete = fill(&census.duplicates[key]![j].file) }
            }
            for j in census.otherFiles.indices where complete { complete = fill(&census.otherFiles[j]) }
            results[i] = complete ? .success(census) : alone(locations[i])
        }
        return results
    }
}
