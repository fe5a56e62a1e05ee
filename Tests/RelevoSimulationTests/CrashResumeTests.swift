import RelevoBasics
import Foundation
import Testing
import RelevoEngine
import RelevoJournal

/// The real `relevo` process, killed with SIGKILL at seeded random points
/// and resumed, ends where an uninterrupted run ends: same directory, same
/// mailboxes, same counts.
@Suite(.serialized) struct CrashResumeTests {
    struct Final: Equatable {
        var mailHosts: [String: String]
        var newHost: [String: Data]
        var sets: [String: Int]
        var gates: [String: Int]

        /// What differs, briefly (the states are large).
        func differences(from other: Final) -> String {
            var out: [String] = []
            let hosts = Set(mailHosts.keys).union(other.mailHosts.keys).filter { mailHosts[$0] != other.mailHosts[$0] }
            if !hosts.isEmpty { out.append("mailHost differs for \(hosts.sorted().prefix(5).joined(separator: ", ")) (\(hosts.count) in all)") }
            let files = Set(newHost.keys).union(other.newHost.keys).filter { newHost[$0] != other.newHost[$0] }
            if !files.isEmpty { out.append("new host files differ: \(files.sorted().prefix(3).joined(separator: ", ")) (\(files.count) in all)") }
            if sets != other.sets { out.append("sets \(sets) vs \(other.sets)") }
            if gates != other.gates { out.append("gates \(gates) vs \(other.gates)") }
            return out.joined(separator: "; ")
        }
    }

    func final(_ dir: TempFolder, _ journal: String, stdout: String) throws -> Final {
        let scratch = URL(fileURLWithPath: journal + ".scratch")
        let json = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] ?? [:]
        return Final(mailHosts: try attributes("mailHost", scratch: scratch),
                     newHost: tree(scratch.appendingPathComponent("hosts/xalumno")),
                     sets: json["sets"] as? [String: Int] ?? [:],
                     gates: json["gates"] as? [String: Int] ?? [:])
    }

    @Test func killedAtRandomPointsAndResumedEndsTheSame() throws {
        let dir = TempFolder()
        let plan = bundledPlan.path
        let reference = try runRelevo(["simulate", plan, "--approve", "all", "--journal", dir.path("ref"), "--format", "json"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try final(dir, dir.path("ref"), stdout: reference.stdout)
        #expect(expected.sets["migrated"] ?? 0 >= 20)

        // Crash points: a step of a user (by run index), chosen by a seeded generator.
        var rng = SplitMix(seed: 20261203)
        let steps = ["users.copy", "users.redirect", "users.chown", "users.maildir-superset", "directory.ldap-import",
                     "rehearsal.smtp-send"]
        for round in 0..<8 {
            let journal = dir.path("crash\(round)")
            let step = steps[Int(rng.next() % UInt64(steps.count))]
            let index = Int(rng.next() % 20)
            let spec = step.hasPrefix("users.") ? "\(step)@#\(index)=crash" : "\(step)=crash"
            let first = try runRelevo(["simulate", plan, "--approve", "all", "--journal", journal, "--inject", spec,
                                       "--format", "json"])
            #expect(first.status == 128 + 9 || first.status == 9 || first.status == -1 || first.status == 137,
                    "round \(round) (\(spec)) was not killed: \(first.status) \(first.stderr)")
            // Resume, possibly crashing again at a later point, until it finishes.
            var last = first
            var resumes = 0
            repeat {
                last = try runRelevo(["simulate", plan, "--approve", "all", "--journal", journal, "--resume", "--format", "json",
                                      "--inject", "users.copy@#\((index + 3) % 20)=crash"])
                resumes += 1
            } while last.status != 0 && resumes < 4
            #expect(last.status == 0, "round \(round) (\(spec)): \(last.stderr)")
            let got = try final(dir, journal, stdout: last.stdout)
            #expect(got == expected, "round \(round) (\(spec)) ended differently: \(got.differences(from: expected))")
        }
    }

    @Test func aSecondRunOnTheSameJournalIsRefusedWithTheHolderNamed() throws {
        let dir = TempFolder()
        let journal = dir.path("busy")
        // A holder that keeps the run lock, as a running relevo would.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>\"$0.lock\"; /usr/bin/flock -n 9 || exit 1; echo 'otherhost:4242' > \"$0.lock\"; exec sleep 30", journal]
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        var tries = 0
        while !(FileManager.default.contents(atPath: journal + ".lock").map { !$0.isEmpty } ?? false) && tries < 100 {
            usleep(50_000)
            tries += 1
        }
        let second = try runRelevo(["simulate", bundledPlan.path, "--approve", "all", "--journal", journal])
        #expect(second.status == 5, "\(second.stderr)")
        #expect(second.stderr.contains("otherhost:4242"))
    }
}

/// SplitMix64 from RelevoBasics: seeded, the same on every machine.
typealias SplitMix = SplitMix64
