/// What a census reads and what it accepts.
public struct CensusOptions: Hashable, Sendable {
    /// Accept regular files with more than one hard link (refused by default).
    public var allowHardLinks: Bool
    /// Compute the SHA-256 of every regular file (the census of a
    /// verification); without it `CensusEntry.sha256` is nil.
    public var hashContents: Bool

    public init(allowHardLinks: Bool = false, hashContents: Bool = true) {
        self.allowHardLinks = allowHardLinks
        self.hashContents = hashContents
    }
}

/// One regular file in a census.
public struct CensusEntry: Hashable, Sendable, Codable {
    /// Path relative to the scanned directory, `/`-separated.
    public var path: String
    public var size: UInt64
    /// Modification time, to the nanosecond when the file system keeps it.
    public var mtime: FileTime
    /// Permission bits (`st_mode & 07777`).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var linkCount: UInt64
    /// Device and inode, for matching hard links on one host.
    public var device: UInt64
    public var inode: UInt64
    /// Lowercase hex SHA-256 of the contents; nil when not hashed.
    public var sha256: String?

    init(path: String, status: FileStatus, sha256: String?) {
        self.path = path
        size = status.size
        mtime = status.mtime
        mode = status.mode
        uid = status.uid
        gid = status.gid
        linkCount = status.linkCount
        device = status.device
        inode = status.inode
        self.sha256 = sha256
    }

    /// The last path component.
    public var name: String { String(path.split(separator: "/").last ?? "") }
}

/// One directory in a census.
public struct DirectoryEntry: Hashable, Sendable, Codable {
    /// Path relative to the scanned directory.
    public var path: String
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32

    init(path: String, status: FileStatus) {
        self.path = path
        mode = status.mode
        uid = status.uid
        gid = status.gid
    }
}

/// The list of every regular file and directory below one store location.
public struct Census: Hashable, Sendable, Codable {
    /// Canonical store root.
    public var root: String
    /// The scanned location, relative to the root.
    public var location: String
    /// Regular files, sorted by path.
    public var files: [CensusEntry]
    /// Directories below the location, parents before children.
    public var directories: [DirectoryEntry]

    /// Sum of file sizes.
    public var totalBytes: UInt64 { files.reduce(0) { $0 + $1.size } }

    /// The file at `path` (relative to the location), if any.
    public subscript(path: String) -> CensusEntry? {
        var low = 0, high = files.count
        while low < high {
            let middle = (low + high) / 2
            if files[middle].path < path { low = middle + 1 } else { high = middle }
        }
        return low < files.count && files[low].path == path ? files[low] : nil
    }
}

/// Safe census of a plain directory tree.
public enum TreeCensus {
    /// Walks `relative` below the store root `root` without following links
    /// and lists every regular file (path, size, mtime, mode, SHA-256).
    ///
    /// Throws `StoreError.refused` listing every symbolic link, FIFO, socket,
    /// device and (unless allowed) hard-linked file, each named by its path
    /// relative to the store root; a path that is absolute, has `..` or goes
    /// through a link is refused before anything is read.
    public static func scan(root: String, relative: String,
                            options: CensusOptions = CensusOptions()) throws -> Census {
        try scan(StoreRoot(root).location(relative), options: options)
    }

    /// Same as `scan(root:relative:options:)` for a checked location.
    public static func scan(_ location: StoreLocation,
                            options: CensusOptions = CensusOptions()) throws -> Census {
        guard let directory = try location.open() else {
            throw StoreError.io(path: location.relative, operation: "open directory", errno: 2 /* ENOENT */)
        }
        return try scan(directory, location: location, options: options)
    }

    /// Census of an open directory. With `ignoringRefusals`, refused entries
    /// are left out instead of thrown.
    static func scan(_ directory: DirectoryHandle, location: StoreLocation,
                     options: CensusOptions, ignoringRefusals: Bool = false) throws -> Census {
        var files: [CensusEntry] = []
        var directories: [DirectoryEntry] = []
        var refusals: [Refusal] = []
        let walker = TreeWalker(allowHardLinks: options.allowHardLinks)
        try walker.walk(directory, refusals: &refusals) { item in
            if item.status.kind == .directory {
                directories.append(DirectoryEntry(path: item.path, status: item.status))
            } else if options.hashContents && !item.afterRefusal {
                let hashed = try hashRegularFile(in: item.parent, name: item.name, expected: item.status)
                files.append(CensusEntry(path: item.path, status: hashed.status, sha256: hashed.sha256))
            } else {
                files.append(CensusEntry(path: item.path, status: item.status, sha256: nil))
            }
        }
        if !refusals.isEmpty && !ignoringRefusals { throw StoreError.refused(refusals) }
        files.sort { $0.path < $1.path }
        return Census(root: location.root.path, location: location.relative,
                      files: files, directories: directories)
    }
}
