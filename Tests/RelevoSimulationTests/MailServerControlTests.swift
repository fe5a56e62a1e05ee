import RelevoEngine
@testable import RelevoOperations
import RelevoPlan
import Foundation
import Testing

/// The argument vectors of the mail-server steps and the reading of
/// Postfix's queue listing (the live tests run them on the real servers).
@Suite struct MailServerControlTests {
    func argv(_ software: MailServerSoftware, _ config: String?, _ action: MailServerControl.Action) throws -> [String] {
        try MailServerControl.argv(software, config: config, action).get()
    }

    @Test func vectorsNameTheConfiguration() throws {
        #expect(try argv(.postfix, "/etc/postfix-b", .reload) == ["postfix", "-c", "/etc/postfix-b", "reload"])
        #expect(try argv(.postfix, nil, .reload) == ["postfix", "reload"])
        #expect(try argv(.postfix, "/etc/p", .flushQueue) == ["postqueue", "-c", "/etc/p", "-f"])
        #expect(try argv(.dovecot, "/etc/d.conf", .kick(user: "ceres")) == ["doveadm", "-c", "/etc/d.conf", "kick", "ceres"])
        #expect(try argv(.dovecot, nil, .flushCache(user: "a b;c")) == ["doveadm", "auth", "cache", "flush", "a b;c"])
    }

    @Test func refusesWhatTheSoftwareCannotDoAndOptionLikeUsers() {
        #expect(throws: StepFailure.self) { try argv(.postfix, nil, .kick(user: "ceres")) }
        #expect(throws: StepFailure.self) { try argv(.dovecot, nil, .flushQueue) }
        #expect(throws: StepFailure.self) { try argv(.dovecot, nil, .kick(user: "-A")) }
        #expect(throws: StepFailure.self) { try argv(.dovecot, nil, .flushCache(user: "")) }
    }

    @Test func readsPostqueueJSON() {
        let listing = """
            {"queue_name": "deferred", "queue_id": "4A1B2C", "recipients": [{"address": "Ceres@exalumno.unam.mx", "delay_reason": "Permission denied"}]}
            {"queue_name": "active", "queue_id": "5D6E7F", "recipients": [{"address": "vesta@exalumno.unam.mx"}]}
            not json
            """
        #expect(MailServerControl.queued(in: listing, for: "ceres@exalumno.unam.mx") == ["4A1B2C (deferred)"])
        #expect(MailServerControl.queued(in: listing, for: "juno@exalumno.unam.mx").isEmpty)
        #expect(MailServerControl.queued(in: listing, for: nil) == ["4A1B2C (deferred)", "5D6E7F (active)"])
        #expect(MailServerControl.queued(in: "", for: nil).isEmpty)
    }

    /// Eight sets asking to reload one server at once: never two reloads at
    /// a time, fewer reloads than sets, every set served by a reload that
    /// started after it asked.
    @Test func concurrentReloadsOfOneServerAreSharedAndSerial() throws {
        final class Record: @unchecked Sendable {
            let lock = NSLock()
            var running = 0, most = 0, runs = 0
            var requested: [Int: Double] = [:], served: [Int: Double] = [:]
        }
        let record = Record()
        let coalescer = ReloadCoalescer()
        let group = DispatchGroup()
        for i in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                let asked = Date().timeIntervalSince1970
                let outcome = try? coalescer.reload("neon\u{0}postfix reload") {
                    let start = Date().timeIntervalSince1970
                    record.lock.withLock {
                        record.running += 1
                        record.most = max(record.most, record.running)
                        record.runs += 1
                    }
                    Thread.sleep(forTimeInterval: 0.05)
                    record.lock.withLock { record.running -= 1 }
                    return StepOutcome(status: .done, evidence: "started \(start)")
                }
                let started = outcome.flatMap { $0.evidence.split(separator: " ").dropFirst().first }.flatMap { Double($0) }
                record.lock.withLock {
                    record.requested[i] = asked
                    record.served[i] = started
                }
                group.leave()
            }
        }
        group.wait()
        #expect(record.most == 1)
        #expect(record.runs < 8 && record.runs >= 2, "\(record.runs) reloads")
        for i in 0..<8 {
            let start = try #require(record.served[i], "set \(i) got no reload")
            #expect(start >= record.requested[i]!, "set \(i) was served by a reload that started before it asked")
        }
    }

    /// Real reloads of one server start `spacing` apart; sets that ask
    /// while one waits for its turn are served by it; a dry run's reloads
    /// (no command run: nil) never wait.
    @Test func realReloadsOfOneServerAreSpacedAndDryOnesNeverWait() throws {
        let spacing = 0.4
        let coalescer = ReloadCoalescer()
        var starts: [Date] = []
        for _ in 0..<3 {
            _ = try coalescer.reload("xalumno\u{0}postfix reload", spacing: spacing) {
                starts.append(Date())
                return StepOutcome(status: .done, evidence: "reloaded")
            }
        }
        for (a, b) in zip(starts, starts.dropFirst()) {
            #expect(b.timeIntervalSince(a) >= spacing - 0.001, "\(b.timeIntervalSince(a)) s apart")
        }
        // Another server's reloads do not wait for this one's.
        let otherStart = Date()
        _ = try coalescer.reload("neon\u{0}postfix reload", spacing: 30) { StepOutcome(status: .done, evidence: "") }
        #expect(Date().timeIntervalSince(otherStart) < 30)

        // Dry: nothing runs, nothing waits (a 30 s spacing would show).
        let dry = ReloadCoalescer()
        let dryStart = Date()
        for _ in 0..<3 {
            #expect(try dry.reload("neon\u{0}postfix reload", spacing: 30) { nil } == nil)
        }
        #expect(Date().timeIntervalSince(dryStart) < 30)

        // Four sets asking while a reload waits for its turn: one reload serves them all.
        let waiting = ReloadCoalescer()
        _ = try waiting.reload("neon", spacing: 1.0) { StepOutcome(status: .done, evidence: "first") }
        final class Count: @unchecked Sendable { let lock = NSLock(); var runs = 0; var served = 0 }
        let count = Count()
        let group = DispatchGroup()
        for i in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                // Asked within the first 0.4 s of the 1 s wait.
                Thread.sleep(forTimeInterval: 0.1 * Double(i))
                let outcome = try? waiting.reload("neon", spacing: 1.0) {
                    count.lock.withLock { count.runs += 1 }
                    return StepOutcome(status: .done, evidence: "second")
                }
                if outcome?.evidence.hasPrefix("second") == true { count.lock.withLock { count.served += 1 } }
                group.leave()
            }
        }
        group.wait()
        #expect(count.runs == 1)
        #expect(count.served == 4)
    }
}
