// Remote commands: an argument vector in, exit status and output out.
internal import CRelevoShim
internal import CSSH2
import Foundation

/// How a remote command ended, and what it wrote.
public struct CommandResult: Sendable, Equatable {
    /// The exit status, or nil when the command was ended by a signal.
    public var exitStatus: Int32?
    /// The signal that ended the command, without `SIG` (`KILL`, `TERM`), or nil.
    public var signal: String?
    /// Everything the command wrote to standard output (empty for
    /// `SSHSession.stream`, which hands it to a callback instead).
    public var stdout: [UInt8]
    /// What the command wrote to standard error.
    public var stderr: [UInt8]

    /// A result.
    public init(exitStatus: Int32?, signal: String?, stdout: [UInt8], stderr: [UInt8]) {
        self.exitStatus = exitStatus
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
    }

    /// True for exit status 0.
    public var succeeded: Bool { exitStatus == 0 }
    /// Standard output as UTF-8 (invalid bytes replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error as UTF-8 (invalid bytes replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

extension SSHSession {
    /// Runs `argv` on the server and waits for it to end.
    ///
    /// The command line is `ShellQuoting.command(argv)`: every argument
    /// reaches the program literally, whatever it contains. `stdin` is
    /// written to the command's standard input, which is then closed (with
    /// nil it is closed at once). A non-zero exit is a result, not an error.
    ///
    /// `timeout`: the most seconds the whole command may take; nil = no limit.
    /// Independently, the server must show signs of life (output, or replies
    /// to keepalives) within the endpoint's timeout (at least 3 s, because
    /// libssh2 spaces keepalives 2 s or more apart), so a stopped or hung
    /// server fails with `SSHError.timeout` while a silent long command does not.
    ///
    /// `environment`: variables the program gets, set by the remote shell
    /// (`ShellQuoting.command(_:environment:)`).
    ///
    /// `throughAgent`: run it through the connection's command agent
    /// (`CommandAgent`: one program per connection that starts the tools,
    /// a fork and an exec on the host instead of a channel, a session
    /// process and a shell each; started on first use), or on a channel of
    /// its own where the host cannot run an agent. The program, its
    /// arguments, variables, input, output and exit are the same either
    /// way; its standard input is never a terminal, and it runs in the
    /// agent's working directory (the login's, as for a channel).
    public func run(_ argv: [String], environment: [(name: String, value: String)] = [], stdin: [UInt8]? = nil,
                    timeout: Double? = nil, throughAgent: Bool = false) throws -> CommandResult {
        if throughAgent,
           let result = try runThroughAgent(argv, environment: environment, stdin: stdin ?? [], timeout: timeout) {
            return result
        }
        var output: [UInt8] = []
        var started = false
        var result = try execute(argv, environment: environment, stdin: stdin, timeout: timeout, stderrLimit: Int.max,
                                 started: &started) { output.append(contentsOf: $0) }
        result.stdout = output
        return result
    }

    /// Like `run`, but hands standard output to `onStdout` in chunks as it
    /// arrives (up to 256 KiB each) instead of collecting it; the result's
    /// `stdout` is empty and its `stderr` keeps at most the first 1 MiB.
    ///
    /// If `onStdout` throws, the channel is closed and the error rethrown
    /// (the remote program may keep running until it next writes).
    /// `onStdout` runs while the session is locked: it must not use this
    /// session or SFTP clients made from it.
    public func stream(_ argv: [String], stdin: [UInt8]? = nil, timeout: Double? = nil,
                       onStdout: ([UInt8]) throws -> Void) throws -> CommandResult {
        var started = false
        return try execute(argv, stdin: stdin, timeout: timeout, stderrLimit: 1 << 20, started: &started,
                           onStdout: onStdout)
    }

    /// The command runner. `started` becomes true once the server accepted
    /// the command (so `SSHPool` knows whether retrying could run it twice).
    func execute(_ argv: [String], environment: [(name: String, value: String)] = [], stdin: [UInt8]?,
                 timeout: Double?, stderrLimit: Int, started: inout Bool,
                 onStdout: ([UInt8]) throws -> Void) throws -> CommandResult {
        let command = try ShellQuoting.command(argv, environment: environment)
        let what = "command \(argv[0])"
        return try withSession { session in
            // Open the channel and start the command in blocking mode
            // (bounded by the session timeout).
            guard let channel = relevo_libssh2_channel_open_session(session) else {
                let rc = libssh2_session_last_errno(session)
                if rc == LIBSSH2_ERROR_CHANNEL_FAILURE || rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED {
                    throw SSHError.channelFailed(host: endpoint.host, port: endpoint.port,
                                                 reason: "open session: \(Self.lastError(session))")
                }
                throw failureLocked(Int(rc), "open channel")
            }
            var channelFreed = false
            defer {
                if !channelFreed, isOpenLocked {
                    libssh2_session_set_blocking(session, 1)
                    libssh2_channel_free(channel)
                }
            }
            let execRC = relevo_libssh2_channel_exec(channel, command)
            guard execRC == 0 else {
                if execRC == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED || execRC == LIBSSH2_ERROR_CHANNEL_FAILURE {
                    throw SSHError.channelFailed(host: endpoint.host, port: endpoint.port,
                                                 reason: "exec refused: \(Self.lastError(session))")
                }
                throw failureLocked(Int(execRC), "start \(what)")
            }
            started = true

            // Exchange data in non-blocking mode, waiting on the socket.
            var errors: [UInt8] = []
            _ = try pumpLocked(session, channel, input: stdin ?? [], sendEOF: true, what: what, timeout: timeout,
                               onStdout: onStdout,
                               onStderr: { bytes in
                                   if errors.count < stderrLimit { errors += bytes.prefix(stderrLimit - errors.count) }
                               },
                               done: { false })

            // Collect the exit status in blocking mode.
            libssh2_session_set_blocking(session, 1)
            var rc = libssh2_channel_close(channel)
            if rc == 0 { rc = libssh2_channel_wait_closed(channel) }
            if rc != 0 && rc != LIBSSH2_ERROR_CHANNEL_CLOSED {
                throw failureLocked(Int(rc), "close channel of \(what)")
            }
            var signalName: UnsafeMutablePointer<CChar>?
            var signalLength = 0
            _ = libssh2_channel_get_exit_signal(channel, &signalName, &signalLength, nil, nil, nil, nil)
            var signal: String?
            if let signalName {
                signal = String(decoding: UnsafeRawBufferPointer(start: signalName, count: signalLength),
                                as: UTF8.self)
                libssh2_free(session, signalName)
            }
            let status = libssh2_channel_get_exit_status(channel)
            libssh2_channel_free(channel)
            channelFreed = true
            return CommandResult(exitStatus: signal == nil ? status : nil, signal: signal, stdout: [],
                                 stderr: errors)
        }
    }

    /// Exchanges data with a started command on `channel` in non-blocking
    /// mode, waiting on the socket: writes `input` (then, with `sendEOF`,
    /// ends the command's input), hands what arrives on standard output and
    /// error to `onStdout`/`onStderr`, until `done` says so (returns false)
    /// or the command has ended its output (returns true). The session
    /// is back in blocking mode on return.
    ///
    /// Bounds: `timeout` seconds for the whole exchange; independently, the
    /// server must show signs of life (data, or replies to keepalives)
    /// within the endpoint's timeout (at least 3 s, because libssh2 spaces
    /// keepalives 2 s or more apart), so a stopped or hung server fails
    /// with `SSHError.timeout` while a silent long command does not.
    /// Call with the lock held.
    func pumpLocked(_ session: OpaquePointer, _ channel: OpaquePointer, input: [UInt8], sendEOF: Bool, what: String,
                    timeout: Double?, onStdout: ([UInt8]) throws -> Void, onStderr: ([UInt8]) -> Void,
                    done: () throws -> Bool) throws -> Bool {
        // libssh2 sends keepalives at most every 2 s (whole seconds), so a
        // live server can always show life within 3 s.
        let idleLimit = max(endpoint.timeout, 3)
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        libssh2_session_set_blocking(session, 0)
        defer { if isOpenLocked { libssh2_session_set_blocking(session, 1) } }
        var inputOffset = 0
        var inputDone = false
        let chunk = 256 * 1024
        var buffer = [CChar](repeating: 0, count: chunk)
        var lastSignOfLife = Date()

        while true {
            var progressed = false
            if !inputDone {
                if inputOffset < input.count {
                    let n = input.withUnsafeBufferPointer { all -> Int in
                        let count = min(chunk, all.count - inputOffset)
                        return all.baseAddress!.advanced(by: inputOffset).withMemoryRebound(to: CChar.self,
                                                                                        capacity: count) {
                            relevo_libssh2_channel_write(channel, $0, count)
                        }
                    }
                    if n > 0 {
                        inputOffset += n
                        progressed = true
                    } else if n == Int(LIBSSH2_ERROR_CHANNEL_CLOSED) || n == Int(LIBSSH2_ERROR_CHANNEL_EOF_SENT) {
                        inputOffset = input.count  // the command stopped reading: drop the rest
                    } else if n != Int(LIBSSH2_ERROR_EAGAIN) {
                        throw failureLocked(n, "write stdin of \(what)")
                    }
                }
                if inputOffset >= input.count {
                    if !sendEOF {
                        inputDone = true
                    } else {
                        let rc = libssh2_channel_send_eof(channel)
                        if rc == 0 || rc == LIBSSH2_ERROR_CHANNEL_CLOSED {
                            inputDone = true
                            progressed = true
                        } else if rc != LIBSSH2_ERROR_EAGAIN {
                            throw failureLocked(Int(rc), "close stdin of \(what)")
                        }
                    }
                }
            }
            var drained = true
            for stream: Int32 in [0, 1] {  // 0 = stdout, 1 = stderr (SSH_EXTENDED_DATA_STDERR)
                while true {
                    let n = buffer.withUnsafeMutableBufferPointer {
                        libssh2_channel_read_ex(channel, stream, $0.baseAddress, $0.count)
                    }
                    if n > 0 {
                        progressed = true
                        let bytes = buffer.withUnsafeBufferPointer {
                            [UInt8](UnsafeRawBufferPointer(start: $0.baseAddress, count: n))
                        }
                        if stream == 0 { try onStdout(bytes) } else { onStderr(bytes) }
                        continue
                    }
                    if n == Int(LIBSSH2_ERROR_EAGAIN) { drained = false; break }
                    if n == 0 { break }
                    throw failureLocked(n, "read output of \(what)")
                }
            }
            if inputDone, try done() { return false }
            if drained && libssh2_channel_eof(channel) == 1 { return true }

            let now = Date()
            if progressed {
                lastSignOfLife = now
                continue
            }
            if let deadline, now >= deadline {
                throw SSHError.timeout(host: endpoint.host, port: endpoint.port,
                                       operation: "\(what) ran longer than \(timeout ?? 0) s")
            }
            let silence = now.timeIntervalSince(lastSignOfLife)
            if silence >= idleLimit {
                throw closeLocked(after: .timeout(host: endpoint.host, port: endpoint.port,
                                                  operation: "no answer for \(Int(idleLimit)) s during \(what)"))
            }
            var secondsToNext: Int32 = 0
            let keepalive = libssh2_keepalive_send(session, &secondsToNext)
            if keepalive != 0 && keepalive != LIBSSH2_ERROR_EAGAIN {
                throw failureLocked(Int(keepalive), "keepalive during \(what)")
            }
            var events = Int16(POLLIN)
            if libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
                events |= Int16(POLLOUT)
            }
            // Short waits, so that keepalive_send gets called when one is
            // due (libssh2 counts its interval in whole seconds) and its
            // reply arrives well within the idle limit.
            var slice = min(idleLimit - silence, max(0.05, min(1, idleLimit / 4)))
            if let deadline { slice = min(slice, max(0.001, deadline.timeIntervalSince(now))) }
            switch TCP.wait(socketLocked, events: events, timeout: slice) {
            case .ready: lastSignOfLife = Date()
            case .timedOut: break
            case .failed(let reason):
                throw closeLocked(after: .connectionLost(host: endpoint.host, port: endpoint.port,
                                                         reason: "waiting for \(what): \(reason)"))
            }
        }
    }
}
