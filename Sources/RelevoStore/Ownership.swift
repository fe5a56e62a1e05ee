import Glibc
import RelevoBasics

/// A numeric owner and group.
public struct Owner: Hashable, Sendable, Codable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "\(uid):\(gid)" }
}

/// The owner of one entry of a store location.
public struct OwnerRecord: Hashable, Sendable, Codable {
    /// Path relative to the location (`""` is the location itself).
    public var path: String
    public var owner: Owner
    public var isDirectory: Bool
}

/// One ownership change, done or planned.
public struct OwnerChange: Hashable, Sendable, Codable {
    /// Path relative to the location (`""` is the location itself).
    public var path: String
    public var from: Owner
    public var to: Owner
}

/// What `Ownership.change` did, or would do; also the undo record.
public struct OwnershipReport: Hashable, Sendable, Codable {
    /// Absolute path of the location.
    public var location: String
    /// False when not running as root (or `dryRun`): `changes` is the plan.
    public var applied: Bool
    /// Entries whose owner differs from the target, with their old owner.
    public var changes: [OwnerChange]
    /// Entries already owned by the target.
    public var unchanged: Int

    /// The report as JSON with sorted keys, as `JSONEncoder` with
    /// `.sortedKeys` writes it (a batch's `chown` journals one per member,
    /// with an entry per file: written directly, it costs a fraction).
    public var json: String {
        func owner(_ o: Owner) -> String { "{\"gid\":\(o.gid),\"uid\":\(o.uid)}" }
        var out = "{\"applied\":" + (applied ? "true" : "false") + ",\"changes\":["
        for (i, change) in changes.enumerated() {
            if i > 0 { out += "," }
            out += "{\"from\":" + owner(change.from) + ",\"path\":" + JSONString.quoted(change.path)
                + ",\"to\":" + owner(change.to) + "}"
        }
        return out + "],\"location\":" + JSONString.quoted(location) + ",\"unchanged\":\(unchanged)}"
    }
}

/// `chown -R owner:group` done safely: never through a link (`lchown` by
/// name relative to an open directory), refusing links, special files and
/// hard-linked files (a hard link to a file outside the store would hand it
/// to the mail user) before changing anything. Only root can give files
/// away; run by anyone else, it returns the plan without failing.
public enum Ownership {
    /// Resolves `user` and `group` (names via `getpwnam`/`getgrnam`, or numbers).
    public static func resolve(user: String, group: String) throws -> Owner {
        Owner(uid: try userID(user), gid: try groupID(group))
    }

    /// The uid of a user name or number.
    public static func userID(_ user: String) throws -> UInt32 {
        if let number = UInt32(user) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(user, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
            throw StoreError.unknownUser(user)
        }
        return UInt32(entry.pw_uid)
    }

    /// The gid of a group name or number.
    public static func groupID(_ group: String) throws -> UInt32 {
        if let number = UInt32(group) { return number }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(group, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
            throw StoreError.unknownGroup(group)
        }
        return UInt32(entry.gr_gid)
    }

    /// The current owner of the location and everything below it (for an
    /// undo record). Refuses what a census refuses.
    public static func currentOwners(of location: StoreLocation,
                                     allowHardLinks: Bool = false) throws -> [OwnerRecord] {
        guard let directory = try location.open() else {
            throw StoreError.io(path: location.relative, operation: "open directory", errno: ENOENT)
        }
        return try currentOwners(in: directory, allowHardLinks: allowHardLinks)
    }

    /// `currentOwners` of an opened location.
    static func currentOwners(in directory: any StoreDirectory, allowHardLinks: Bool) throws -> [OwnerRecord] {
        let top = try directory.status()
        var records = [OwnerRecord(path: "", owner: Owner(uid: top.uid, gid: top.gid), isDirectory: true)]
        var refusals: [Refusal] = []
        try TreeWalker(allowHardLinks: allowHardLinks).walk(directory, refusals: &refusals) { item in
            records.append(OwnerRecord(path: item.path, owner: Owner(uid: item.status.uid, gid: item.status.gid),
                                       isDirectory: item.status.kind == .directory))
        }
        if !refusals.isEmpty { throw StoreError.refused(refusals) }
        return records
    }

    /// Gives the location and everything below it to `owner`. As root (and
    /// not `dryRun`) the changes are applied; otherwise they are only
    /// listed. Either way the report holds each entry's previous owner.
    public static func change(_ location: StoreLocation, to owner: Owner, dryRun: Bool = false,
                              allowHardLinks: Bool = false) throws -> OwnershipReport {
        try change(location, to: owner, dryRun: dryRun, allowHardLinks: allowHardLinks,
                   isRoot: location.root.fileSystem.canChangeOwners)
    }

    /// `change` with the privilege given (tests exercise both paths).
    static func change(_ location: StoreLocation, to owner: Owner, dryRun: Bool,
                       allowHardLinks: Bool, isRoot: Bool) throws -> OwnershipReport {
        let records = try currentOwners(of: location, allowHardLinks: allowHardLinks)
        let changes = records.filter { $0.owner != owner }
            .map { OwnerChange(path: $0.path, from: $0.owner, to: owner) }
        let apply = isRoot && !dryRun
        if apply { try set(changes, in: location, allowHardLinks: allowHardLinks) }
        return OwnershipReport(location: location.path, applied: apply, changes: changes,
                               unchanged: records.count - changes.count)
    }

    /// Undoes an applied `change`: gives each changed entry back its
    /// previous owner (entries since removed are skipped).
    public static func restore(_ report: OwnershipReport, in location: StoreLocation) throws {
        guard report.applied else { return }
        guard report.location == location.path else {
            throw StoreError.reportMismatch(expected: location.path, found: report.location)
        }
        let undo = report.changes.map { OwnerChange(path: $0.path, from: $0.to, to: $0.from) }
        try set(undo, in: location, allowHardLinks: true, skipMissing: true)
    }

    /// The owners of the paths below `directory` changed in one request per
    /// owner (`changeOwners`: over SSH the paths go NUL-separated on
    /// standard input, so there is no command line to outgrow); false as
    /// soon as the file system says it cannot.
    private static func changeInRequests(_ byOwner: [Owner: [String]], in directory: DirectoryHandle,
                                         missingIsFine: Bool) throws -> Bool {
        for (owner, paths) in byOwner.sorted(by: { ($0.key.uid, $0.key.gid) < ($1.key.uid, $1.key.gid) }) {
            guard try directory.changeOwners(paths, uid: owner.uid, gid: owner.gid, missingIsFine: missingIsFine) else {
                return false
            }
        }
        return true
    }

    /// Applies `changes`, checking each entry again just before its `lchown`.
    private static func set(_ changes: [OwnerChange], in location: StoreLocation,
                            allowHardLinks: Bool, skipMissing: Bool = false) throws {
        guard let directory = try location.open() else {
            if skipMissing { return }
            throw StoreError.io(path: location.relative, operation: "open directory", errno: ENOENT)
        }
        // Where the file system can, in one request per owner (`chown -h`
        // over SSH): the entries are the ones the walk
        // just found, regular files and directories only, and a link
        // planted since would have its own owner changed, never its target's.
        if directory.changesManyOwners {
            var byOwner: [Owner: [String]] = [:]
            for change in changes { byOwner[change.to, default: []].append(change.path) }
            if try changeInRequests(byOwner, in: directory, missingIsFine: skipMissing) { return }
        }
        let directories = DirectoryCache(base: directory)
        for change in changes {
            if change.path.isEmpty {
                try directory.changeOwner(nil, uid: change.to.uid, gid: change.to.gid)
                continue
            }
            let parent: DirectoryHandle, name: String, found: FileStatus?
            do {
                (parent, name) = try directories.parent(of: change.path, create: false)
                found = try parent.status(name)
            } catch let error as StoreError where error.isNotFound && skipMissing {
                continue
            }
            guard let status = found else {
                if skipMissing { continue }
                throw StoreError.io(path: directory.display(change.path), operation: "chown", errno: ENOENT)
            }
            guard status.kind == .regularFile || status.kind == .directory else {
                throw StoreError.refused([Refusal(path: parent.display(name), reason: .specialFile(status.kind))])
            }
            if status.kind == .regularFile && status.linkCount > 1 && !allowHardLinks {
                throw StoreError.refused([Refusal(path: parent.display(name),
                                                  reason: .hardLinked(links: status.linkCount))])
            }
            try parent.changeOwner(name, uid: change.to.uid, gid: change.to.gid)
        }
    }
}

extension Ownership {
    /// `change` for many locations of one store root (a batch of sets): each
    /// location is walked as `change` walks it, then the owners are changed
    /// in one request per owner for all of them where the
    /// file system can (`chown -h` over SSH, on paths below the root).
    /// Where it cannot, or that request fails, each location's changes are
    /// applied on its own (changing an owner twice is harmless). One
    /// result per location: a refusal is that location's failure only.
    public static func changeMany(_ locations: [(location: StoreLocation, owner: Owner)],
                                  allowHardLinks: Bool = false) -> [Result<OwnershipReport, any Error>] {
        func alone(_ item: (location: StoreLocation, owner: Owner)) -> Result<OwnershipReport, any Error> {
            Result { try change(item.location, to: item.owner, allowHardLinks: allowHardLinks) }
        }
        guard locations.count > 1, let first = locations.first?.location,
              first.root.fileSystem.canChangeOwners,
              locations.allSatisfy({ $0.location.root == first.root }) else { return locations.map(alone) }
        var planned: [Result<(records: [OwnerRecord], changes: [OwnerChange]), any Error>] = []
        var byOwner: [Owner: [String]] = [:]
        // Every location walked over one listing where the file system can.
        let opened = StoreLocation.openMany(locations.map(\.location))
        for ((location, owner), handle) in zip(locations, opened) {
            let result = Result { () throws -> (records: [OwnerRecord], changes: [OwnerChange]) in
                let records = try currentOwners(in: try handle.get(), allowHardLinks: allowHardLinks)
                return (records, records.filter { $0.owner != owner }.map { OwnerChange(path: $0.path, from: $0.owner, to: owner) })
            }
            if case .success(let plan) = result {
                for change in plan.changes {
                    byOwner[change.to, default: []].append(change.path.isEmpty ? location.relative : location.relative + "/" + change.path)
                }
            }
            planned.append(result)
        }
        var done = false
        do {
            let top = try first.root.fileSystem.openDirectory(absolute: first.root.path, display: "")
            done = try top.changesManyOwners && changeInRequests(byOwner, in: top, missingIsFine: false)
        } catch {
            done = false
        }
        return zip(locations, planned).map { item, plan in
            Result {
                let (records, changes) = try plan.get()
                // Not done in one request: each on its own, with the changes
                // planned from the first walk, so that the report keeps every
                // entry's owner from before any request (for undo).
                if !done { try set(changes, in: item.location, allowHardLinks: allowHardLinks) }
                return OwnershipReport(location: item.location.path, applied: true, changes: changes,
                                       unchanged: records.count - changes.count)
            }
        }
    }
}
