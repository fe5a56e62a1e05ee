import RelevoBasics

/// How a copy treats a message whose flags (or `new/`→`cur/` place) differ
/// between source and destination while its contents are equal.
public enum FlagPolicy: String, Hashable, Sendable, Codable {
    /// Rename the destination to the source's name (the source changed since
    /// the last pass). A message in `cur/` is never moved back to `new/`.
    case followSource
    /// Rename the destination to carry the union of both sides' flags (keeps
    /// flags set by the user on the new host after the redirect).
    case merge
    /// Never rename in the destination.
    case keepDestination
}

/// How a copy decides that a file present on both sides has equal contents.
public enum ContentComparison: String, Hashable, Sendable, Codable {
    /// Equal size and equal SHA-256 (reads both files).
    case sha256
    /// Equal size and equal mtime (a file this layer copied keeps its mtime);
    /// cheaper on large stores, leaves full verification to the census.
    case sizeAndModificationTime
}

/// Options of `MaildirCopier` and `TreeCopier`.
public struct CopyOptions: Sendable {
    public var flagPolicy: FlagPolicy
    public var comparison: ContentComparison
    /// Accept hard-linked files in the source (refused by default).
    public var allowHardLinks: Bool
    /// `fsync` each copied file before it is moved into place.
    public var syncFiles: Bool
    /// Test hook: called with a stage and the source path (relative to the
    /// store root) just before a source file is opened and after its first
    /// chunk has been written to the temporary file; throwing simulates an
    /// I/O failure in the middle of a copy.
    var faultInjection: (@Sendable (CopyStage, String) throws -> Void)?

    public init(flagPolicy: FlagPolicy = .followSource, comparison: ContentComparison = .sha256,
                allowHardLinks: Bool = false, syncFiles: Bool = true) {
        self.flagPolicy = flagPolicy
        self.comparison = comparison
        self.allowHardLinks = allowHardLinks
        self.syncFiles = syncFiles
    }
}

/// Where `CopyOptions.faultInjection` is called.
enum CopyStage: Sendable {
    case beforeOpen, afterFirstChunk
}

/// A file a copy created in the destination.
public struct CopiedFile: Hashable, Sendable, Codable {
    /// Path relative to the destination location.
    public var path: String
    public var size: UInt64
    /// SHA-256 of the bytes written (checked again before `removeCopied`).
    public var sha256: String
    public var mtime: FileTime
}

/// A destination message a copy renamed to follow the source's flags.
public struct RenamedFile: Hashable, Sendable, Codable {
    /// Old and new paths relative to the destination location.
    public var from: String
    public var to: String
    public var sha256: String?
}

/// Why a source file was not copied.
public enum ConflictReason: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case differentContent = "the destination holds the same name with different contents"
    case ambiguousSource = "the source holds this message under more than one name"
    case ambiguousDestination = "the destination holds this message under more than one name"
    case notARegularFile = "the destination holds something other than a regular file at this path"
    case appearedDuringCopy = "the destination name appeared while the copy ran"

    public var description: String { rawValue }
}

/// A file not copied because the destination already holds something else.
public struct CopyConflict: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Source path relative to the source location.
    public var sourcePath: String
    /// Destination path relative to the destination location.
    public var destinationPath: String
    public var reason: ConflictReason
    /// Whether the file is a Maildir message (false: `maildirsize` and the like).
    public var isMessage: Bool

    public var description: String { "\(sourcePath) → \(destinationPath): \(reason)" }
}

/// What one copy pass did.
public struct CopyReport: Hashable, Sendable, Codable {
    /// Absolute paths of the source and destination locations.
    public var source: String
    public var destination: String
    /// Files created in the destination, in the order they were created.
    public var copied: [CopiedFile] = []
    /// Destination messages renamed to follow flag changes.
    public var renamed: [RenamedFile] = []
    /// Files present on both sides with equal contents and names.
    public var skipped: Int = 0
    /// Files not copied (never overwritten).
    public var conflicts: [CopyConflict] = []
    /// Source files that disappeared (moved or deleted on a live host, on
    /// either side) while the pass ran; the next pass takes them up again.
    public var vanished: [String] = []
    /// Directories created, relative to the destination's store root
    /// (outermost first), including missing parents of the location.
    public var createdDirectories: [String] = []

    public init(source: String, destination: String) {
        self.source = source
        self.destination = destination
    }

    /// Bytes written into the destination.
    public var bytesCopied: UInt64 { copied.reduce(0) { $0 + $1.size } }

    /// A pass that copied and renamed nothing and saw nothing vanish: the
    /// destination has caught up.
    public var isStable: Bool { copied.isEmpty && renamed.isEmpty && vanished.isEmpty }

    /// The reports of several passes as one (copies and renames in order),
    /// for `removeCopied` or a summary.
    public static func merging(_ reports: [CopyReport]) -> CopyReport? {
        guard var total = reports.first else { return nil }
        for report in reports.dropFirst() {
            total.copied += report.copied
            total.renamed += report.renamed
            total.skipped += report.skipped
            total.conflicts += report.conflicts
            total.vanished += report.vanished
            total.createdDirectories += report.createdDirectories
        }
        return total
    }
}

/// Runs `pass` until a report is stable, at most `maxPasses` times (at least
/// once). An error after the first pass becomes `StoreError.interrupted`
/// with every pass so far merged, so the copies can still be undone.
func repeatUntilStable(maxPasses: Int, pass: () throws -> CopyReport) throws -> [CopyReport] {
    var reports: [CopyReport] = []
    for _ in 0..<max(1, maxPasses) {
        do {
            let report = try pass()
            reports.append(report)
            if report.isStable { break }
        } catch {
            throw interrupted(after: reports, error)
        }
    }
    return reports
}

/// What an error of a pass after `reports` (the passes before it) is, for
/// the whole series: an `interrupted` carrying every file placed so far.
func interrupted(after reports: [CopyReport], _ error: any Error) -> any Error {
    if case StoreError.interrupted(let partial, let cause) = error {
        return StoreError.interrupted(partial: CopyReport.merging(reports + [partial])!, cause: cause)
    }
    if let error = error as? StoreError, !reports.isEmpty {
        return StoreError.interrupted(partial: CopyReport.merging(reports)!, cause: error)
    }
    return error
}

/// Why `removeCopied` left a file in place.
public enum KeptReason: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case missing = "no longer in the destination"
    case changed = "contents changed since the copy"
    case ambiguous = "the destination holds this message under more than one name"

    public var description: String { rawValue }
}

/// A copied file that `removeCopied` did not delete.
public struct KeptFile: Hashable, Sendable, Codable {
    public var path: String
    public var reason: KeptReason
}

/// What `removeCopied` did.
public struct RemovalReport: Hashable, Sendable, Codable {
    /// Files deleted, relative to the destination location.
    public var removed: [String] = []
    /// Copied files left in place, and why.
    public var kept: [KeptFile] = []
    /// Created directories deleted because they were empty (relative to the
    /// store root).
    public var removedDirectories: [String] = []

    public init() {}
}

extension CopyReport {
    /// `reports` as JSON that `JSONDecoder` reads back as `[CopyReport]`
    /// (keys sorted, as `JSONEncoder` with `.sortedKeys` writes them), for a
    /// copy step's undo record, written for every copy of every set: without
    /// the encoder's cost.
    public static func json(_ reports: [CopyReport]) -> String {
        var out = "["
        for (i, report) in reports.enumerated() {
            if i > 0 { out += "," }
            out += "{\"conflicts\":["
            for (j, c) in report.conflicts.enumerated() {
                if j > 0 { out += "," }
                out += "{\"destinationPath\":" + JSONString.quoted(c.destinationPath) + ",\"isMessage\":" + (c.isMessage ? "true" : "false")
                    + ",\"reason\":" + JSONString.quoted(c.reason.rawValue) + ",\"sourcePath\":" + JSONString.quoted(c.sourcePath) + "}"
            }
            out += "],\"copied\":["
            for (j, f) in report.copied.enumerated() {
                if j > 0 { out += "," }
                out += "{\"mtime\":{\"nanoseconds\":\(f.mtime.nanoseconds),\"seconds\":\(f.mtime.seconds)},\"path\":"
                    + JSONString.quoted(f.path) + ",\"sha256\":" + JSONString.quoted(f.sha256) + ",\"size\":\(f.size)}"
            }
            out += "],\"createdDirectories\":" + strings(report.createdDirectories)
            out += ",\"destination\":" + JSONString.quoted(report.destination) + ",\"renamed\":["
            for (j, r) in report.renamed.enumerated() {
                if j > 0 { out += "," }
                out += "{\"from\":" + JSONString.quoted(r.from) + (r.sha256.map { ",\"sha256\":" + JSONString.quoted($0) } ?? "")
                    + ",\"to\":" + JSONString.quoted(r.to) + "}"
            }
            out += "],\"skipped\":\(report.skipped),\"source\":" + JSONString.quoted(report.source)
            out += ",\"vanished\":" + strings(report.vanished) + "}"
        }
        return out + "]"
    }

    private static func strings(_ values: [String]) -> String {
        "[" + values.map(JSONString.quoted).joined(separator: ",") + "]"
    }
}
