@testable import RelevoLive
import RelevoStore
import Testing

/// What `find -printf '%y %m %s %T@ %A@ %U %G'` prints, read as the status an
/// SFTP listing gives (whole seconds, no device, inode or link count), and
/// anything else refused, so that a batch falls back to SFTP listings.
@Suite struct FindListingTests {
    @Test func statusesReadAsAnSFTPListingGivesThem() throws {
        let file = try #require(SFTPFileSystem.findStatus(ArraySlice("f 644 4013 1700000000.9876543210 1700000005.0000000000 5000 5000".utf8)))
        #expect(file.kind == .regularFile && file.mode == 0o644 && file.size == 4013)
        #expect(file.mtime == FileTime(seconds: 1_700_000_000) && file.atime == FileTime(seconds: 1_700_000_005))
        #expect(file.uid == 5000 && file.gid == 5000 && file.linkCount == 1 && file.device == 0 && file.inode == 0)
        let kinds: [(String, EntryKind)] = [("d", .directory), ("l", .symbolicLink), ("p", .fifo), ("s", .socket),
                                            ("c", .characterDevice), ("b", .blockDevice), ("D", .unknown)]
        for (letter, kind) in kinds {
            #expect(SFTPFileSystem.findStatus(ArraySlice("\(letter) 700 4096 1 1 0 0".utf8))?.kind == kind, "\(letter)")
        }
        #expect(SFTPFileSystem.findStatus(ArraySlice("d 4755 4096 1 1 0 0".utf8))?.mode == 0o4755)
    }

    @Test(arguments: ["", "f 644 1 1 1 0", "f 644 1 1 1 0 0 extra", "ff 644 1 1 1 0 0", "f 9z 1 1 1 0 0",
                      "f 644 -1 1 1 0 0", "f 644 1 x 1 0 0", "f 644 1 1 1 -5 0", "f  644 1 1 1 0 0"])
    func anythingElseIsRefused(_ text: String) {
        #expect(SFTPFileSystem.findStatus(ArraySlice(text.utf8)) == nil, "\(text)")
    }
}
