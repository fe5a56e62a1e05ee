#if DEBUG
import Foundation

/// A test-only seam, compiled into debug builds only (`swift build -c
/// release` has none of it; docs/security.md): with `RELEVO_TEST_BEFORE_OPEN`
/// naming an executable, a live copy runs it, and waits for it, with the
/// absolute paths of the source files it is about to read: before a batch
/// read by `tar` on the host, and between the `lstat` that checked a file and
/// the SFTP open of that file. The hostile-input tests use it to swap a
/// message for a link at exactly those moments (a race no test could win
/// reliably otherwise).
enum TestSeam {
    static let program = ProcessInfo.processInfo.environment["RELEVO_TEST_BEFORE_OPEN"] ?? ""

    static func beforeOpen(_ paths: [String]) {
        guard !program.isEmpty, !paths.isEmpty else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = paths
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            FileHandle.standardError.write(Data("relevo: test seam \(program) failed: \(error)\n".utf8))
        }
    }
}
#endif
