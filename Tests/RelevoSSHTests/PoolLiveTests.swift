// Live tests of SSHPool: reuse, reconnection, threads.
import Foundation
import RelevoSSH
import Testing

@Suite struct PoolLiveTests {
    let live: Live
    init() throws { live = try Live.make() }

    /// "client-ip client-port server-ip server-port" of the connection a command runs on.
    private func connection(_ pool: SSHPool, _ endpoint: SSHEndpoint) throws -> String {
        try pool.run(["sh", "-c", "echo $SSH_CONNECTION"], on: endpoint).stdoutText
    }

    @Test func callsShareOneConnection() throws {
        let pool = SSHPool()
        let endpoint = try live.endpoint(.old)
        let first = try connection(pool, endpoint)
        let second = try connection(pool, endpoint)
        #expect(!first.isEmpty)
        #expect(first == second, "same client port: same TCP connection")
        #expect(pool.connectionsOpened == 1)
        let sftp = try pool.sftp(for: endpoint)
        #expect(sftp.session === (try pool.session(for: endpoint)))
        #expect(try pool.sftp(for: endpoint) === sftp)
        #expect(try sftp.realpath("/") == "/")
        #expect(try connection(pool, endpoint) == first)
        #expect(pool.connectionsOpened == 1)

        // Another endpoint: its own connection.
        _ = try connection(pool, try live.endpoint(.new))
        #expect(pool.connectionsOpened == 2)
        pool.closeAll()
    }

    @Test func reconnectsWhenTheServerDroppedTheConnection() throws {
        let pool = SSHPool()
        let endpoint = try live.endpoint(.old)
        let before = try connection(pool, endpoint)
        let pid = try pool.run(["sh", "-c", sshdPidScript], on: endpoint).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(Int(pid) != nil)
        // Kill the server side of the pooled connection from another connection.
        let control = try live.connect(.old)
        try #require(try control.run(["kill", "-KILL", pid]).succeeded)
        usleep(200_000)
        let after = try connection(pool, endpoint)
        #expect(!after.isEmpty)
        #expect(after != before, "a new TCP connection")
        #expect(pool.connectionsOpened == 2)
    }

    @Test func aCommandThatLosesItsConnectionIsNotRetried() throws {
        let pool = SSHPool()
        let endpoint = try live.endpoint(.new)
        let marker = live.root(.new) + "/.t-runs-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        defer { _ = try? pool.run(["rm", "-f", "--", marker], on: endpoint) }
        // Appends a line to the marker, then kills its own connection.
        let script = "echo run >> \"$1\"; kill -KILL $(\(sshdPidScript))"
        let (error, _) = expectSSHError { _ = try pool.run(["sh", "-c", script, "sh", marker], on: endpoint) }
        #expect(error?.kind == "connectionLost", "\(String(describing: error))")
        #expect(try pool.run(["cat", marker], on: endpoint).stdoutText == "run\n", "ran exactly once")
        #expect(pool.connectionsOpened == 2)
    }

    @Test func threadsShareTheConnections() throws {
        let pool = SSHPool()
        let endpoints = [try live.endpoint(.old), try live.endpoint(.new)]
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            do {
                let endpoint = endpoints[index % 2]
                let result = try pool.run(["echo", "\(index)"], on: endpoint)
                if result.stdoutText != "\(index)\n" { failures.add("run \(index): \(result.stdoutText)") }
                let sftp = try pool.sftp(for: endpoint)
                if try sftp.lstat("/") == nil { failures.add("lstat / failed") }
            } catch {
                failures.add("\(index): \(error)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        #expect(pool.connectionsOpened == 2)
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ text: String) { lock.lock(); list.append(text); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
