// Live tests of the command agent (`SSHSession.run(throughAgent:)`) against
// the testbed's real sshd daemons: the same answers as a channel of its own.
import Foundation
import RelevoBasics
@testable import RelevoSSH
import Testing

@Suite struct AgentLiveTests {
    let live: Live
    init() throws { live = try Live.make() }

    /// The agent's process: the parent of a shell it starts.
    func agentProcess(_ session: SSHSession) throws -> String {
        let result = try session.run(["sh", "-c", "echo $PPID"], throughAgent: true)
        #expect(result.succeeded)
        return result.stdoutText
    }

    @Test func theAgentAnswersAsAChannelDoes() throws {
        let session = try live.connect(.old)
        var binary: [UInt8] = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }
        binary += [0, 10, 0, 13]
        let cases: [(argv: [String], environment: [(name: String, value: String)], stdin: [UInt8]?)] = [
            (["true"], [], nil),
            (["false"], [], nil),
            (["sh", "-c", "echo out; echo err >&2; exit 7"], [], nil),
            (["sh", "-c", "kill -KILL $$"], [], nil),
            (["sh", "-c", "kill -TERM $$"], [], nil),
            (["printf", "%s\\0"] + SessionLiveTests.hostile, [], nil),
            (["cat"], [], binary),
            (["cat"], [], []),
            (["sh", "-c", "head -c 10 >/dev/null; echo read ten"], [], binary),
            // Some input read, then output larger than a pipe holds before
            // the rest is read (as `tar -c -T -` writes): the agent must not
            // block feeding the input while the program waits for its output
            // to be taken.
            (["sh", "-c", "head -c 16384 >/dev/null; head -c 1000000 /dev/zero; cat >/dev/null; echo all read"],
             [], binary),
            (["printenv", "LC_ALL", "RELEVO_X"], [("LC_ALL", "C"), ("RELEVO_X", "a'b $(x)\nc")], nil),
            (["sh", "-c", "exec cat /dev/null - >&2"], [], Array("to standard error\n".utf8)),
            (["sh", "-c", "test -t 0 && echo terminal || echo no terminal"], [], nil),
        ]
        for (argv, environment, stdin) in cases {
            let alone = try session.run(argv, environment: environment, stdin: stdin)
            let agent = try session.run(argv, environment: environment, stdin: stdin, throughAgent: true)
            #expect(agent == alone, "\(argv.prefix(3))")
        }
        // A missing program: 127 either way (the message is the agent's, not a shell's).
        let missing = try session.run(["no-such-program-relevo"], throughAgent: true)
        #expect(missing.exitStatus == 127)
        #expect(missing.stderrText.contains("no-such-program-relevo"))
        guard case .running = session.agentState else {
            Issue.record("no agent ran: \(session.agentState)")
            return
        }
    }

    @Test func commandsShareOneAgent() throws {
        let session = try live.connect(.new)
        let first = try agentProcess(session)
        for _ in 0..<20 { #expect(try session.run(["true"], throughAgent: true).succeeded) }
        #expect(try agentProcess(session) == first)
        // A channel each: a new session process each time.
        let alone = try session.run(["sh", "-c", "echo $PPID"])
        #expect(alone.stdoutText != first)
    }

    @Test func aKilledAgentIsAnErrorAndTheNextCommandStartsAnother() throws {
        let session = try live.connect(.old)
        let first = try agentProcess(session)
        #expect(throws: SSHError.self) {
            try session.run(["sh", "-c", "kill -KILL $PPID; sleep 2"], throughAgent: true)
        }
        #expect(session.isUsable)
        let second = try agentProcess(session)
        #expect(second != first)
    }

    @Test func aCommandOverItsTimeLimitStopsTheAgentOnly() throws {
        let session = try live.connect(.old)
        let first = try agentProcess(session)
        let started = Date()
        #expect(throws: SSHError.self) { try session.run(["sleep", "30"], timeout: 1, throughAgent: true) }
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(try session.run(["echo", "next"], throughAgent: true).stdoutText == "next\n")
        #expect(try agentProcess(session) != first)
    }

    @Test func withoutAnAgentCommandsGoOnChannelsOfTheirOwn() throws {
        let session = try live.connect(.old)
        session.agentCommand = ["no-such-perl-relevo", "-e", CommandAgent.program]
        let result = try session.run(["sh", "-c", "echo out; exit 3"], throughAgent: true)
        #expect(result.exitStatus == 3 && result.stdoutText == "out\n")
        guard case .unavailable = session.agentState else {
            Issue.record("expected no agent: \(session.agentState)")
            return
        }
        // Something else answering in the agent's place is no agent either.
        let other = try live.connect(.old)
        other.agentCommand = ["echo", "hello"]
        #expect(try other.run(["true"], throughAgent: true).succeeded)
        guard case .unavailable = other.agentState else {
            Issue.record("expected no agent: \(other.agentState)")
            return
        }
    }

    @Test func badArgumentVectorsAreRefusedBeforeSending() throws {
        let session = try live.connect(.old)
        #expect(throws: SSHError.self) { try session.run([], throughAgent: true) }
        #expect(throws: SSHError.self) { try session.run(["echo", "a\u{0}b"], throughAgent: true) }
        #expect(throws: SSHError.self) { try session.run(["true"], environment: [("A-B", "x")], throughAgent: true) }
        #expect(try session.run(["echo", "still"], throughAgent: true).stdoutText == "still\n")
    }
}
