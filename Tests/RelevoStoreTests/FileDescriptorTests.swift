import Foundation
import Glibc
import RelevoBasics
import Testing

/// `FileDescriptor.writeAll`, which the store's file writes, the dry run's
/// change logs and the progress lines go through.
@Suite struct FileDescriptorTests {
    @Test func writesEverythingOrSaysWhyNot() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fd-\(UUID().uuidString)").path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { unlink(path) }
        let text = String(repeating: "línea ✓\n", count: 50_000)
        #expect(FileDescriptor.writeAll(fd, text) == nil)
        #expect(FileDescriptor.writeAll(fd, "") == nil)
        let bytes: [UInt8] = [0, 1, 2, 255]
        #expect(bytes.withUnsafeBytes { FileDescriptor.writeAll(fd, $0) } == nil)
        close(fd)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(text.utf8) + Data(bytes))
        #expect(FileDescriptor.writeAll(-1, "x") == EBADF)
    }
}
