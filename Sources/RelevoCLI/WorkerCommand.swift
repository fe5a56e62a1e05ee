import Foundation
import RelevoBasics
import RelevoCheck
import RelevoEngine
import RelevoLive
import RelevoOperations
import RelevoPlan
import RelevoPostgres

/// `relevo worker PLAN --journal URL`: one worker of a run's work queue
/// (docs/scale.md). It claims the sets of per-set phases from the
/// PostgreSQL journal under leases and runs them; the run's controller
/// (`relevo run --coordinate` or `--workers N`) runs the global phases.
enum WorkerCommand {
    static let spec = CommandSpec(
        name: "worker", summary: "run the sets of a run's work queue (a PostgreSQL journal) under leases",
        usage: ["worker PLAN --journal URL [--hosts HOST,...] [--concurrency N] [--lease SECONDS] [--name NAME]"],
        description: [
            """
              Joins the run recorded in the PostgreSQL journal URL (started by
              `relevo run PLAN --journal URL --coordinate`, which holds the run lock,
              runs the global phases and fixes each per-set phase's member list), and
              runs that run's sets: it claims one (SELECT ... FOR UPDATE SKIP LOCKED),
              holds it under a lease renewed while it works, runs its steps and gates
              as the run would, and releases it. A set whose worker vanished is
              claimable again once its lease expires; its new worker reads back what
              was in flight, as --resume does.
            """,
            """
              Every journal write checks the lease in the same transaction: a worker
              whose lease expired or whose connection was cut stops at its next step
              (exit 3). The plan's per-host concurrency, each phase's concurrency and
              its canaries hold across all workers. The worker exits 0 when every
              per-set phase's sets are finished, or when no controller holds the run.
            """,
        ],
        arguments: [("PLAN", "the plan the run executes (its digest must match the journal's)")],
        options: [
            OptionSpec(name: "journal", valueName: "URL", help: "the run's postgresql:// journal (required)"),
            OptionSpec(name: "hosts", valueName: "HOSTS",
                       help: "claim only sets of phases whose hosts are all in this comma-separated list"),
            OptionSpec(name: "concurrency", valueName: "N", help: "sets run at once by this worker (default 1)"),
            OptionSpec(name: "lease", valueName: "SECONDS", help: "lease length (default 30; renewed every third of it)"),
            OptionSpec(name: "name", valueName: "NAME", help: "the worker's name in the journal (default HOST:PID)"),
            .help,
        ],
        output: ["One line per set on stderr; a summary on stdout when the worker stops."],
        examples: [
            ("relevo run live.yaml --journal 'postgresql://relevo@db:5432/relevo?run=may&password=env:PGPW' --coordinate --yes",
             "the controller"),
            ("relevo worker live.yaml --journal 'postgresql://relevo@db:5432/relevo?run=may&password=env:PGPW' --concurrency 4",
             "one worker (start as many as wanted, on any machine)"),
        ],
        exits: [.success, .planErrors, .usage, .halted, .unreadable])

    struct Options {
        var concurrency = 1
        var lease = 30.0
        var hosts: Set<String>?
        var name: String
    }

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo worker") } catch {
            console.error(error.message, help: error.help)
            console.err(Help.usageHint(spec))
            return .usage
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard parsed.positionals.count == 1, let planPath = parsed.positionals.first else {
            console.error(parsed.positionals.isEmpty ? "missing PLAN" : "worker takes one PLAN")
            console.err(Help.usageHint(spec))
            return .usage
        }
        guard let url = parsed.value("journal"), JournalLocator.isPostgres(url) else {
            console.error("worker needs --journal postgresql://...: the run's work queue", help: "see docs/scale.md")
            return .usage
        }
        var options = Options(name: "\(ProcessInfo.processInfo.hostName):\(getpid())")
        if let n = parsed.value("concurrency") {
            guard let v = Int(n), (1...64).contains(v) else {
                console.error("--concurrency takes a count from 1 to 64, not '\(n)'")
                return .usage
            }
            options.concurrency = v
        }
        if let s = parsed.value("lease") {
            guard let v = Double(s), v >= 1, v <= 3600 else {
                console.error("--lease takes seconds from 1 to 3600, not '\(s)'")
                return .usage
            }
            options.lease = v
        }
        if let h = parsed.value("hosts") { options.hosts = Set(h.split(separator: ",").map(String.init)) }
        if let n = parsed.value("name") { options.name = n }

        let plan: Plan, graph: PlanGraph, digest: String
        switch RunPreparation.checkedPlan(planPath, console: &console) {
        case .success(let checked): (plan, graph, digest) = checked
        case .failure(let fail): return fail.status
        }
        let planFolder = (planPath as NSString).deletingLastPathComponent.nonEmpty ?? "."
        let journal: PostgresJournal
        let info: RunInfo
        do {
            journal = try PostgresJournal(url: url, access: .worker(owner: options.name))
            info = try journal.open(run: RunInfo(mode: "", planName: plan.name, planDigest: digest, startedAt: Date(),
                                                 seed: 0, holder: options.name))
        } catch {
            console.error("\(url): \(error)")
            return .unreadable
        }
        defer { try? journal.close() }
        // A dry run's state (its scratch copy, its in-memory directories) is
        // one process's: only a live run's sets can be spread over workers.
        guard info.mode == "run" else {
            console.error("run '\(journal.location.run)' is a simulation; workers run the sets of live runs only",
                          help: "rehearse with `relevo simulate` alone")
            return .usage
        }
        let environment: any Environment
        do {
            let work = try JournalLocator.localBase(url) + ".worker-\(getpid()).work"
            environment = MeasuredEnvironment(try LiveEnvironment(plan: plan, planDirectory: planFolder,
                                                                  workDirectory: URL(fileURLWithPath: work)))
        } catch {
            console.error("\(error)")
            return .unreadable
        }
        let engine = Engine(plan: plan, graph: graph, environment: environment, journal: journal,
                            options: EngineOptions(approvals: .given([]), realTime: true))
        let queue = WorkQueue(journal: journal, owner: options.name, leaseSeconds: options.lease)
        let phases = (graph.phaseOrder.isEmpty ? plan.phases.map(\.name.name) : graph.phaseOrder)
            .compactMap { plan.phase($0) }
            .filter { $0.isPerSet }
            .filter { phase in
                options.hosts.map { Set(Engine.hostLimits(plan: plan, phase: phase).keys).isSubset(of: $0) } ?? true
            }
        let log = console.liveProgress
        let name = options.name
        let counts = Counts()
        let started = ContinuousClock.now
        let (concurrency, lease) = (options.concurrency, options.lease)
        let outcome = Blocking.run {
            try queue.register()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<concurrency {
                    group.addTask {
                        try await runLane(lane, engine: engine, queue: queue, plan: plan, phases: phases, lease: lease,
                                          counts: counts) { line in log?("relevo: worker \(name): \(line)\n") }
                    }
                }
                try await group.waitForAll()
            }
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds)
            + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
        let (done, failed) = counts.get()
        try? queue.heartbeat(state: (try? outcome.get()) == nil ? "stopped" : "finished")
        console.out("relevo worker \(name)\n  sets      \(done) migrated, \(failed) failed, in \(Duration.text(seconds))"
                    + String(format: " (%.2f sets/s)", seconds > 0 ? Double(done + failed) / seconds : 0) + "\n")
        if case .failure(let error) = outcome {
            console.error("worker \(name) stopped: \(error)",
                          help: "its set is claimable again once its lease expires; another worker finishes it")
            return .halted
        }
        return .success
    }

    final class Counts: @unchecked Sendable {
        private let lock = NSLock()
        private var done = 0, failed = 0
        func add(_ state: SetState) {
            lock.lock()
            defer { lock.unlock() }
            if state == .migrated { done += 1 } else { failed += 1 }
        }
        func get() -> (Int, Int) {
            lock.lock()
            defer { lock.unlock() }
            return (done, failed)
        }
    }

    /// One lane: claim, run, release, until the run has nothing left for it.
    static func runLane(_ lane: Int, engine: Engine, queue: WorkQueue, plan: Plan, phases: [Phase], lease: Double,
                        counts: Counts, log: @escaping @Sendable (String) -> Void) async throws {
        while true {
            var claim: WorkQueue.Claim?
            for phase in phases {
                let name = phase.name.name
                if try await engine.budgetExceeded(phase: name) != nil { continue }
                claim = try queue.claim(phase: name, hosts: Engine.hostLimits(plan: plan, phase: phase),
                                        phaseLimit: phase.concurrency ?? 1, canary: phase.canary ?? 0)
                if claim != nil { break }
            }
            guard let claim else {
                if try finished(queue, phases) { return }
                try queue.heartbeat()
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            log("\(claim.phase)/\(claim.set) claimed" + (claim.claims > 1 ? " (taken over, claim \(claim.claims))" : ""))
            // Renewed every third of the lease while the set runs.
            let renewer = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(Int(lease * 1000 / 3)))
                    guard try queue.renew(claim) else { return }
                }
            }
            let state: SetState
            do {
                state = try await engine.runClaimedSet(phase: claim.phase, set: claim.set, lane: lane)
            } catch {
                renewer.cancel()
                throw error
            }
            renewer.cancel()
            guard state != .running else {
                // Waiting for an approval only the controller gives: the lease
                // is left to expire, and the set is claimed again after it.
                log("\(claim.phase)/\(claim.set) waits for an approval")
                continue
            }
            try queue.release(claim, state: state)
            counts.add(state)
            log("\(claim.phase)/\(claim.set) \(state.rawValue)")
        }
    }

    /// Every phase listed and finished, or no controller left to list more.
    static func finished(_ queue: WorkQueue, _ phases: [Phase]) throws -> Bool {
        var all = true
        for phase in phases {
            let progress = try queue.progress(phase: phase.name.name)
            if !progress.listed || progress.unfinished > 0 { all = false }
        }
        if all { return true }
        return try !queue.controllerPresent()
    }
}
