import Foundation
import RelevoEngine
import RelevoPlan

/// The control commands of the mail servers an element names (`server`,
/// `config`), as argument vectors: what `reload`, `flush-cache`, `kick` and
/// `flush-queue` run on the element's host. Never a shell: a user name from
/// the directory stays one argument (and one starting with `-` is refused).
public enum MailServerControl {
    public enum Action: Equatable, Sendable {
        case reload
        case flushCache(user: String)
        case kick(user: String)
        case flushQueue
        case listQueue
    }

    /// The vector for `action` on `software` configured by `config`, or a
    /// reason why that software has no such command.
    public static func argv(_ software: MailServerSoftware, config: String?, _ action: Action) -> Result<[String], StepFailure> {
        switch (software, action) {
        case (.postfix, .reload):
            return .success(["postfix"] + option("-c", config) + ["reload"])
        case (.postfix, .flushQueue):
            return .success(["postqueue"] + option("-c", config) + ["-f"])
        case (.postfix, .listQueue):
            return .success(["postqueue"] + option("-c", config) + ["-j"])
        case (.dovecot, .reload):
            return .success(["doveadm"] + option("-c", config) + ["reload"])
        case (.dovecot, .flushCache(let user)):
            return checked(user).map { ["doveadm"] + option("-c", config) + ["auth", "cache", "flush", $0] }
        case (.dovecot, .kick(let user)):
            return checked(user).map { ["doveadm"] + option("-c", config) + ["kick", $0] }
        default:
            return .failure(StepFailure("\(software.rawValue) has no command for \(action)"))
        }
    }

    static func option(_ flag: String, _ value: String?) -> [String] {
        guard let value, !value.isEmpty else { return [] }
        return [flag, value]
    }

    /// A user name given to doveadm: one argument, never an option.
    static func checked(_ user: String) -> Result<String, StepFailure> {
        if user.isEmpty { return .failure(StepFailure("no user")) }
        if user.hasPrefix("-") { return .failure(StepFailure("user '\(user)' starts with '-'")) }
        return .success(user)
    }

    /// The queue entries of `postqueue -j` (one JSON object a line) that
    /// still have `recipient` (any recipient when nil) to deliver to:
    /// their queue ids with the queue they are in.
    public static func queued(in jsonLines: String, for recipient: String?) -> [String] {
        var found: [String] = []
        for line in jsonLines.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            let recipients = (object["recipients"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
            if let recipient, !recipients.contains(where: { $0.lowercased() == recipient.lowercased() }) { continue }
            found.append("\(object["queue_id"] as? String ?? "?") (\(object["queue_name"] as? String ?? "?"))")
        }
        return found
    }
}

extension PlanEnvironment {
    /// The host, software and configuration of the mail element a step names.
    func mailServer(_ step: BoundStep) throws -> (element: String, host: String, software: MailServerSoftware, config: String?) {
        guard let name = step["element"]?.string, let element = plan.element(name), let host = element.host?.name else {
            throw StepFailure("\(step.operation.name): no mail element on a host")
        }
        guard let software = MailServerSoftware.of(element) else {
            throw StepFailure("\(name): unknown `server` '\(element.parameters["server"]?.string ?? "")'")
        }
        return (name, host, software, element.parameters["config"]?.string)
    }

    /// `reload`, `flush-cache`, `kick`: one control command on the element's host.
    func mailServerStep(_ step: BoundStep) throws -> StepOutcome {
        let server = try mailServer(step)
        let user = step["user"]?.string ?? ""
        let action: MailServerControl.Action
        switch step.operation.name {
        case "reload": action = .reload
        case "flush-cache": action = .flushCache(user: user)
        default: action = .kick(user: user)
        }
        let argv = try MailServerControl.argv(server.software, config: server.config, action).get()
        let run = { try self.controlCommand(argv, on: server.host, allowing: self.acceptedExits(action)) }
        // Sets in flight at once share a server's reloads: one at a time,
        // at least `reloadSpacing` apart, and one that started after this
        // set asked serves it too.
        let result = action == .reload
            ? try ReloadCoalescer.shared.reload("\(server.host)\u{0}\(argv.joined(separator: "\u{0}"))",
                                                spacing: Self.reloadSpacing, run)
            : try run()
        guard let outcome = result else {
            return StepOutcome(status: .done, evidence: "\(server.host): `\(argv.joined(separator: " "))` (recorded, not run, in a dry run)",
                               seconds: timing.probe)
        }
        return outcome
    }

    /// Exit statuses that mean success: `doveadm kick` exits 68 (EX_NOUSER)
    /// when the user had no session open, which is what a kick wants.
    func acceptedExits(_ action: MailServerControl.Action) -> Set<Int32> {
        if case .kick = action { return [0, 68] }
        return [0]
    }

    /// How long a control command may take on its host (coreutils'
    /// `timeout`): a wedged server fails the step instead of holding the run.
    static var controlTimeout: Int { 60 }

    /// The least time between two reloads of one server that run a command
    /// (see `ReloadCoalescer`): sets in flight meanwhile share the next one.
    static var reloadSpacing: Double { 1 }

    /// Runs a control command under `timeout` on the host; nil where
    /// commands are not run (dry run).
    func hostCommand(_ argv: [String], on host: String) throws -> HostCommandResult? {
        try runCommand(["timeout", "-k", "5", String(Self.controlTimeout)] + argv, on: host)
    }

    /// Runs a control command; nil where commands are not run (dry run).
    func controlCommand(_ argv: [String], on host: String, allowing accepted: Set<Int32> = [0]) throws -> StepOutcome? {
        let shown = argv.joined(separator: " ")
        guard let result = try hostCommand(argv, on: host) else { return nil }
        guard let status = result.exitStatus, accepted.contains(status) else {
            if result.exitStatus == 124 || result.exitStatus == 137 {
                throw StepFailure("\(host): `\(shown)` did not finish within \(Self.controlTimeout) s")
            }
            let ended = result.exitStatus.map { "exited \($0)" } ?? "ended by \(result.signal ?? "a signal")"
            throw StepFailure("\(host): `\(shown)` \(ended)" + (result.firstError.isEmpty ? "" : ": " + result.firstError))
        }
        // What the server said (`no users kicked`, `1 cache entries flushed`).
        let said = result.output.split(separator: "\n").first.map { ": " + $0 } ?? ""
        return StepOutcome(status: .done, evidence: "\(host): `\(shown)` exited \(status)\(said)", seconds: timing.probe)
    }

    /// `flush-queue`: retry deferred mail now, then wait until the queue
    /// holds nothing for the recipient (or at all), within `within`.
    func flushQueue(_ step: BoundStep) throws -> StepOutcome {
        let server = try mailServer(step)
        let recipient = step["recipient"]?.string
        let within: Double = { if case .duration(let d)? = step["within"] { return d } else { return 60 } }()
        let flush = try MailServerControl.argv(server.software, config: server.config, .flushQueue).get()
        let list = try MailServerControl.argv(server.software, config: server.config, .listQueue).get()
        let whom = recipient.map { "for \($0)" } ?? "at all"
        let start = Date()
        var flushed = false
        var first: Int?
        var problem = ""
        while true {
            // Both commands may fail for a moment while the server reloads
            // ("mail system is down"): they are tried again until `within`.
            if !flushed {
                guard let result = try hostCommand(flush, on: server.host) else {
                    return StepOutcome(status: .done, evidence: "\(server.host): `\(flush.joined(separator: " "))`, then `\(list.joined(separator: " "))` until nothing is queued (recorded, not run, in a dry run)",
                                       seconds: timing.probe)
                }
                flushed = result.exitStatus == 0
                if !flushed { problem = "`\(flush.joined(separator: " "))` failed: \(result.firstError)" }
            }
            if flushed, let result = try hostCommand(list, on: server.host) {
                if result.exitStatus == 0 {
                    let queued = MailServerControl.queued(in: result.output, for: recipient)
                    if first == nil { first = queued.count }
                    if queued.isEmpty {
                        return StepOutcome(status: .done,
                                           evidence: "\(server.host): flushed \(server.element)'s queue; \(first ?? 0) queued \(whom) at first, none after \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
                    }
                    problem = "\(queued.count) messages still queued \(whom) in \(server.element) after \(Int(within)) s: "
                        + queued.prefix(5).joined(separator: ", ")
                } else {
                    problem = "`\(list.joined(separator: " "))` failed: \(result.firstError)"
                }
            }
            guard let interval = queuePollInterval, Date().timeIntervalSince(start) < within else {
                throw StepFailure("\(server.host): " + problem)
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}

/// Reloads of one server by the sets in flight at once (each in a lane of
/// its own): at most one runs at a time, and a set whose redirect came
/// before a reload started is served by that reload when it ends, instead
/// of starting another. Concurrent `postfix reload`s are what wedged the
/// testbed's Postfix (its master blocked on the log socket while postlogd
/// was being restarted); fewer reloads are kinder to a real server too.
///
/// Real reloads of one server also start at least `spacing` seconds apart
/// (a dry run's, which run nothing, never wait): each `postfix reload`
/// restarts the queue manager, which puts its active queue back into the
/// incoming queue. 4.5 reloads a second (four lanes on the real-time
/// testbed) had a message activated by five queue managers in turn, 8 s
/// late, and delivered twice: the last manager handed it out again while
/// the previous one's delivery agent was still writing it. A set that
/// asks while a reload waits for its turn is served by that reload.
final class ReloadCoalescer: @unchecked Sendable {
    static let shared = ReloadCoalescer()

    private struct State {
        var started = 0
        var finished = 0
        var running = false
        /// The running reload is past its wait: its command has begun.
        var begun = false
        /// When the last reload that ran a command began.
        var lastRealStart: Date?
        var last: Result<StepOutcome?, Error> = .success(nil)
    }
    // @unchecked Sendable: `states` is guarded by `condition`.
    private let condition = NSCondition()
    private var states: [String: State] = [:]

    /// Runs `body` for `key`, or waits for a run that started after this
    /// call; a run waits until `spacing` seconds have passed since the last
    /// one that ran a command (returned an outcome or failed) began.
    func reload(_ key: String, spacing: Double = 0, _ body: () throws -> StepOutcome?) throws -> StepOutcome? {
        condition.lock()
        // A reload this call may rely on must start after it was asked for:
        // the one waiting for its turn, if any, else the next.
        let current = states[key] ?? State()
        let needed = current.running && !current.begun ? current.started : current.started + 1
        while true {
            let state = states[key] ?? State()
            if state.finished >= needed {
                condition.unlock()
                var shared = try state.last.get()
                shared?.evidence += " (one reload for the sets in flight)"
                return shared
            }
            if !state.running { break }
            condition.wait()
        }
        states[key, default: State()].started += 1
        states[key]!.running = true
        states[key]!.begun = false
        let number = states[key]!.started
        let wait = states[key]!.lastRealStart.map { spacing - Date().timeIntervalSince($0) } ?? 0
        condition.unlock()
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        condition.lock()
        states[key]!.begun = true
        condition.unlock()
        let begun = Date()
        let result = Result { try body() }
        condition.lock()
        states[key]!.running = false
        states[key]!.finished = number
        states[key]!.last = result
        // Only a reload that ran a command (an outcome, or a failure) spaces the next one.
        let ranNothing: Bool
        if case .success(nil) = result { ranNothing = true } else { ranNothing = false }
        if !ranNothing { states[key]!.lastRealStart = begun }
        condition.broadcast()
        condition.unlock()
        return try result.get()
    }
}
