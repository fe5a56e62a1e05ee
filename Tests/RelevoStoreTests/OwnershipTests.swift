import Foundation
import Testing
import Glibc
@testable import RelevoStore

@Suite struct OwnershipTests {
    @Test func resolvesNamesAndNumbers() throws {
        #expect(try Ownership.resolve(user: "root", group: "root") == Owner(uid: 0, gid: 0))
        #expect(try Ownership.resolve(user: "516", group: "512") == Owner(uid: 516, gid: 512))
        #expect(storeError { try Ownership.userID("no-such-user-relevo") } == .unknownUser("no-such-user-relevo"))
        #expect(storeError { try Ownership.groupID("no-such-group-relevo") } == .unknownGroup("no-such-group-relevo"))
    }

    @Test func withoutRootItOnlyListsWhatItWouldDo() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres")
        directory.write("store/ceres/cur/1.A.neon:2,S", "one")
        let location = try StoreRoot(directory.absolute("store")).location("ceres")
        let before = try Ownership.currentOwners(of: location)
        #expect(before.map(\.path) == ["", "cur", "cur/1.A.neon:2,S", "new", "tmp"])
        let report = try Ownership.change(location, to: Owner(uid: 516, gid: 512), dryRun: false,
                                          allowHardLinks: false, isRoot: false)
        #expect(!report.applied)
        #expect(report.changes.count == 5)
        #expect(report.changes.allSatisfy { $0.to == Owner(uid: 516, gid: 512) })
        #expect(report.changes.map(\.from) == before.map(\.owner))
        #expect(try Ownership.currentOwners(of: location) == before)
    }

    @Test func asRootItChangesOwnersAndCanUndo() throws {
        guard runningAsRoot else { return }
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres")
        directory.write("store/ceres/cur/1.A.neon:2,S", "one")
        let location = try StoreRoot(directory.absolute("store")).location("ceres")
        let before = try Ownership.currentOwners(of: location)
        let vmail = Owner(uid: 516, gid: 512)
        let report = try Ownership.change(location, to: vmail)
        #expect(report.applied)
        #expect(try Ownership.currentOwners(of: location).allSatisfy { $0.owner == vmail })
        #expect(directory.status("store/ceres/cur/1.A.neon:2,S").st_uid == 516)
        let again = try Ownership.change(location, to: vmail)
        #expect(again.changes.isEmpty && again.unchanged == 5)
        try Ownership.restore(report, in: location)
        #expect(try Ownership.currentOwners(of: location) == before)
        let dry = try Ownership.change(location, to: vmail, dryRun: true)
        #expect(!dry.applied && dry.changes.count == 5)
        #expect(try Ownership.currentOwners(of: location) == before)
    }

    @Test func refusesAHardLinkToAFileOutsideBeforeChangingAnything() throws {
        let directory = try TempDirectory()
        directory.write("secret", "root only")
        directory.makeMaildir("store/ceres")
        directory.write("store/ceres/cur/1.A.neon:2,S", "one")
        #expect(link(directory.absolute("secret"), directory.absolute("store/ceres/cur/2.B.neon:2,S")) == 0)
        directory.symlink("store/ceres/new/3.C.neon", to: "/etc/shadow")
        let location = try StoreRoot(directory.absolute("store")).location("ceres")
        let owner = directory.status("store/ceres/cur/1.A.neon:2,S").st_uid
        let error = storeError { try Ownership.change(location, to: Owner(uid: 516, gid: 512)) }
        #expect(error == .refused([
            Refusal(path: "ceres/cur/2.B.neon:2,S", reason: .hardLinked(links: 2)),
            Refusal(path: "ceres/new/3.C.neon", reason: .specialFile(.symbolicLink)),
        ]))
        #expect(directory.status("store/ceres/cur/1.A.neon:2,S").st_uid == owner)
        #expect(directory.status("secret").st_uid == owner)
    }
}

/// The undo record a `chown` journals, written directly: read back equal,
/// with the keys in the order `JSONEncoder` sorts them; odd names included.
@Suite struct OwnershipReportJSONTests {
    @Test func reportsReadBackEqual() throws {
        let odd = ["plain", "", "quote\"back\\slash/slash", "tab\tnew\nline\r\u{01}\u{7f}", "é ✓ 𝄞", "cur/1700000000.M1P2.host,S=5:2,S"]
        let changes = odd.enumerated().map { i, name in
            OwnerChange(path: name, from: Owner(uid: UInt32(i), gid: UInt32.max - UInt32(i)), to: Owner(uid: 5000, gid: 0))
        }
        let samples = [
            OwnershipReport(location: "", applied: false, changes: [], unchanged: 0),
            OwnershipReport(location: "/var/qmail/maildirs/" + odd[2], applied: true, changes: changes, unchanged: 42),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for sample in samples {
            let text = sample.json
            #expect(try JSONDecoder().decode(OwnershipReport.self, from: Data(text.utf8)) == sample, "\(text)")
            let reference = try JSONSerialization.jsonObject(with: encoder.encode(sample)) as? NSDictionary
            #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary == reference)
        }
    }
}
