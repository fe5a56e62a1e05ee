import Foundation

/// The live testbed the tests run against: a private slapd (old and new
/// directory) and two private sshd daemons on 127.0.0.2 and 127.0.0.3,
/// started by `scripts/testbed up`, with the mail hosts (`--mail`: Postfix
/// and Dovecot on both addresses).
///
/// `Testbed.shared()` returns its variables (`RELEVO_LDAP_URI`,
/// `RELEVO_OLD_SSH`, ...). When the process environment already has
/// `RELEVO_LDAP_URI` (scripts/test starts the testbed and exports them, or
/// a developer did `eval "$(scripts/testbed up)"`), those are used as they
/// are; otherwise the script is run once per test process and its
/// `export NAME=value` lines are parsed. It is never skipped: a testbed
/// that cannot start fails the test that needs it.
public struct Testbed: Sendable {
    public let variables: [String: String]

    public subscript(_ name: String) -> String {
        guard let value = variables[name] else {
            fatalError("testbed variable \(name) is not set; did scripts/testbed up print it?")
        }
        return value
    }

    /// The repository root (two folders above this file's folder).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func shared() throws -> Testbed {
        try cache.get()
    }

    private static let cache = Cache()

    private final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<Testbed, TestbedError>?

        func get() throws -> Testbed {
            lock.lock()
            defer { lock.unlock() }
            if let result { return try result.get() }
            let made: Result<Testbed, TestbedError>
            let environment = ProcessInfo.processInfo.environment
            if environment["RELEVO_LDAP_URI"] != nil {
                made = .success(Testbed(variables: environment.filter { $0.key.hasPrefix("RELEVO_") }))
            } else {
                made = Result { try Testbed.start() }.mapError { $0 as? TestbedError ?? TestbedError(message: "\($0)") }
            }
            result = made
            return try made.get()
        }
    }

    /// Where `scripts/testbed` keeps a daemon's pid (Postfix's master and
    /// Dovecot keep theirs where their configuration says).
    public static func pidFile(_ daemon: String, dir: String) -> String {
        if daemon.hasPrefix("postfix-") { return "\(dir)/mail/\(daemon)/queue/pid/master.pid" }
        if daemon.hasPrefix("dovecot-") { return "\(dir)/run/\(daemon)/master.pid" }
        return "\(dir)/run/\(daemon).pid"
    }

    /// Runs `scripts/testbed up --mail` and parses what it prints.
    static func start() throws -> Testbed {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/testbed").path, "up", "--mail"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestbedError(message: "scripts/testbed up exited \(process.terminationStatus):\n"
                               + String(decoding: errors, as: UTF8.self))
        }
        return Testbed(variables: parseExports(String(decoding: output, as: UTF8.self)))
    }

    /// Parses `export NAME=value` lines; values may be single-quoted as a
    /// POSIX shell quotes them (`'it'\''s'`).
    public static func parseExports(_ text: String) -> [String: String] {
        var variables: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("export ") else { continue }
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            let name = String(assignment[..<equals])
            variables[name] = unquote(String(assignment[assignment.index(after: equals)...]))
        }
        return variables
    }

    private static func unquote(_ text: String) -> String {
        var result = ""
        var quoted = false
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            if c == "'" { quoted.toggle(); continue }
            if c == "\\" && !quoted, let next = iterator.next() { result.append(next); continue }
            result.append(c)
        }
        return result
    }
}

public struct TestbedError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
