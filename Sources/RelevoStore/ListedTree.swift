/// A directory tree as one listing request answered
/// (`StoreDirectory.listTrees`): for each directory of the tree, by its path
/// relative to the tree's top (`""` is the top), its entries with their
/// status. Only what the request saw; nothing is checked here.
public struct ListedTree: Sendable {
    public var directories: [String: [(name: EntryName, status: FileStatus)]]
    /// The status of the tree's top as the request saw it, when it says.
    public var top: FileStatus?

    public init(directories: [String: [(name: EntryName, status: FileStatus)]] = [:], top: FileStatus? = nil) {
        self.directories = directories
        self.top = top
    }
}

/// A directory whose listings come from a `ListedTree` instead of the file
/// system, so that a census of many Maildirs lists them all with one request
/// (`MaildirCensus.scanMany`). The walker's rules are unchanged: it still
/// meets every entry with its status, refuses links and special files,
/// and compares each directory it opens with its listing. Everything else
/// (status, reading, hashing, writing) goes to `real`, the directory it
/// stands for. A directory of the tree missing from the listing (made after
/// it) is listed by `real`.
final class ListedDirectory: StoreDirectory {
    let real: any StoreDirectory
    let tree: ListedTree
    /// This directory's path relative to the tree's top.
    let path: String
    /// Files already read in one request for a batch
    /// (`MaildirCopier.copyMany`), by path relative to this directory:
    /// `readFiles` answers from them, and asks `real` for the rest.
    var prefetched: [String: FetchedFile] = [:]

    init(real: any StoreDirectory, tree: ListedTree, path: String = "") {
        self.real = real
        self.tree = tree
        self.path = path
    }

    var displayPath: String { real.displayPath }

    func listing() throws -> [(name: EntryName, status: FileStatus?)] {
        guard let listed = tree.directories[path] else { return try real.listing() }
        return listed.map { ($0.name, Optional($0.status)) }.sorted { $0.name.display < $1.name.display }
    }

    func entries() throws -> [EntryName] { try listing().map(\.name) }

    func openListed(_ name: String, listed: FileStatus) throws -> (handle: any StoreDirectory, status: FileStatus) {
        let (child, status) = try real.openListed(name, listed: listed)
        let childPath = path.isEmpty ? name : path + "/" + name
        return (ListedDirectory(real: child, tree: tree, path: childPath), status)
    }

    func status(_ name: String) throws -> FileStatus? { try real.status(name) }
    /// The top's status as the listing saw it, when it says.
    func status() throws -> FileStatus {
        if path.isEmpty, let top = tree.top { return top }
        return try real.status()
    }
    /// A directory the listing shows is opened as listed (no request);
    /// anything else is asked of `real`, which meets what it is now.
    func openDirectoryIfPresent(_ name: String) throws -> (any StoreDirectory)? {
        if let entry = tree.directories[path]?.first(where: { $0.name.text == name }), entry.status.kind == .directory {
            return try openListed(name, listed: entry.status).handle
        }
        return try real.openDirectoryIfPresent(name)
    }
    var readsManyFiles: Bool { real.readsManyFiles }
    func readFiles(_ paths: [String]) throws -> [String: FetchedFile]? {
        var found: [String: FetchedFile] = [:]
        var missing: [String] = []
        for path in paths {
            // Each is handed out once: a later pass reads again.
            if let file = prefetched.removeValue(forKey: path) { found[path] = file } else { missing.append(path) }
        }
        guard !missing.isEmpty else { return found }
        guard let rest = try real.readFiles(missing) else { return found.isEmpty ? nil : found }
        return found.merging(rest) { first, _ in first }
    }
    var writesManyFiles: Bool { real.writesManyFiles }
    func writeFiles(_ files: [(name: String, file: FetchedFile)], into staging: String) throws -> Bool {
        try real.writeFiles(files, into: staging)
    }
    var writesTrees: Bool { real.writesTrees }
    func writeTree(_ items: [TreeItem], into staging: String) throws -> Bool { try real.writeTree(items, into: staging) }
    func statuses(of names: [String], thenListed: Bool) throws -> [String: FileStatus]? {
        try real.statuses(of: names, thenListed: thenListed)
    }
    var changesManyOwners: Bool { real.changesManyOwners }
    func changeOwners(_ paths: [String], uid: UInt32, gid: UInt32, missingIsFine: Bool) throws -> Bool {
        try real.changeOwners(paths, uid: uid, gid: gid, missingIsFine: missingIsFine)
    }
    func digests(of paths: [String], bytes: UInt64) throws -> [String: String]? { try real.digests(of: paths, bytes: bytes) }
    func listTrees(_ paths: [String]) throws -> [String: ListedTree]? { try real.listTrees(paths) }
    func makeDirectory(_ name: String, mode: UInt32) throws -> (handle: any StoreDirectory, created: Bool) {
        try real.makeDirectory(name, mode: mode)
    }
    func openForReading(_ name: String) throws -> any StoreFileReader { try real.openForReading(name) }
    func createExclusive(_ name: String, mode: UInt32) throws -> any StoreFileWriter { try real.createExclusive(name, mode: mode) }
    func moveNoReplace(_ name: String, to target: any StoreDirectory, as newName: String) throws -> Bool {
        try real.moveNoReplace(name, to: (target as? ListedDirectory)?.real ?? target, as: newName)
    }
    func unlink(_ name: String) throws { try real.unlink(name) }
    func removeDirectoryIfEmpty(_ name: String) throws -> Bool { try real.removeDirectoryIfEmpty(name) }
    func changeOwner(_ name: String?, uid: UInt32, gid: UInt32) throws { try real.changeOwner(name, uid: uid, gid: gid) }
}

extension StoreLocation {
    /// Opens each of `locations` as `open()` does (its path checked, no link
    /// on the way; absent is an ENOENT error). When they share a store root
    /// whose file system lists many trees in one request
    /// (`StoreDirectory.listTrees`: over SSH, one `find`), each comes back
    /// as a `ListedDirectory` over that listing, so that walking all of
    /// them costs one request instead of a few per folder; otherwise as
    /// opened.
    static func openMany(_ locations: [StoreLocation]) -> [Result<any StoreDirectory, any Error>] {
        if let opened = openManyDirect(locations) { return opened }
        let opened: [Result<any StoreDirectory, any Error>] = locations.map { location in
            Result {
                guard let directory = try location.open() else {
                    throw StoreError.io(path: location.relative, operation: "open directory", errno: 2 /* ENOENT */)
                }
                return directory
            }
        }
        guard locations.count > 1, let first = locations.first, locations.allSatisfy({ $0.root == first.root }) else {
            return opened
        }
        let listable = zip(locations, opened).compactMap { location, handle in
            (try? handle.get()) == nil ? nil : location.relative
        }
        guard listable.count > 1,
              let top = try? first.root.fileSystem.openDirectory(absolute: first.root.path, display: ""),
              let trees = (try? top.listTrees(listable)) ?? nil else { return opened }
        return zip(locations, opened).map { location, handle in
            handle.map { directory in trees[location.relative].map { ListedDirectory(real: directory, tree: $0) } ?? directory }
        }
    }

    /// `openMany` of entries of one store root directly, by one listing
    /// request that also says where each tree's top is and what it is (no
    /// request per location); a location the listing does not show as a
    /// directory (or every one, when the file system cannot list them
    /// together) is opened the ordinary way, which meets what it is. nil
    /// when the locations are not such entries.
    private static func openManyDirect(_ locations: [StoreLocation]) -> [Result<any StoreDirectory, any Error>]? {
        guard locations.count > 1, let first = locations.first,
              locations.allSatisfy({ $0.root == first.root && $0.components.count == 1 }),
              let top = try? first.root.fileSystem.openDirectory(absolute: first.root.path, display: "") else { return nil }
        let trees = (try? top.listTrees(Array(Set(locations.map(\.relative))).sorted())) ?? nil
        return locations.map { location in
            Result {
                if let tree = trees?[location.relative], let status = tree.top, status.kind == .directory {
                    return ListedDirectory(real: try top.openListed(location.relative, listed: status).handle, tree: tree)
                }
                guard let directory = try location.open() else {
                    throw StoreError.io(path: location.relative, operation: "open directory", errno: 2 /* ENOENT */)
                }
                return directory
            }
        }
    }
}
