import Glibc

/// One entry met by `TreeWalker`.
struct WalkItem {
    /// The directory holding the entry (open, reached without links).
    let parent: DirectoryHandle
    /// The entry's name in `parent`.
    let name: String
    /// Path relative to the directory the walk started from.
    let path: String
    /// `lstat` of the entry.
    let status: FileStatus
    /// Whether something was refused earlier in the walk (the walk will
    /// throw, so expensive work such as hashing can be skipped).
    let afterRefusal: Bool
}

/// Walks a directory tree without following links. Regular files and
/// directories are visited (a directory before its contents, names in
/// order); anything else is collected as a `Refusal` naming the path
/// relative to the store root and is never opened. The walk goes on after a
/// refusal so that one error lists every refused entry.
struct TreeWalker {
    /// Deeper trees are refused (a Maildir is three levels deep).
    static let maximumDepth = 64

    /// Accept regular files with more than one hard link.
    var allowHardLinks: Bool

    func walk(_ directory: DirectoryHandle, prefix: String = "", depth: Int = 0,
              refusals: inout [Refusal], visit: (WalkItem) throws -> Void) throws {
        if depth > TreeWalker.maximumDepth {
            refusals.append(Refusal(path: directory.displayPath, reason: .tooDeep))
            return
        }
        for (entry, listed) in try directory.listing() {
            guard let name = entry.text else {
                refusals.append(Refusal(path: directory.display(entry.display), reason: .undecodableName))
                continue
            }
            guard let status = listed else { continue }  // gone since listed
            let path = prefix.isEmpty ? name : prefix + "/" + name
            switch status.kind {
            case .regularFile:
                if status.linkCount > 1 && !allowHardLinks {
                    refusals.append(Refusal(path: directory.display(name), reason: .hardLinked(links: status.linkCount)))
                    continue
                }
                try visit(WalkItem(parent: directory, name: name, path: path, status: status,
                                   afterRefusal: !refusals.isEmpty))
            case .directory:
                try visit(WalkItem(parent: directory, name: name, path: path, status: status,
                                   afterRefusal: !refusals.isEmpty))
                let child: DirectoryHandle
                let opened: FileStatus
                do {
                    (child, opened) = try directory.openListed(name, listed: status)
                } catch StoreError.refused(let list) {
                    refusals.append(contentsOf: list)  // replaced by a link since the lstat
                    continue
                }
                guard opened.isSameFile(as: status) else {
                    throw StoreError.sourceChanged(child.displayPath)
                }
                try walk(child, prefix: path, depth: depth + 1, refusals: &refusals, visit: visit)
            default:
                refusals.append(Refusal(path: directory.display(name), reason: .specialFile(status.kind)))
            }
        }
    }
}

/// The SHA-256 (hex) of the regular file `name` in `directory`, checking it
/// is still the file `expected` describes (same device and inode) and did
/// not change size or mtime while it was read. Returns the digest and the
/// file's status as read.
func hashRegularFile(in directory: DirectoryHandle, name: String,
                     expected: FileStatus?) throws -> (sha256: String, status: FileStatus) {
    let file = try directory.openForReading(name)
    let before = try file.status()
    if let expected, !before.isSameFile(as: expected) {
        throw StoreError.sourceChanged(file.path)
    }
    var hasher = SHA256()
    try file.readChunks { hasher.update(bytes: $0) }
    let after = try file.status()
    guard after.size == before.size, after.mtime == before.mtime else {
        throw StoreError.sourceChanged(file.path)
    }
    return (hasher.hexDigest(), after)
}
