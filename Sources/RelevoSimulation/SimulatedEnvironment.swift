import Foundation
import RelevoDirectory
import RelevoEngine
import RelevoOperations
import RelevoPlan
import RelevoStore

/// The dry run's `Environment`: every step and gate of `PlanEnvironment`,
/// performed on a scratch copy of the fixtures, with time charged on a
/// virtual clock from the plan's `fixtures: { timing: ... }` (so the run's
/// duration is an estimate of the live one) and faults injected on demand.
public final class SimulatedEnvironment: PlanEnvironment, @unchecked Sendable {
    let scratch: Scratch

    /// Where the scratch hosts' file systems are kept (see `Scratch`).
    public enum Hosts: String, Sendable {
        /// Folders on disk.
        case disk
        /// In memory, every change logged to a file.
        case memory
        /// In memory when the fixtures' store roots hold no file, else on disk.
        case automatic
    }

    /// `scratch` is created from the fixtures (relative to `fixtureBase`)
    /// unless it already holds an earlier run of the same journal (resume).
    /// `committedLogs`: the lengths of the world's logs that its journal
    /// recorded at its last commit (`markWorld`'s names and lengths, kept by
    /// `SQLiteJournal.attachWorld`): a resumed scratch folder replays its
    /// logs up to there and cuts them there.
    public init(plan: Plan, scratch: URL, fixtureBase: URL, faults: FaultPlan, hosts: Hosts = .automatic,
                committedLogs: [String: Int] = [:]) throws {
        self.scratch = try Scratch(root: scratch, plan: plan, fixtureBase: fixtureBase,
                                   hosts: Scratch.Hosts(rawValue: hosts.rawValue) ?? .automatic,
                                   committed: committedLogs)
        super.init(plan: plan, faults: faults, timing: plan.fixtures?.timing ?? SimulationTiming())
    }

    /// From now on the world's logs (memory hosts, directory change logs)
    /// are gathered in memory and written only by `markWorld`, which the
    /// journal calls inside each of its commits, recording the lengths in
    /// the same transaction (`SQLiteJournal.attachWorld`). A kill then
    /// leaves logs that may run past the journal's last commit, never
    /// short of it, and a resume cuts them back to it (`committedLogs`):
    /// the journal and the world are restored to the same commit, so no
    /// commit is needed before a log record any more (`beforePersisting`
    /// still runs before the other writes: DNS answers, work files,
    /// notifications, markers, which are not cut back).
    public func bufferLogs() { scratch.bufferLogs() }

    /// Writes the world's buffered log records; each log's path under the
    /// scratch folder and its length in bytes.
    public func markWorld() throws -> [(name: String, length: Int)] { try scratch.markWorld() }

    /// Called before anything the run does is written under the scratch
    /// folder: a memory host's log record, a directory's change log line
    /// (but not with `bufferLogs`: those are written by the journal's
    /// commits, see there), the DNS answers, a work file, a notification, a
    /// crash marker. A dry run whose hosts are in memory gives its journal's
    /// `SQLiteJournal.commitHeld` here (with `holdIntents`): then nothing
    /// of its world reaches the disk before the intents that precede it,
    /// and the intents of steps that change nothing lasting (gates, the
    /// recorded-only steps) share the next commit instead of one each.
    public var beforePersisting: (@Sendable () throws -> Void)? {
        get { scratch.beforePersisting }
        set { scratch.beforePersisting = newValue }
    }

    /// Where this run's scratch hosts are (disk or memory, never automatic).
    public var hosts: Hosts { Hosts(rawValue: scratch.hosts.rawValue) ?? .disk }

    /// Hooks to give the engine: a `crash` fault kills the process right
    /// after the step's effect (once per journal: a resume does not crash
    /// again at the same place).
    public var hooks: EngineHooks {
        EngineHooks { [faults, scratch] key, index in
            guard faults.fault(for: key, memberIndex: index) == .crash,
                  scratch.once("crash-\(key.phase)-\(key.set ?? "")-\(key.index)") else { return }
            // What is held is committed first: killed after the effect,
            // the intent is on disk, the result is not.
            try? scratch.beforePersisting?()
            kill(getpid(), SIGKILL)
        }
    }

    // MARK: - Where the steps act

    public override func directory(_ element: String) throws -> (any DirectoryAccess)? {
        scratch.directory(element) == nil ? nil : ScratchDirectory(scratch: scratch, element: element)
    }

    public override func storeRoot(_ element: String) throws -> StoreRoot {
        try scratch.storeRoot(element)
    }

    public override func workFile(_ relative: String) throws -> URL {
        try scratch.file(relative)
    }

    public override func mx(_ domain: String) -> String? { scratch.mx(domain) }

    public override func setMX(_ domain: String, _ host: String) throws { try scratch.setMX(domain, host) }

    public override func recordNotification(_ line: String) throws { try scratch.notify(line) }

    /// Mail gates answered from the fixtures: a login succeeds for a user of
    /// the directory, an address is accepted when a user has it.
    public override func protocolGate(_ step: BoundStep) throws -> StepOutcome? {
        func pass(_ evidence: String, _ seconds: Double) -> StepOutcome {
            StepOutcome(status: .done, evidence: evidence, seconds: seconds)
        }
        func fail(_ evidence: String, _ seconds: Double) -> StepOutcome {
            StepOutcome(status: .failed, evidence: evidence, seconds: seconds)
        }
        switch step.operation.name {
        case "imap-login", "pop3-login":
            let user = step["user"]?.string ?? ""
            guard let (store, relative) = try mailbox(ofUser: user, member: step.member) else { return fail("no such user '\(user)'", timing.probe) }
            let (count, _) = mailboxSize(store: store, relative: relative)
            return pass("\(user) logged in; INBOX on \(store) holds \(count) messages", timing.probe)
        case "smtp-accept":
            let to = step["to"]?.string ?? ""
            return try user(withAddress: to) != nil
                ? pass("\(to) accepted", timing.probe) : fail("\(to): no such recipient", timing.probe)
        case "http-get":
            return pass("answered (a dry run does not connect)", timing.probe)
        default:
            return pass("nothing to check in a dry run", 0)
        }
    }

    /// Delivers a probe message where the recipient's redirect routes it.
    public override func smtpSend(_ step: BoundStep) throws -> StepOutcome {
        let to = step["to"]?.string ?? ""
        guard let (p, entry) = try user(withAddress: to), let (store, relative) = try mailbox(of: entry, point: p) else {
            throw StepFailure("\(to): no such recipient")
        }
        let location = try scratch.storeRoot(store).location(relative)
        try location.create(mode: 0o755)
        let maildir = try location.root.fileSystem.openDirectory(absolute: location.path, display: location.relative)
        for sub in ["cur", "new", "tmp"] { _ = try maildir.makeDirectory(sub, mode: 0o755) }
        let subject = step["subject"]?.string ?? "relevo probe"
        var generator = MaildirNameGenerator(host: "relevo-simulate", process: 1)
        let name = generator.next(time: FileTime(seconds: 1_700_000_000), size: nil, flags: nil)
        let message = "From: relevo@localhost\nTo: \(to)\nSubject: \(subject)\nMessage-ID: <probe-\(name.unique)@relevo>\n\nA probe sent by relevo simulate.\n"
        // The same name every run: a resumed rehearsal delivers it again.
        let new = try maildir.openDirectory("new")
        if try new.status(name.name) != nil { try new.unlink(name.name) }
        let file = try new.createExclusive(name.name, mode: 0o644)
        try Array(message.utf8).withUnsafeBytes { try file.write($0) }
        try file.close()
        return StepOutcome(status: .done, evidence: "delivered to \(store):\(relative)", bytes: Int64(message.utf8.count),
                           messages: 1, seconds: timing.probe)
    }

}

/// A scratch directory seen through `DirectoryAccess`: changes are applied
/// in memory and appended to its change log.
final class ScratchDirectory: DirectoryAccess {
    let scratch: Scratch
    let element: String

    init(scratch: Scratch, element: String) {
        self.scratch = scratch
        self.element = element
    }

    func entry(_ dn: DistinguishedName) throws -> Entry? {
        scratch.directory(element)?.entry(dn)
    }

    func search(base: DistinguishedName, filter: LDAPFilter) throws -> [Entry] {
        try scratch.directory(element)?.search(base: base, filter: filter) ?? []
    }

    func apply(_ record: LDIFChangeRecord) throws {
        try scratch.change(element, record)
    }

    func exportLDIF() throws -> (text: String, count: Int) {
        guard let directory = scratch.directory(element) else { return ("", 0) }
        return (directory.export(), directory.count)
    }
}
