import Foundation
import Testing
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoOperations
import RelevoPlan
import RelevoSimulation
import RelevoStore

/// Sets without messages: the scratch hosts in memory (and the journal
/// holding intents until the world writes) give the run the disk gives,
/// record for record; killed anywhere and resumed, it ends the same.
@Suite(.serialized) struct MemoryHostsTests {
    /// Synthetic fixtures without messages.
    static func fixtures(_ dir: TempFolder, users: Int = 25) throws -> URL {
        let folder = dir.url.appendingPathComponent("fixtures")
        _ = try FixtureSynth(users: users, messages: 0...0, seed: 11).write(to: folder.path)
        return folder
    }

    struct Run {
        var summary: RunSummary
        var steps: [String]
        var events: [String]
        var sets: [String]
        var hosts: SimulatedEnvironment.Hosts
    }

    func run(_ dir: TempFolder, _ name: String, hosts: SimulatedEnvironment.Hosts, fixtures: URL,
             inject: [String] = []) async throws -> Run {
        let text = try String(contentsOf: bundledPlan, encoding: .utf8)
        let result = Checker.check(PlanLoader.load(text: text, file: bundledPlan.path),
                                   baseDirectory: bundledPlan.deletingLastPathComponent().path)
        let plan = try #require(result.plan), graph = try #require(result.graph)
        var faults = FaultPlan(seed: 3)
        for spec in inject { try faults.add(spec) }
        let journalPath = dir.path(name)
        let env = try SimulatedEnvironment(plan: plan, scratch: URL(fileURLWithPath: journalPath + ".scratch"),
                                           fixtureBase: fixtures, faults: faults, hosts: hosts)
        let journal = try SQLiteJournal(path: journalPath, durability: .process)
        _ = try journal.open(run: RunInfo(mode: "simulate", planName: plan.name, planDigest: "test", startedAt: Date(),
                                          seed: 3, holder: "test:\(getpid())"))
        // As `relevo simulate` does: the world's logs written by the
        // journal's commits, every write held between them.
        if env.hosts == .memory {
            env.bufferLogs()
            #expect(try journal.attachWorld { try env.markWorld() })
            #expect(try journal.holdIntents())
            env.beforePersisting = { try journal.commitHeld() }
        }
        let engine = Engine(plan: plan, graph: graph, environment: env, journal: journal,
                            options: EngineOptions(approvals: .all, hooks: env.hooks))
        let summary = try await engine.run()
        var steps: [String] = []
        for phase in plan.phases {
            let scopes: [String?] = phase.isPerSet ? try journal.setStates(phase: phase.name.name).map(\.set) : [nil]
            for scope in scopes {
                for r in try journal.records(phase: phase.name.name, set: scope) {
                    let o = r.outcome
                    steps.append("\(r.key.phase) \(r.key.set ?? "-") \(r.key.index) \(r.key.operation) \(r.key.undo) "
                                 + "\(o?.status.rawValue ?? "-") \(o?.evidence ?? "") \(o?.bytes ?? 0) \(o?.messages ?? 0) \(o?.seconds ?? 0)")
                }
            }
        }
        let events = try journal.events().map { "\($0.kind) \($0.at) \($0.set ?? "") \($0.operation ?? "") \($0.message)" }
        var sets: [String] = []
        for phase in plan.phases {
            sets += try journal.setStates(phase: phase.name.name).map { "\(phase.name.name) \($0.set ?? "-") \($0.state)" }
        }
        try journal.close()
        return Run(summary: summary, steps: steps, events: events, sets: sets, hosts: env.hosts)
    }

    @Test(arguments: [[String](), ["users.copy@#7=fail"], ["users.maildir-superset@#3=fail", "users.chown@#9=timeout"]])
    func memoryHostsRunAsTheDiskDoes(_ inject: [String]) async throws {
        let dir = TempFolder()
        let fixtures = try Self.fixtures(dir)
        let disk = try await run(dir, "disk", hosts: .disk, fixtures: fixtures, inject: inject)
        let memory = try await run(dir, "memory", hosts: .automatic, fixtures: fixtures, inject: inject)
        #expect(disk.hosts == .disk)
        #expect(memory.hosts == .memory, "fixtures without messages are kept in memory")
        #expect(memory.summary == disk.summary)
        #expect(memory.steps == disk.steps)
        #expect(memory.events == disk.events)
        #expect(memory.sets == disk.sets)
        #expect(disk.steps.count > (inject.isEmpty ? 300 : 30))
        if !inject.isEmpty { #expect(disk.summary.halted) }
    }

    @Test func theBundledFixturesStayOnDisk() throws {
        let dir = TempFolder()
        let text = try String(contentsOf: bundledPlan, encoding: .utf8)
        let plan = try #require(Checker.check(PlanLoader.load(text: text, file: bundledPlan.path),
                                              baseDirectory: bundledPlan.deletingLastPathComponent().path).plan)
        let env = try SimulatedEnvironment(plan: plan, scratch: dir.url.appendingPathComponent("s"),
                                           fixtureBase: repositoryRoot.appendingPathComponent("examples/exalumno"),
                                           faults: FaultPlan(seed: 1))
        #expect(env.hosts == .disk, "their Maildirs hold messages")
    }

    /// The new host's tree as its memory file system's log gives it back.
    func newHost(_ journal: String) throws -> [String] {
        let fs = try MemoryFileSystem(name: "check", log: journal + ".scratch/hosts/xalumno.changes")
        var paths: [String] = []
        func walk(_ directory: any StoreDirectory, _ prefix: String) throws {
            for (entry, status) in try directory.listing() {
                let path = prefix + "/" + (entry.text ?? "?")
                paths.append("\(path) \(status?.kind.rawValue ?? "")")
                if status?.kind == .directory { try walk(try directory.openDirectory(entry.text ?? ""), path) }
            }
        }
        try walk(try fs.openDirectory(absolute: "/", display: ""), "")
        return paths
    }

    /// The real process, killed by crash faults (right after an effect) and
    /// by SIGKILL at seeded moments, then resumed: the same directory, the
    /// same new host, the same counts as a run never interrupted.
    @Test func killedAndResumedEndsTheSame() throws {
        let dir = TempFolder()
        let fixtures = try Self.fixtures(dir, users: 120).path
        let plan = bundledPlan.path
        func simulate(_ journal: String, _ extra: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try runRelevo(["simulate", plan, "--fixtures", fixtures, "--approve", "all", "--journal", journal,
                           "--format", "json"] + extra)
        }
        let reference = try simulate(dir.path("ref"), [])
        #expect(reference.status == 0, "\(reference.stderr)")
        // The counts of the summary (its time estimate depends on where
        // the run was cut, as CrashResumeTests says).
        func counts(_ stdout: String) throws -> [String: [String: Int]] {
            let json = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] ?? [:]
            return ["sets": json["sets"] as? [String: Int] ?? [:], "gates": json["gates"] as? [String: Int] ?? [:]]
        }
        let expected = (try attributes("mailHost", scratch: URL(fileURLWithPath: dir.path("ref") + ".scratch")),
                        try newHost(dir.path("ref")), try counts(reference.stdout))
        #expect(expected.2["sets"]?["migrated"] == 120)
        #expect(expected.1.count > 200)

        var rng = SplitMix(seed: 20261204)
        let steps = ["users.copy", "users.redirect", "users.reload", "users.chown", "users.maildir-superset",
                     "users.redirect-is", "directory.ldap-import", "rehearsal.smtp-send"]
        var killedFromOutside = 0
        for round in 0..<6 {
            let journal = dir.path("crash\(round)")
            var status: Int32
            if round % 2 == 0 {
                let step = steps[Int(rng.next() % UInt64(steps.count))]
                let spec = step.hasPrefix("users.") ? "\(step)@#\(rng.next() % 120)=crash" : "\(step)=crash"
                status = try simulate(journal, ["--inject", spec]).status
                #expect(status == 137 || status == 9 || status == -1, "round \(round) (\(spec)): not killed (\(status))")
            } else {
                // SIGKILL from outside, a seeded number of milliseconds in.
                let process = Process()
                process.executableURL = URL(fileURLWithPath: relevoBinary())
                process.arguments = ["simulate", plan, "--fixtures", fixtures, "--approve", "all", "--journal", journal,
                                     "--format", "json"]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                usleep(UInt32(40_000 + rng.next() % 260_000))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                if process.terminationReason == .uncaughtSignal { killedFromOutside += 1 }
            }
            var last = try simulate(journal, ["--resume"])
            var resumes = 1
            while last.status != 0 && resumes < 3 {
                last = try simulate(journal, ["--resume"])
                resumes += 1
            }
            #expect(last.status == 0, "round \(round): \(last.stderr.suffix(400))")
            #expect(try attributes("mailHost", scratch: URL(fileURLWithPath: journal + ".scratch")) == expected.0, "round \(round)")
            #expect(try newHost(journal) == expected.1, "round \(round)")
            #expect(try counts(last.stdout) == expected.2, "round \(round)")
        }
        #expect(killedFromOutside >= 2, "the SIGKILLs came before the runs ended")
    }
}
