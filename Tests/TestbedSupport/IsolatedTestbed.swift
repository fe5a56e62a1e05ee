import Foundation

/// A testbed of its own for a test that changes the testbed's state (a live
/// run, a daemon stopped mid-run): its own state folder and its own pair of
/// loopback addresses (127.1xx.yyy.2 and .3), started with `scripts/testbed
/// up` and stopped by `down`, so tests running at the same time do not see
/// each other's users, stores or stopped daemons. With `mail: true` it also
/// starts the mail hosts (`up --mail`: a Postfix and a Dovecot per host).
public final class IsolatedTestbed: @unchecked Sendable {
    public let dir: String
    /// Whether `up` starts the mail daemons too.
    public let mail: Bool
    public let oldAddress: String
    public let newAddress: String
    /// The variables `up` printed.
    public private(set) var variables: [String: String] = [:]

    public init(name: String = "t", mail: Bool = false) {
        self.mail = mail
        dir = "/tmp/relevo-testbed-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        let a = Int.random(in: 100...199), b = Int.random(in: 1...250)
        oldAddress = "127.\(a).\(b).2"
        newAddress = "127.\(a).\(b).3"
    }

    /// The environment for the script and for `relevo`: this process's,
    /// without the shared testbed's variables, plus this testbed's.
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RELEVO_") }
        environment["RELEVO_TESTBED_DIR"] = dir
        environment["RELEVO_TESTBED_OLD_ADDRESS"] = oldAddress
        environment["RELEVO_TESTBED_NEW_ADDRESS"] = newAddress
        for (k, v) in variables { environment[k] = v }
        return environment
    }

    public subscript(_ name: String) -> String {
        guard let value = variables[name] else { fatalError("testbed variable \(name) is not set") }
        return value
    }

    /// `scripts/testbed up` (`up --mail` for a testbed with mail); the
    /// variables it prints are kept.
    public func up() throws {
        let result = try script(mail ? ["up", "--mail"] : ["up"])
        guard result.status == 0 else { throw TestbedError(message: "scripts/testbed up: \(result.stderr)") }
        variables = Testbed.parseExports(result.stdout)
    }

    /// Stops the daemons and removes the state folder.
    public func down() {
        _ = try? script("down")
        try? FileManager.default.removeItem(atPath: dir)
    }

    public func script(_ command: String) throws -> ProcessResult {
        try script([command])
    }

    public func script(_ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run("/bin/bash", [Testbed.root.appendingPathComponent("scripts/testbed").path] + arguments,
                              environment: environment)
    }

    /// The pid of one of the testbed's daemons (`slapd-old`, `sshd-neon`,
    /// `postfix-neon`, `dovecot-xalumno`, ...).
    public func pid(_ daemon: String) -> Int32? {
        guard let text = try? String(contentsOfFile: Testbed.pidFile(daemon, dir: dir), encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// A finished process: status and output.
public struct ProcessResult: Sendable, CustomStringConvertible {
    public var status: Int32
    /// True when the process was killed by a signal (`status` is the signal).
    public var killed = false
    public var stdout: String
    public var stderr: String
    public var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }

    /// Runs a program to its end (no shell), with `stdin` given or empty.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           stdin: String? = nil) throws -> ProcessResult {
        let process = try start(executable, arguments, environment: environment, stdin: stdin)
        return process.wait()
    }

    /// Starts a program; `wait()` collects its result.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                             stdin: String? = nil) throws -> RunningProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        return RunningProcess(process: process, out: out, err: err)
    }
}

/// A started program whose output is read in the background.
public final class RunningProcess: @unchecked Sendable {
    public let process: Process
    private var outData = Data(), errData = Data()
    private let group = DispatchGroup()

    init(process: Process, out: Pipe, err: Pipe) {
        self.process = process
        group.enter()
        DispatchQueue.global().async { [self] in
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async { [self] in
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
    }

    public var pid: Int32 { process.processIdentifier }

    public func wait() -> ProcessResult {
        process.waitUntilExit()
        group.wait()
        return ProcessResult(status: process.terminationStatus, killed: process.terminationReason == .uncaughtSignal,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}
