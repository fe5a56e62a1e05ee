import Foundation
import Testing
@testable import RelevoCLI

/// What one in-process run of `relevo` produced.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `relevo ARGUMENTS` in-process.
func relevo(_ arguments: [String], environment: [String: String] = [:], tty: Bool = false) -> CLIRun {
    var out = "", err = ""
    let status = Relevo.run(arguments, environment: environment, stdout: &out, stderr: &err,
                            stdoutIsTTY: tty, stderrIsTTY: tty)
    return CLIRun(status: status, stdout: out, stderr: err)
}

/// A temporary folder for plan files, removed when the value goes away.
/// `normalise` strips its path from output, so goldens hold relative paths.
final class PlanFolder {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("relevo-cli-tests-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` in the folder and returns its full path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func normalise(_ text: String) -> String {
        text.replacingOccurrences(of: path + "/", with: "")
    }
}

/// Compares `actual` with `Golden/NAME`, exactly. With RELEVO_UPDATE_GOLDEN=1
/// in the environment the golden file is (re)written instead.
func expectGolden(_ actual: String, _ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    let file = folder.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["RELEVO_UPDATE_GOLDEN"] == "1" {
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try! actual.write(to: file, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("missing golden file Golden/\(name); run with RELEVO_UPDATE_GOLDEN=1 to create it",
                     sourceLocation: sourceLocation)
        return
    }
    #expect(actual == expected, "output differs from Golden/\(name) (RELEVO_UPDATE_GOLDEN=1 regenerates it)",
            sourceLocation: sourceLocation)
}

/// Runs `executable ARGUMENTS`; returns its status, stdout and stderr.
/// Stderr goes through a file so that a chatty tool cannot block on a pipe.
func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdout = Pipe()
    process.standardOutput = stdout
    process.standardError = try FileHandle(forWritingTo: errorFile)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let error = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), error)
}

/// Plans used by the tests.
enum Plans {
    /// Loads and checks clean, and has no lint findings.
    static let tiny = """
    relevo: 1
    plan: tiny
    hosts:
      old: { address: old.example }
      new: { address: new.example }
    elements:
      directory: { kind: ldap, url: "ldap://dir.example", base: "dc=example" }
      store-old: { kind: maildir-store, on: old, root: /srv/mail }
      store-new: { kind: maildir-store, on: new, root: /srv/mail }
    redirects:
      mailhost:
        at: directory
        attribute: mailHost
        per: users
        values: { old: old.example, new: new.example }
        routes: { old: store-old, new: store-new }
    sets:
      users:
        from: directory
        key: uid
        fields:
          store: { attribute: mailMessageStore, type: path, under: store-old }
          host: { attribute: mailHost, type: redirect, point: mailhost }
    phases:
      - name: users
        for-each: users
        where: host == old
        canary: 2
        steps:
          - redirect: { point: mailhost, to: new }
          - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
        gates:
          - maildir-superset: { new: "store-new:${store}", old: "store-old:${store}" }
        on-failure: { undo: true, then: halt }

    """

    /// One error: E020 unknown-reference, with help "did you mean 'directory'?".
    static let broken = tiny.replacingOccurrences(of: "at: directory", with: "at: directroy")

    /// No errors, one lint warning (L001 no-canary).
    static let warning = tiny.replacingOccurrences(of: "    canary: 2\n", with: "")

    /// Several errors of several kinds, one with a note.
    static let multi = tiny
        .replacingOccurrences(of: "  new: { address: new.example }\n",
                              with: "  new: { address: new.example }\n  old: { address: again.example }\n")
        .replacingOccurrences(of: "at: directory", with: "at: directroy")
        .replacingOccurrences(of: "canary: 2", with: "concurency: 2")
        .replacingOccurrences(of: "to: \"store-new:${store}\", until", with: "to: \"store-new:${stroe}\", until")
}

/// The repository's root folder.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
