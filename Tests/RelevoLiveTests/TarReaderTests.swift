import Foundation
@testable import RelevoLive
import RelevoStore
import Testing

/// The tar reader behind batched reads over SSH, on archives written by the
/// local GNU tar exactly as the hosts are asked to write them.
@Suite struct TarReaderTests {
    /// `tar -c --format=posix --no-recursion -C DIR -- NAMES` here.
    func archive(_ dir: String, _ names: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-c", "-f", "-", "--format=posix", "--no-recursion", "--numeric-owner", "-C", dir, "--"] + names
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return Array(data)
    }

    @Test func readsRegularFilesLongNamesAndTimesAndMarksEverythingElse() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/cur", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let long = "cur/" + String(repeating: "1700000000.M123456P789V000000000000FC01I0000000000ABCDEF.", count: 3) + "host,S=42:2,S"
        #expect(long.utf8.count > 155)
        try Data("first\n".utf8).write(to: URL(fileURLWithPath: dir + "/" + long))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/-n it's"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "/etc/passwd")
        let when = Date(timeIntervalSince1970: 1_234_567_890.25)
        try FileManager.default.setAttributes([.modificationDate: when, .posixPermissions: 0o640],
                                              ofItemAtPath: dir + "/" + long)

        let entries = try TarReader.entries(try archive(dir, [long, "empty", "-n it's", "link"]))
        #expect(entries.map(\.path) == [long, "empty", "-n it's", "link"])
        #expect(entries[0].kind == .regular && entries[0].data == Array("first\n".utf8))
        #expect(entries[0].mode == 0o640)
        #expect(entries[0].mtime.seconds == 1_234_567_890 && entries[0].mtime.nanoseconds == 250_000_000)
        #expect(entries[1].kind == .regular && entries[1].data.isEmpty)
        #expect(entries[2].data == Array("x".utf8))
        #expect(entries[3].kind == .other(UInt8(ascii: "2")), "a symbolic link is marked, never read as a file")
        #expect(entries[3].data.isEmpty)
    }

    @Test func refusesDamagedArchives() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(repeating: 65, count: 700).write(to: URL(fileURLWithPath: dir + "/m"))
        let good = try archive(dir, ["m"])
        #expect(try TarReader.entries(good).count == 1)

        var flipped = good
        flipped[1024 + 10] ^= 1   // the file's own header (after the pax header and its record)
        #expect(throws: TarReader.Malformed.self) { _ = try TarReader.entries(flipped) }
        // Cut inside the file's data, and cut before the end marker.
        #expect(throws: TarReader.Malformed.self) { _ = try TarReader.entries(Array(good.prefix(1024 + 512 + 100))) }
        #expect(throws: TarReader.Malformed.self) { _ = try TarReader.entries(Array(good.prefix(1024 + 512 + 1024))) }
    }
}

/// What Relevo writes, GNU tar must extract exactly (and the reader read back).
@Suite struct TarWriterTests {
    /// The ustar fields are zero-padded octal, as GNU tar writes them.
    @Test func headerFieldsAreZeroPaddedOctal() throws {
        let file = TarWriter.File(name: "0/cur/x", mode: 0o640, mtime: FileTime(seconds: 1_700_000_000, nanoseconds: 1),
                                  atime: FileTime(seconds: 0), bytes: [UInt8](repeating: 1, count: 1537))
        let archive = TarWriter.archive([file])
        // The pax header comes first; the file's own header follows its records.
        let records = Int(String(decoding: archive[124..<135], as: UTF8.self), radix: 8)!
        let header = Array(archive[(512 + (records + 511) / 512 * 512)...].prefix(512))
        func field(_ range: Range<Int>) -> String { String(decoding: header[range], as: UTF8.self) }
        #expect(field(0..<7) == "0/cur/x")
        #expect(field(100..<107) == "0000640")
        #expect(field(108..<115) == "0000000")
        #expect(field(124..<135) == "00000003001")
        #expect(field(136..<147) == String(1_700_000_000, radix: 8).leftPadded(to: 11))
        let sum = header.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
        #expect(field(148..<154) == String(sum, radix: 8).leftPadded(to: 6))
        #expect(try TarReader.entries(archive).map(\.path) == ["0/cur/x"])
    }

    @Test func gnuTarExtractsWhatTheWriterWrites() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tarw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = [
            TarWriter.File(name: "0", mode: 0o600, mtime: FileTime(seconds: 1_234_567_890, nanoseconds: 123_456_789),
                           atime: FileTime(seconds: 1_300_000_000, nanoseconds: 5), bytes: Array("first message\n".utf8)),
            TarWriter.File(name: "1", mode: 0o644, mtime: FileTime(seconds: 1_000_000_000), atime: FileTime(seconds: 1_000_000_000),
                           bytes: []),
            TarWriter.File(name: "2", mode: 0o640, mtime: FileTime(seconds: 1_700_000_000), atime: FileTime(seconds: 1_700_000_000),
                           bytes: [UInt8](repeating: 7, count: 1537)),
        ]
        let archive = TarWriter.archive(files)
        #expect(try TarReader.entries(archive).map(\.path) == ["0", "1", "2"])

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-x", "-f", "-", "--no-same-owner", "-C", dir]
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(archive))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for file in files {
            let path = dir + "/" + file.name
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(file.bytes))
            var st = stat()
            #expect(lstat(path, &st) == 0)
            #expect(st.st_mode & 0o7777 == file.mode)
            #expect(Int64(st.st_mtim.tv_sec) == file.mtime.seconds && Int32(st.st_mtim.tv_nsec) == file.mtime.nanoseconds)
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
