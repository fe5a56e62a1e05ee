import Foundation
import Testing
import Glibc
@testable import RelevoStore

@Suite struct MaildirCensusTests {
    @Test func keysMessagesByFolderAndBaseName() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres", folders: [".Sent", ".Lists.relevo"])
        directory.write("store/ceres/new/100.A.neon", "one")
        directory.write("store/ceres/cur/200.B.neon,S=3:2,S", "two")
        directory.write("store/ceres/.Sent/cur/300.C.neon:2,RS", "three")
        directory.write("store/ceres/.Sent/maildirfolder", "")
        directory.write("store/ceres/maildirsize", "10000000S,5000000C\n")
        directory.write("store/ceres/tmp/400.D.neon", "in delivery")
        directory.write("store/ceres/cur/.hidden", "not a message")

        let census = try MaildirCensus.scan(root: directory.absolute("store"), relative: "ceres")
        #expect(census.folders == ["", ".Lists.relevo", ".Sent"])
        #expect(census.messageCount == 3)
        #expect(census.messageBytes == 11)
        let one = try #require(census["100.A.neon"])
        #expect(one.subdirectory == .new)
        #expect(one.file.path == "new/100.A.neon")
        #expect(one.file.sha256 == SHA256.hexHash(Array("one".utf8)))
        let two = try #require(census["200.B.neon,S=3"])
        #expect(two.subdirectory == .cur)
        #expect(two.name.flags == ["S"])
        let sent = try #require(census["300.C.neon", folder: ".Sent"])
        #expect(sent.file.path == ".Sent/cur/300.C.neon:2,RS")
        #expect(census["300.C.neon"] == nil)
        #expect(census.otherFiles.map(\.path) == [".Sent/maildirfolder", "cur/.hidden", "maildirsize"])
        #expect(census.temporaryFiles.map(\.path) == ["tmp/400.D.neon"])
        #expect(census.temporaryFiles[0].sha256 == nil)
        #expect(census.duplicates.isEmpty)
    }

    @Test func newAndCurOfOneMessageAreADuplicateNotTwoMessages() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres")
        directory.write("store/ceres/new/100.A.neon", "one")
        directory.write("store/ceres/cur/100.A.neon:2,S", "one")
        let census = try MaildirCensus.scan(root: directory.absolute("store"), relative: "ceres")
        #expect(census.messageCount == 1)
        #expect(census["100.A.neon"]?.subdirectory == .cur)
        #expect(census.duplicates[MessageKey(base: "100.A.neon")]?.count == 2)
    }

    @Test func acceptsADeliveryInProgressButNoOtherHardLink() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres")
        // qmail-local: write tmp/X, link it to new/X, unlink tmp/X.
        directory.write("store/ceres/tmp/100.A.neon", "arriving")
        #expect(link(directory.absolute("store/ceres/tmp/100.A.neon"), directory.absolute("store/ceres/new/100.A.neon")) == 0)
        let census = try MaildirCensus.scan(root: directory.absolute("store"), relative: "ceres")
        #expect(census["100.A.neon"]?.file.linkCount == 2)
        // The same link into cur/ (or from outside tmp/) is refused.
        #expect(link(directory.absolute("store/ceres/tmp/100.A.neon"), directory.absolute("store/ceres/cur/200.B.neon:2,S")) == 0)
        let error = storeError { try MaildirCensus.scan(root: directory.absolute("store"), relative: "ceres") }
        #expect(error?.refusals.map(\.path) == ["ceres/cur/200.B.neon:2,S", "ceres/new/100.A.neon"])
    }

    @Test func differenceComparesByIdentityAndSHA256() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("old/ceres")
        directory.makeMaildir("new/ceres")
        directory.write("old/ceres/cur/1.A.neon:2,S", "same")
        directory.write("new/ceres/cur/1.A.neon:2,RS", "same")
        directory.write("old/ceres/cur/2.B.neon:2,S", "mine")
        directory.write("new/ceres/cur/2.B.neon:2,S", "tampered")
        directory.write("old/ceres/new/3.C.neon", "lost")
        directory.write("new/ceres/new/4.D.xalumno", "new mail")
        let old = try MaildirCensus.scan(root: directory.absolute("old"), relative: "ceres")
        let new = try MaildirCensus.scan(root: directory.absolute("new"), relative: "ceres")
        let difference = old.difference(to: new)
        #expect(difference.missing == [MessageKey(base: "3.C.neon")])
        #expect(difference.extra == [MessageKey(base: "4.D.xalumno")])
        #expect(difference.differentContent == [MessageKey(base: "2.B.neon")])
        #expect(difference.differentName == [MessageKey(base: "1.A.neon")])
        #expect(!difference.isComplete)
    }

    @Test func slotsOfPaths() {
        #expect(MaildirCensus.slot(of: "cur/x") == .message(folder: "", subdirectory: .cur))
        #expect(MaildirCensus.slot(of: ".Sent/new/x") == .message(folder: ".Sent", subdirectory: .new))
        #expect(MaildirCensus.slot(of: ".Sent/tmp/x") == .temporary(folder: ".Sent"))
        #expect(MaildirCensus.slot(of: "Sent/cur/x") == .other)
        #expect(MaildirCensus.slot(of: "cur/sub/x") == .other)
        #expect(MaildirCensus.slot(of: "maildirsize") == .other)
    }
}

/// Where a census puts each path (`MaildirCensus.slot`), read in place,
/// against the reading by components it replaced, on listed shapes and on
/// many drawn paths.
@Suite struct MaildirSlotTests {
    static func reference(_ path: String) -> MaildirCensus.Slot {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let folder: String
        let rest: ArraySlice<String>
        if parts.count == 2 {
            folder = ""
            rest = parts[...]
        } else if parts.count == 3, parts[0].hasPrefix("."), parts[0].count > 1 {
            folder = parts[0]
            rest = parts[1...]
        } else {
            return .other
        }
        switch rest.first! {
        case "new": return .message(folder: folder, subdirectory: .new)
        case "cur": return .message(folder: folder, subdirectory: .cur)
        case "tmp": return .temporary(folder: folder)
        default: return .other
        }
    }

    @Test func agreesWithTheReadingByComponents() {
        let listed = ["new/1", "cur/1:2,S", "tmp/x", ".Sent/cur/1", ".Sent/tmp/1", ".Sent/new/", "./cur/1", "../cur/1",
                      ".Sent/other/1", "cur", "", "/", "//", "cur/", "/cur/1", ".a/cur/b/c", "courierimapkeywords/x",
                      ".\u{301}/cur/1", ".é/cur/1", "new/a/b", ".x/new/1"]
        for path in listed { #expect(MaildirCensus.slot(of: path) == Self.reference(path), "\(path)") }
        var generator = SystemRandomNumberGenerator()
        let pieces = ["new", "cur", "tmp", ".Sent", ".", "..", "", "x", ".\u{301}", "é", ":2,S", "1700000000.M1P2.host"]
        for _ in 0..<20000 {
            let count = Int.random(in: 1...4, using: &generator)
            let path = (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined(separator: "/")
            #expect(MaildirCensus.slot(of: path) == Self.reference(path), "\(path)")
        }
    }
}
