import Glibc

/// The type of a directory entry, as `lstat` sees it (links are never followed).
public enum EntryKind: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case regularFile = "regular file"
    case directory
    case symbolicLink = "symbolic link"
    case fifo = "FIFO"
    case socket
    case characterDevice = "character device"
    case blockDevice = "block device"
    case unknown = "unknown file type"

    public var description: String { rawValue }
}

/// Why an entry of a store is refused.
public enum RefusalReason: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A symbolic link, FIFO, socket or device: a store holds only regular
    /// files and directories.
    case specialFile(EntryKind)
    /// A regular file with more than one hard link: its other names may lie
    /// outside the store (a hard link to `/etc/shadow` is the classic trap).
    case hardLinked(links: UInt64)
    /// A name that is not valid UTF-8.
    case undecodableName
    /// A tree deeper than `TreeWalker.maximumDepth`.
    case tooDeep

    public var description: String {
        switch self {
        case .specialFile(.symbolicLink):
            return "symbolic link (a store is never read through a link)"
        case .specialFile(let kind):
            return "\(kind) (a store holds only regular files and directories)"
        case .hardLinked(let links):
            return "regular file with \(links) hard links (its other names may be outside the store)"
        case .undecodableName:
            return "file name is not valid UTF-8"
        case .tooDeep:
            return "directory tree nested too deeply"
        }
    }
}

/// One refused entry: its path relative to the store root, and why.
public struct Refusal: Hashable, Sendable, Codable, CustomStringConvertible {
    public var path: String
    public var reason: RefusalReason

    public init(path: String, reason: RefusalReason) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// What is wrong with a relative store path before anything is looked up.
public enum PathProblem: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case absolute = "is absolute"
    case parentComponent = "has a '..' component"
    case nulByte = "contains a NUL byte"
    case empty = "names the store root itself (empty path)"
    case componentTooLong = "has a component longer than 255 bytes"

    public var description: String { rawValue }
}

/// Errors of the store layer. Each message names the path relative to the
/// store root (or the root itself) so an operator can find the entry.
public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A store root must be an absolute path.
    case rootNotAbsolute(String)
    /// A store root must exist and be a directory.
    case rootNotADirectory(String)
    /// A relative path refused on its spelling alone.
    case invalidRelativePath(String, PathProblem)
    /// A relative path that resolves outside its root (through a link).
    case escapesRoot(path: String, resolved: String, root: String)
    /// A relative path with a symbolic link among its existing components.
    case symlinkInPath(path: String, component: String)
    /// Entries a store may not hold; nothing was read from or written for them.
    case refused([Refusal])
    /// A path component that should be a directory is not.
    case notADirectory(String)
    /// A file name that is not a valid Maildir message name.
    case invalidMaildirName(String, reason: String)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)
    /// A file system on another host could not be reached, or answered
    /// with an error that has no errno (the connection broke, a timeout).
    case unavailable(fileSystem: String, operation: String, path: String, reason: String)
    /// A source file changed (type, identity or size) while it was being copied.
    case sourceChanged(String)
    /// Source and destination are the same directory or one holds the other.
    case overlapping(source: String, destination: String)
    /// A copy report given to `removeCopied` was made for another destination.
    case reportMismatch(expected: String, found: String)
    /// A user name that `getpwnam` does not know.
    case unknownUser(String)
    /// A group name that `getgrnam` does not know.
    case unknownGroup(String)
    /// A copy that stopped part way. `partial` lists what it had completed
    /// (every listed file is whole and in place; none is left in `tmp/`), so
    /// it can be undone with `removeCopied`.
    indirect case interrupted(partial: CopyReport, cause: StoreError)

    public var description: String {
        switch self {
        case .rootNotAbsolute(let path):
            return "store root '\(path)' is not an absolute path"
        case .rootNotADirectory(let path):
            return "store root '\(path)' does not exist or is not a directory"
        case .invalidRelativePath(let path, let problem):
            return "store path '\(path)' \(problem)"
        case .escapesRoot(let path, let resolved, let root):
            return "store path '\(path)' resolves to '\(resolved)', outside the store root '\(root)'"
        case .symlinkInPath(let path, let component):
            return "store path '\(path)' goes through the symbolic link '\(component)'"
        case .refused(let refusals):
            let list = refusals.map(\.description).joined(separator: "; ")
            return "refused \(refusals.count == 1 ? "entry" : "\(refusals.count) entries"): \(list)"
        case .notADirectory(let path):
            return "'\(path)' is not a directory"
        case .invalidMaildirName(let name, let reason):
            return "'\(name)' is not a valid Maildir message name: \(reason)"
        case .io(let path, let operation, let code):
            return "\(operation) '\(path)' failed: \(errorText(code)) (errno \(code))"
        case .unavailable(let fileSystem, let operation, let path, let reason):
            return "\(operation) '\(path)' on \(fileSystem) failed: \(reason)"
        case .sourceChanged(let path):
            return "source '\(path)' changed while it was being copied"
        case .overlapping(let source, let destination):
            return "source '\(source)' and destination '\(destination)' overlap (same directory, or one inside the other)"
        case .reportMismatch(let expected, let found):
            return "copy report is for destination '\(found)', not '\(expected)'"
        case .unknownUser(let name):
            return "unknown user '\(name)'"
        case .unknownGroup(let name):
            return "unknown group '\(name)'"
        case .interrupted(let partial, let cause):
            return "copy interrupted after \(partial.copied.count) file(s) and \(partial.renamed.count) rename(s): \(cause)"
        }
    }

    /// Whether this is a file or directory that does not exist (ENOENT),
    /// typically one moved or deleted while a pass ran.
    public var isNotFound: Bool {
        if case .io(_, _, let code) = self { return code == ENOENT }
        return false
    }

    /// The refusals carried by this error, looking through `interrupted`.
    public var refusals: [Refusal] {
        switch self {
        case .refused(let list): return list
        case .interrupted(_, let cause): return cause.refusals
        default: return []
        }
    }
}

/// `strerror` text for an errno value.
func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
