import Foundation
import Testing
@testable import RelevoStore

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func nistVectors(message: String, digest: String) {
        #expect(SHA256.hexHash(Array(message.utf8)) == digest)
        var hasher = SHA256()
        hasher.update(message)
        #expect(hasher.hexDigest() == digest)
        #expect(hasher.finalize().count == SHA256.digestSize)
    }

    @Test func oneMillionA() {
        var hasher = SHA256()
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(thousand) }
        #expect(hasher.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalEqualsOneShotAtEverySplit() {
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let expected = SHA256.hash(message)
        for split in 0...message.count {
            var hasher = SHA256()
            hasher.update(Array(message[..<split]))
            hasher.update(Array(message[split...]))
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
    }

    @Test func finalizeLeavesTheHasherUsable() {
        var hasher = SHA256()
        hasher.update("ab")
        _ = hasher.finalize()
        hasher.update("c")
        #expect(hasher.hexDigest() == SHA256.hexHash(Array("abc".utf8)))
    }

    /// A hasher is a value: a copy goes on from where it was copied, and
    /// neither sees what is fed to the other.
    @Test func aCopyIsIndependent() {
        var first = SHA256()
        first.update("ab")
        var second = first
        second.update("c")
        first.update("x")
        #expect(second.hexDigest() == SHA256.hexHash(Array("abc".utf8)))
        #expect(first.hexDigest() == SHA256.hexHash(Array("abx".utf8)))
    }

    @Test func agreesWithSha256sumOnRandomFiles() throws {
        let directory = try TempDirectory()
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 55, 56, 63, 64, 65, 65_535, 65_536, 65_537, 300_001] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = directory.absolute("random-\(size)")
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            let ours = try SHA256.hashFile(atPath: path)
            #expect(ours == SHA256.hexHash(bytes))
            let theirs = try sha256sum(path)
            #expect(ours == theirs, "size \(size)")
        }
    }

    @Test func hashFileRefusesALink() throws {
        let directory = try TempDirectory()
        directory.write("real", "x")
        directory.symlink("link", to: directory.absolute("real"))
        let error = storeError { try SHA256.hashFile(atPath: directory.absolute("link")) }
        #expect(error?.refusals.first?.reason == .specialFile(.symbolicLink))
    }

    private func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }
}
