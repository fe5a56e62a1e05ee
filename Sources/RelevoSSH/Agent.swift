// The command agent: one long-lived program per SSH connection that starts
// the host's tools on request, so that a command costs a fork and an exec on
// the host instead of a new SSH channel, a session process and a shell.
internal import CRelevoShim
internal import CSSH2
import Foundation

/// The agent's program and its protocol, shared by the session that talks
/// to it and the tests.
///
/// The agent is a Perl program given on the command line (`perl -e`), run
/// on an ordinary exec channel: Perl's base (`perl-base`, with `POSIX`,
/// `IO::Handle`, `IO::Select` and `Config`) is part of every Debian and most Unix
/// systems; where it is missing the channel ends at once and commands go
/// one channel each, as without an agent. It starts each program itself
/// (`exec` with the argument vector: no shell ever parses an argument),
/// with the variables asked set, its standard input fed from the request
/// and its output collected; it reads a whole request before it runs
/// anything, feeds the input without blocking (a program may write much
/// before it reads: `tar -c -T -`) and answers only when the program has
/// ended.
///
/// Request: `RUN <variables> <arguments> <input bytes>\n`, then each
/// variable (`NAME=value`) and each argument as `<length>\n<bytes>`, then
/// the input. Answer: `DONE <status> <signal> <output bytes> <error bytes>\n`
/// (status -1 and the signal's name when a signal ended the program, else
/// `-`), then the output and the error output. The agent greets with
/// `RELEVO-AGENT 1\n`; it ends at the end of its input, or at a request it
/// cannot read.
enum CommandAgent {
    static let greeting = Array("RELEVO-AGENT 1\n".utf8)

    static let program = #"""
    use strict; use POSIX (); use IO::Handle; use IO::Select; use Config;
    my @sig = split ' ', $Config{sig_name};
    $SIG{PIPE} = 'IGNORE'; $| = 1; binmode STDIN; binmode STDOUT;
    sub take { my ($n) = @_; my $b = '';
      while (length($b) < $n) { my $r = read(STDIN, $b, $n - length($b), length($b)); return undef unless $r; }
      return $b; }
    print "RELEVO-AGENT 1\n";
    while (defined(my $head = <STDIN>)) {
      my ($nv, $na, $ni) = $head =~ /\ARUN (\d+) (\d+) (\d+)\n\z/ or exit 2;
      $na > 0 or exit 2;
      my (@vars, @argv);
      for my $i (1 .. $nv + $na) {
        my $line = <STDIN>; defined $line && $line =~ /\A(\d+)\n\z/ or exit 2;
        my $item = take($1); defined $item or exit 2;
        if ($i <= $nv) { push @vars, $item } else { push @argv, $item } }
      my $in = take($ni); defined $in or exit 2;
      pipe(my $ir, my $iw) or exit 3; pipe(my $or, my $ow) or exit 3; pipe(my $er, my $ew) or exit 3;
      my $pid = fork(); defined $pid or exit 3;
      if ($pid == 0) {
        close $iw; close $or; close $er;
        POSIX::dup2(fileno($ir), 0); POSIX::dup2(fileno($ow), 1); POSIX::dup2(fileno($ew), 2);
        $SIG{PIPE} = 'DEFAULT';
        for (@vars) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v; }
        { no warnings; exec { $argv[0] } @argv; }
        print STDERR "$argv[0]: $!\n"; POSIX::_exit(127);
      }
      close $ir; close $ow; close $ew;
      my ($out, $err, $at) = ('', '', 0);
      my $reading = IO::Select->new($or, $er); my $writing = IO::Select->new();
      if (length $in) { $iw->blocking(0); $writing->add($iw); } else { close $iw; }
      while ($reading->count || $writing->count) {
        my ($r, $w) = IO::Select->select($reading, $writing, undef);
        for my $fh (@{$w || []}) {
          my $n = syswrite($fh, $in, 65536, $at);
          if (!defined $n) { next if $! == POSIX::EAGAIN(); $writing->remove($fh); close $fh; next; }
          $at += $n; if ($at >= length $in) { $writing->remove($fh); close $fh; } }
        for my $fh (@{$r || []}) {
          my $n = sysread($fh, my $buf, 262144);
          if (!$n) { $reading->remove($fh); close $fh; next; }
          if ($fh == $or) { $out .= $buf } else { $err .= $buf } } }
      waitpid($pid, 0);
      my ($status, $signal) = ($? & 127) ? (-1, $sig[$? & 127] // ($? & 127)) : ($? >> 8, '-');
      print "DONE $status $signal ", length($out), " ", length($err), "\n", $out, $err;
    }
    """#

    /// The request for `argv` with `environment` and `stdin`.
    static func request(_ argv: [String], environment: [(name: String, value: String)], stdin: [UInt8]) -> [UInt8] {
        var bytes = Array("RUN \(environment.count) \(argv.count) \(stdin.count)\n".utf8)
        func item(_ text: String) {
            bytes += "\(text.utf8.count)\n".utf8
            bytes += text.utf8
        }
        for (name, value) in environment { item(name + "=" + value) }
        for argument in argv { item(argument) }
        bytes += stdin
        return bytes
    }

    /// An answer read so far: nil while incomplete, the result once whole.
    /// Throws for anything that is not an answer.
    static func answer(_ bytes: [UInt8]) throws(AnswerError) -> CommandResult? {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            if bytes.count > 200 { throw AnswerError(shown: bytes.prefix(60)) }
            return nil
        }
        let words = bytes[..<newline].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard words.count == 5, words[0] == "DONE", let status = Int32(words[1]),
              let outputCount = Int(words[3]), let errorCount = Int(words[4]), outputCount >= 0, errorCount >= 0,
              !words[2].isEmpty else { throw AnswerError(shown: bytes[..<newline]) }
        let start = newline + 1
        guard bytes.count >= start + outputCount + errorCount else { return nil }
        guard bytes.count == start + outputCount + errorCount else { throw AnswerError(shown: bytes[..<newline]) }
        let signal = words[2] == "-" ? nil : words[2]
        guard (signal == nil) == (status >= 0) else { throw AnswerError(shown: bytes[..<newline]) }
        return CommandResult(exitStatus: signal == nil ? status : nil, signal: signal,
                             stdout: Array(bytes[start..<(start + outputCount)]),
                             stderr: Array(bytes[(start + outputCount)...]))
    }

    struct AnswerError: Error {
        var text: String
        init(shown: ArraySlice<UInt8>) { text = String(decoding: shown, as: UTF8.self) }
    }
}

extension SSHSession {
    /// Runs `argv` through this connection's command agent, starting it
    /// on first use; nil when the host cannot run one (then the caller
    /// runs the command on a channel of its own). Errors as for `run`; once
    /// a request was sent, a failure leaves it unknown whether the program
    /// ran (the agent is then stopped; the next command starts a new one).
    func runThroughAgent(_ argv: [String], environment: [(name: String, value: String)], stdin: [UInt8],
                         timeout: Double?) throws -> CommandResult? {
        // The same refusals as a command line's, without building one.
        try ShellQuoting.check(argv, environment: environment)
        let what = "command \(argv[0])"
        return try withSession { session -> CommandResult? in
            guard let channel = try agentLocked(session) else { return nil }
            do {
                var answer: [UInt8] = []
                var result: CommandResult?
                let ended = try pumpLocked(session, channel, input: CommandAgent.request(argv, environment: environment,
                                                                                          stdin: stdin),
                                           sendEOF: false, what: what, timeout: timeout,
                                           onStdout: { answer += $0 }, onStderr: { _ in },
                                           done: { () throws -> Bool in
                                               result = try CommandAgent.answer(answer)
                                               return result != nil
                                           })
                guard !ended, let result else {
                    throw SSHError.channelFailed(host: endpoint.host, port: endpoint.port,
                                                 reason: "the command agent ended during \(what)")
                }
                return result
            } catch let error as CommandAgent.AnswerError {
                stopAgentLocked()
                throw SSHError.channelFailed(host: endpoint.host, port: endpoint.port,
                                             reason: "the command agent answered \(what) with \"\(error.text)\"")
            } catch {
                stopAgentLocked()
                throw error
            }
        }
    }

    /// The running agent's channel, started if need be; nil when this host
    /// cannot run one (remembered for the session).
    private func agentLocked(_ session: OpaquePointer) throws -> OpaquePointer? {
        switch agentState {
        case .running(let channel): return channel
        case .unavailable: return nil
        case .none: break
        }
        guard let channel = relevo_libssh2_channel_open_session(session) else {
            let rc = libssh2_session_last_errno(session)
            if rc == LIBSSH2_ERROR_CHANNEL_FAILURE || rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED {
                agentState = .unavailable
                return nil
            }
            throw failureLocked(Int(rc), "open the command agent's channel")
        }
        let command = try ShellQuoting.command(agentCommand)
        guard relevo_libssh2_channel_exec(channel, command) == 0 else {
            libssh2_channel_free(channel)
            agentState = .unavailable
            return nil
        }
        agentState = .running(channel)
        var greeting: [UInt8] = []
        let ended: Bool
        do {
            ended = try pumpLocked(session, channel, input: [], sendEOF: false, what: "the command agent's start",
                                   timeout: max(endpoint.timeout, 3),
                                   onStdout: { greeting += $0 }, onStderr: { _ in },
                                   done: { greeting.count >= CommandAgent.greeting.count })
        } catch {
            stopAgentLocked()
            throw error
        }
        guard !ended, greeting == CommandAgent.greeting else {
            // No Perl (the shell said so and the channel ended), or something else answered.
            stopAgentLocked()
            agentState = .unavailable
            return nil
        }
        return channel
    }

    /// Closes the agent's channel (its input ends, so it ends after any
    /// program it is running); the next command starts a new one.
    func stopAgentLocked() {
        guard case .running(let channel) = agentState else { return }
        agentState = .none
        _ = ifOpenLocked { session in
            libssh2_session_set_blocking(session, 1)
            libssh2_channel_free(channel)
        }
    }
}
