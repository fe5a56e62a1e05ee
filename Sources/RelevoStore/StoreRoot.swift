import Glibc

/// The root directory of a mail store on one host (such as
/// `/home1/maildirs`), as an absolute canonical path.
///
/// Relative paths (such as a `${store}` value `ceres/` taken from a
/// directory entry) are joined to it with `resolve(relative:)`, which refuses
/// anything that could name a file outside the root: an absolute path, a
/// `..` component, a NUL byte, the root itself, and a symbolic link anywhere
/// below the root. A link pointing outside is reported as an escape; a link
/// pointing inside is refused too, because it would make one user's path
/// name another user's mailbox.
public struct StoreRoot: Hashable, Sendable, CustomStringConvertible {
    /// The canonical absolute path (`realpath`) of the root.
    public let path: String
    /// The file system the root is on (this machine's, or a host's over SSH).
    public let fileSystem: any StoreFileSystem

    /// Takes an absolute path to an existing directory. Links in the root's
    /// own path are resolved once, here (the root is configuration, trusted).
    public init(_ path: String, on fileSystem: any StoreFileSystem = LocalFileSystem.shared) throws {
        guard path.hasPrefix("/") else { throw StoreError.rootNotAbsolute(path) }
        guard !path.utf8.contains(0), let canonical = try fileSystem.canonicalPath(path),
              try fileSystem.linkStatus(canonical)?.kind == .directory else {
            throw StoreError.rootNotADirectory(path)
        }
        self.path = canonical
        self.fileSystem = fileSystem
    }

    public static func == (a: StoreRoot, b: StoreRoot) -> Bool {
        a.path == b.path && a.fileSystem === b.fileSystem
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(ObjectIdentifier(fileSystem))
    }

    public var description: String { path }

    /// Splits a relative path into components, dropping empty and `.`
    /// components (`ceres/` and `./ceres` are `["ceres"]`), refusing an
    /// absolute path, `..`, NUL, components over 255 bytes and an empty result.
    public static func components(ofRelative relative: String) throws -> [String] {
        if relative.utf8.contains(0) { throw StoreError.invalidRelativePath(relative, .nulByte) }
        if relative.hasPrefix("/") { throw StoreError.invalidRelativePath(relative, .absolute) }
        // ASCII (nearly every path) split on its bytes: the same components
        // as the split on characters below, which other text keeps.
        let components = relative.utf8.allSatisfy({ $0 < 0x80 })
            ? relative.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }.filter { $0 != "." }
            : relative.split(separator: "/").map(String.init).filter { $0 != "." }
        if components.contains("..") { throw StoreError.invalidRelativePath(relative, .parentComponent) }
        if components.contains(where: { $0.utf8.count > 255 }) {
            throw StoreError.invalidRelativePath(relative, .componentTooLong)
        }
        if components.isEmpty { throw StoreError.invalidRelativePath(relative, .empty) }
        return components
    }

    /// The absolute path of `relative` inside the root, after checking its
    /// spelling and every existing component (none may be a symbolic link,
    /// and the canonical path of the existing part must lie inside the root).
    /// Missing trailing components are allowed (a store about to be created).
    public func resolve(relative: String) throws -> String {
        try resolve(relative: relative, components: try StoreRoot.components(ofRelative: relative))
    }

    /// `resolve(relative:)` with `relative`'s components already split
    /// and checked (`components(ofRelative:)`).
    func resolve(relative: String, components: [String]) throws -> String {
        var current = path
        var existing = path
        for (index, component) in components.enumerated() {
            let candidate = join(current, component)
            let found: FileStatus?
            do {
                found = try fileSystem.linkStatus(candidate)
            } catch StoreError.io(_, let operation, let code) {
                throw StoreError.io(path: components[...index].joined(separator: "/"), operation: operation, errno: code)
            }
            guard let kind = found?.kind else { break }
            if kind == .symbolicLink {
                let target = (try? fileSystem.canonicalPath(candidate)) ?? fileSystem.linkTarget(candidate) ?? "?"
                if !contains(absolute: target) {
                    throw StoreError.escapesRoot(path: relative, resolved: target, root: path)
                }
                throw StoreError.symlinkInPath(path: relative, component: components[...index].joined(separator: "/"))
            }
            if kind != .directory && index < components.count - 1 {
                throw StoreError.notADirectory(components[...index].joined(separator: "/"))
            }
            current = candidate
            existing = candidate
        }
        // Belt and braces: the canonical form of what exists must be inside.
        let canonical = try fileSystem.canonicalPath(existing)
        guard let canonical, contains(absolute: canonical) else {
            throw StoreError.escapesRoot(path: relative, resolved: canonical ?? existing, root: path)
        }
        return join(path, components.joined(separator: "/"))
    }

    /// A checked location inside this root (see `resolve(relative:)`).
    public func location(_ relative: String) throws -> StoreLocation {
        try StoreLocation(root: self, relative: relative)
    }

    /// `location(_:)` of each of `relatives`, checked as it checks them,
    /// with one request for all those that name an entry of the root
    /// directly (`StoreDirectory.statuses`: over SSH one `find -P` for a
    /// batch, instead of an `lstat` and a `realpath` each). Such an entry
    /// needs no `realpath`: the root is canonical, and an entry that is not
    /// a link (its `lstat` says) is inside it. Each result is what
    /// `location(_:)` would return or throw; when the file system cannot
    /// answer for many, each is checked on its own.
    public func locations(_ relatives: [String]) -> [Result<StoreLocation, any Error>] {
        checkedLocations(relatives).map { $0.map(\.location) }
    }

    /// `locations(_:)`, each with whether it exists as `exists()` answers
    /// it, from the same request where it could (else asked on its own).
    /// `thenListed`: the caller lists these trees next (a census, a copy),
    /// which the file system may answer from the same request.
    public func locationsExisting(_ relatives: [String], thenListed: Bool = false)
        -> [Result<(location: StoreLocation, exists: Bool), any Error>] {
        checkedLocations(relatives, thenListed: thenListed).map { result in
            Result {
                let checked = try result.get()
                return (checked.location, try checked.exists ?? checked.location.exists())
            }
        }
    }

    private func checkedLocations(_ relatives: [String], thenListed: Bool = false)
        -> [Result<(location: StoreLocation, exists: Bool?), any Error>] {
        let parsed = relatives.map { relative in Result { try StoreRoot.components(ofRelative: relative) } }
        let direct = Set(parsed.compactMap { (try? $0.get()).flatMap { $0.count == 1 ? $0[0] : nil } })
        var statuses: [String: FileStatus]?
        if direct.count > 1, let top = try? fileSystem.openDirectory(absolute: path, display: "") {
            statuses = (try? top.statuses(of: direct.sorted(), thenListed: thenListed)) ?? nil
        }
        return zip(relatives, parsed).map { relative, components in
            Result {
                let components = try components.get()
                guard let statuses, components.count == 1 else { return (try location(relative), nil) }
                guard let status = statuses[components[0]] else {
                    return (StoreLocation(root: self, checked: components), false)
                }
                if status.kind == .symbolicLink {
                    return (try location(relative), nil)   // refused there, with its reason
                }
                return (StoreLocation(root: self, checked: components), status.kind == .directory ? true : nil)
            }
        }
    }

    /// Whether the absolute path `other` is the root or lies below it.
    public func contains(absolute other: String) -> Bool {
        if path == "/" { return other.hasPrefix("/") }
        return other == path || other.hasPrefix(path + "/")
    }

    private func join(_ a: String, _ b: String) -> String {
        a.hasSuffix("/") ? a + b : a + "/" + b
    }
}

/// A directory inside a store root, such as one user's Maildir
/// (`StoreRoot("/home1/maildirs").location("ceres/")`).
///
/// Its spelling and existing components are checked when it is made; every
/// use opens it again from the root one component at a time without
/// following links, so a link planted in between is refused then too.
public struct StoreLocation: Hashable, Sendable, CustomStringConvertible {
    public let root: StoreRoot
    /// Path components below the root (never empty, no `.` or `..`).
    public let components: [String]

    public init(root: StoreRoot, relative: String) throws {
        let components = try StoreRoot.components(ofRelative: relative)
        _ = try root.resolve(relative: relative, components: components)
        self.root = root
        self.components = components
    }

    /// A location whose components were checked by the caller.
    init(root: StoreRoot, checked components: [String]) {
        self.root = root
        self.components = components
    }

    /// The path relative to the root, without a trailing slash (`ceres`).
    public var relative: String { components.joined(separator: "/") }

    /// The absolute path.
    public var path: String {
        root.path == "/" ? "/" + relative : root.path + "/" + relative
    }

    public var description: String { path }

    /// Opens the location, or returns nil when it does not exist.
    func open() throws -> DirectoryHandle? {
        let top = try root.fileSystem.openDirectory(absolute: root.path, display: "")
        return try top.descend(components, create: false)?.handle
    }

    /// Opens the location, creating missing directories with `mode`; returns
    /// the created directories' paths relative to the root, outermost first.
    func openCreating(mode: UInt32 = 0o700) throws -> (handle: DirectoryHandle, created: [String]) {
        let top = try root.fileSystem.openDirectory(absolute: root.path, display: "")
        // `descend(create: true)` never returns nil.
        return try top.descend(components, create: true, mode: mode)!
    }
}

/// `realpath(3)`, nil when the path does not exist.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

extension StoreLocation {
    /// Whether the location exists (as a directory reached without links).
    public func exists() throws -> Bool {
        try open() != nil
    }

    /// Makes the location and any missing parent below the root; returns
    /// the directories made, relative to the root, outermost first.
    @discardableResult
    public func create(mode: UInt32 = 0o700) throws -> [String] {
        try openCreating(mode: mode).created
    }

    /// Files and bytes below the location (regular files only, links and
    /// special files not counted, nothing followed); (0, 0) when absent.
    /// For a Maildir, `subfolders: ["cur", "new"]` counts its messages.
    public func size(subfolders: [String]? = nil) throws -> (files: Int, bytes: UInt64) {
        guard let top = try open() else { return (0, 0) }
        return try Self.size(of: top, subfolders: subfolders)
    }

    /// `size(subfolders:)` of each of `locations`, all listed in one request
    /// where the file system can (`openMany`); each result is what its
    /// `size` would return or throw.
    public static func sizeMany(_ locations: [StoreLocation], subfolders: [String]? = nil) -> [Result<(files: Int, bytes: UInt64), any Error>] {
        zip(locations, openMany(locations)).map { location, opened in
            Result {
                switch opened {
                case .success(let top): return try size(of: top, subfolders: subfolders)
                case .failure(let error as StoreError) where error.isNotFound: return (0, 0)
                case .failure: return try location.size(subfolders: subfolders)
                }
            }
        }
    }

    private static func size(of top: any StoreDirectory, subfolders: [String]?) throws -> (files: Int, bytes: UInt64) {
        var files = 0
        var bytes: UInt64 = 0
        var refusals: [Refusal] = []   // not counted, never followed; a census refuses them
        let walker = TreeWalker(allowHardLinks: true)
        for directory in try subfolders.map({ try $0.compactMap { try top.openDirectoryIfPresent($0) } }) ?? [top] {
            try walker.walk(directory, refusals: &refusals) { item in
                if item.status.kind == .regularFile {
                    files += 1
                    bytes += item.status.size
                }
            }
        }
        return (files, bytes)
    }

    /// Removes the location and everything below it, never following a
    /// link (a link is removed, not its target). Absent is not an error.
    /// Returns the number of entries removed.
    @discardableResult
    public func removeTree() throws -> Int {
        guard components.count >= 1 else { return 0 }
        let parentLocation = components.dropLast()
        let top = try root.fileSystem.openDirectory(absolute: root.path, display: "")
        guard let parent = try top.descend(Array(parentLocation), create: false)?.handle else { return 0 }
        var removed = 0
        func clear(_ directory: DirectoryHandle, depth: Int) throws {
            guard depth <= TreeWalker.maximumDepth else { throw StoreError.refused([Refusal(path: directory.displayPath, reason: .tooDeep)]) }
            for (entry, listed) in try directory.listing() {
                guard let name = entry.text else {
                    throw StoreError.refused([Refusal(path: directory.display(entry.display), reason: .undecodableName)])
                }
                guard let status = listed else { continue }
                if status.kind == .directory {
                    try clear(try directory.openDirectory(name), depth: depth + 1)
                    _ = try directory.removeDirectoryIfEmpty(name)
                } else {
                    try directory.unlink(name)
                }
                removed += 1
            }
        }
        let name = components[components.count - 1]
        guard let status = try parent.status(name) else { return 0 }
        if status.kind == .directory {
            try clear(try parent.openDirectory(name), depth: 1)
            _ = try parent.removeDirectoryIfEmpty(name)
        } else {
            try parent.unlink(name)
        }
        return removed + 1
    }

    /// The regular file at `relative` below the location, read up to
    /// `limit` bytes (a message's head, for a probe); nil when absent.
    public func readFile(_ relative: String, limit: Int = 65536) throws -> [UInt8]? {
        var parts = try StoreRoot.components(ofRelative: relative)
        let name = parts.removeLast()
        guard let top = try open(), let directory = try top.descend(parts, create: false)?.handle,
              try directory.status(name) != nil else { return nil }
        let file = try directory.openForReading(name)
        var bytes: [UInt8] = []
        struct Enough: Error {}
        do {
            try file.readChunks { chunk in
                bytes.append(contentsOf: chunk.prefix(limit - bytes.count))
                if bytes.count >= limit { throw Enough() }
            }
        } catch is Enough {}
        return bytes
    }
}
