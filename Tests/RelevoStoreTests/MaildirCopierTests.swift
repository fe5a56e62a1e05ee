import Foundation
import Testing
import Glibc
@testable import RelevoStore

/// Two hosts as local trees: neon's store (the source) and xalumno's (the
/// destination), with user ceres.
struct TwoStores {
    let directory: TempDirectory
    let source: StoreLocation
    let destination: StoreLocation

    init() throws {
        directory = try TempDirectory()
        directory.makeMaildir("neon/ceres")
        directory.makeDirectory("xalumno")
        source = try StoreRoot(directory.absolute("neon")).location("ceres/")
        destination = try StoreRoot(directory.absolute("xalumno")).location("ceres/")
    }

    /// Writes into the source Maildir.
    @discardableResult
    func old(_ path: String, _ text: String, mtime: FileTime? = nil, mode: Int = 0o600) -> String {
        directory.write("neon/ceres/" + path, text, mtime: mtime, mode: mode)
    }

    /// Writes into the destination Maildir.
    @discardableResult
    func new(_ path: String, _ text: String, mtime: FileTime? = nil) -> String {
        directory.write("xalumno/ceres/" + path, text, mtime: mtime)
    }

    func rename(_ from: String, _ to: String) {
        #expect(Glibc.rename(directory.absolute(from), directory.absolute(to)) == 0)
    }

    func copier(_ options: CopyOptions = CopyOptions(syncFiles: false)) -> MaildirCopier {
        MaildirCopier(from: source, to: destination, options: options)
    }
}

@Suite struct MaildirCopierTests {
    /// What a killed copy left in the destination's `tmp/` (a temporary
    /// file, a staging folder of a batch) is removed by the next pass; what
    /// belongs to this process or to a delivery in progress is not.
    @Test func leftoversOfAKilledCopyAreRemovedByTheNextPass() throws {
        let stores = try TwoStores()
        stores.old("cur/1700000000.M1P1.neon:2,S", "one")
        stores.directory.makeMaildir("xalumno/ceres")
        stores.new("tmp/.relevo-1-dead", "half a message")
        stores.directory.makeDirectory("xalumno/ceres/tmp/.relevo-1-beef.d")
        stores.new("tmp/.relevo-1-beef.d/0", "a staged message")
        stores.new("tmp/.relevo-1-beef.d/1", "another")
        stores.new("tmp/.relevo-\(getpid())-mine", "this process's own")
        stores.new("tmp/1700000001.M2P2.xalumno", "a delivery in progress")
        let report = try stores.copier().copy()
        #expect(report.copied.map(\.path) == ["cur/1700000000.M1P1.neon:2,S"])
        #expect(stores.directory.list("xalumno/ceres/tmp").sorted() == [".relevo-\(getpid())-mine", "1700000001.M2P2.xalumno"])
    }

    @Test func copiesMessagesKeepingNamesTimesAndModes() throws {
        let stores = try TwoStores()
        let time = FileTime(seconds: 1_600_000_000, nanoseconds: 123_456_789)
        stores.old("new/100.A.neon", "one", mtime: time)
        stores.old("cur/200.B.neon,S=3:2,S", "two", mtime: FileTime(seconds: 1_500_000_000), mode: 0o640)
        stores.old(".Sent/cur/300.C.neon:2,S", "three")
        stores.old(".Sent/maildirfolder", "")
        stores.old("maildirsize", "10000000S,5000000C\n")
        stores.old("tmp/999.Z.neon", "half a delivery")

        let report = try stores.copier().copy()
        #expect(report.copied.map(\.path) == [
            "new/100.A.neon", "cur/200.B.neon,S=3:2,S", ".Sent/cur/300.C.neon:2,S",
            ".Sent/maildirfolder", "maildirsize",
        ])
        #expect(report.bytesCopied == 3 + 3 + 5 + 0 + 19)
        #expect(report.conflicts.isEmpty)
        #expect(report.createdDirectories.first == "ceres")
        #expect(report.createdDirectories.contains("ceres/.Sent/tmp"))
        #expect(report.source == stores.source.path)
        #expect(report.destination == stores.destination.path)

        let d = stores.directory
        #expect(d.read("xalumno/ceres/new/100.A.neon") == "one")
        #expect(d.read("xalumno/ceres/.Sent/cur/300.C.neon:2,S") == "three")
        // mtime to the nanosecond (whatever the source file system kept), and mode.
        #expect(d.mtime("xalumno/ceres/new/100.A.neon") == d.mtime("neon/ceres/new/100.A.neon"))
        #expect(d.mtime("xalumno/ceres/new/100.A.neon").seconds == 1_600_000_000)
        #expect(d.mtime("xalumno/ceres/cur/200.B.neon,S=3:2,S") == FileTime(seconds: 1_500_000_000))
        #expect(d.mode("xalumno/ceres/cur/200.B.neon,S=3:2,S") == 0o640)
        #expect(report.copied.first { $0.path == "new/100.A.neon" }?.mtime == d.mtime("neon/ceres/new/100.A.neon"))
        // tmp/ is never copied and no temporary file is left behind.
        #expect(d.list("xalumno/ceres/tmp").isEmpty)
        #expect(d.list("xalumno/ceres/.Sent/tmp").isEmpty)
        #expect(d.list("xalumno/ceres/.Sent") == ["cur", "maildirfolder", "new", "tmp"])
        // The verification census agrees.
        let old = try MaildirCensus.scan(stores.source)
        let new = try MaildirCensus.scan(stores.destination)
        let difference = old.difference(to: new)
        #expect(difference.isComplete && difference.extra.isEmpty && difference.differentName.isEmpty)
        #expect(report.copied.first { $0.path == "new/100.A.neon" }?.sha256 == old["100.A.neon"]?.file.sha256)
    }

    @Test func secondPassCopiesNothing() throws {
        let stores = try TwoStores()
        stores.old("new/100.A.neon", "one")
        stores.old("cur/200.B.neon:2,S", "two")
        stores.old("maildirsize", "quota")
        let copier = stores.copier()
        let first = try copier.copy()
        #expect(first.copied.count == 3)
        #expect(!first.isStable)
        let second = try copier.copy()
        #expect(second.copied.isEmpty)
        #expect(second.renamed.isEmpty)
        #expect(second.skipped == 3)
        #expect(second.createdDirectories.isEmpty)
        #expect(second.isStable)
    }

    @Test func aMessageMovedToCurAndFlaggedBetweenPassesIsRenamedNotDuplicated() throws {
        let stores = try TwoStores()
        stores.old("new/100.A.neon", "one")
        stores.old("cur/200.B.neon:2,S", "two")
        let copier = stores.copier()
        _ = try copier.copy()
        // The user reads both on neon before the redirect lands.
        stores.rename("neon/ceres/new/100.A.neon", "neon/ceres/cur/100.A.neon:2,S")
        stores.rename("neon/ceres/cur/200.B.neon:2,S", "neon/ceres/cur/200.B.neon:2,RS")
        let second = try copier.copy()
        #expect(second.copied.isEmpty)
        #expect(Set(second.renamed.map { "\($0.from) -> \($0.to)" }) == [
            "new/100.A.neon -> cur/100.A.neon:2,S",
            "cur/200.B.neon:2,S -> cur/200.B.neon:2,RS",
        ])
        #expect(second.renamed.allSatisfy { $0.sha256 != nil })
        #expect(stores.directory.list("xalumno/ceres/new").isEmpty)
        #expect(stores.directory.list("xalumno/ceres/cur") == ["100.A.neon:2,S", "200.B.neon:2,RS"])
        #expect(try MaildirCensus.scan(stores.destination).messageCount == 2)
        #expect(try copier.copy().isStable)
    }

    @Test func flagPolicies() throws {
        let stores = try TwoStores()
        stores.old("cur/1.A.neon:2,R", "one")
        stores.new("cur/1.A.neon:2,S", "one")
        stores.old("new/2.B.neon", "two")
        stores.new("cur/2.B.neon:2,S", "two")  // read on xalumno: never back to new/
        let keep = try stores.copier(CopyOptions(flagPolicy: .keepDestination, syncFiles: false)).copy()
        #expect(keep.renamed.isEmpty)
        #expect(keep.skipped == 2)
        let merge = try stores.copier(CopyOptions(flagPolicy: .merge, syncFiles: false)).copy()
        #expect(merge.renamed.map(\.to) == ["cur/1.A.neon:2,RS"])
        #expect(stores.directory.list("xalumno/ceres/cur") == ["1.A.neon:2,RS", "2.B.neon:2,S"])
        let follow = try stores.copier().copy()
        #expect(follow.renamed.map(\.to) == ["cur/1.A.neon:2,R"])
        #expect(stores.directory.list("xalumno/ceres/new").isEmpty)
    }

    @Test func flagPolicyTargets() throws {
        func message(_ sub: MaildirSubdirectory, _ name: String) throws -> MaildirMessage {
            let parsed = try MaildirName(parsing: name)
            let entry = CensusEntry(path: "\(sub.rawValue)/\(name)", status: FileStatus(stat()), sha256: nil)
            return MaildirMessage(folder: "", subdirectory: sub, name: parsed, file: entry)
        }
        let newX = try message(.new, "1.x.h")
        let seen = try message(.cur, "1.x.h:2,S")
        let replied = try message(.cur, "1.x.h:2,R")
        #expect(FlagPolicy.followSource.target(source: seen, destination: newX)?.name.name == "1.x.h:2,S")
        #expect(FlagPolicy.followSource.target(source: newX, destination: seen) == nil)
        #expect(FlagPolicy.followSource.target(source: seen, destination: seen) == nil)
        #expect(FlagPolicy.merge.target(source: replied, destination: seen)?.name.name == "1.x.h:2,RS")
        #expect(FlagPolicy.merge.target(source: seen, destination: newX)?.name.name == "1.x.h:2,S")
        #expect(FlagPolicy.keepDestination.target(source: replied, destination: seen) == nil)
    }

    @Test func aDifferentMessageUnderTheSameNameIsAConflictNeverOverwritten() throws {
        let stores = try TwoStores()
        stores.old("cur/1.A.neon:2,S", "the real one")
        stores.new("cur/1.A.neon:2,S", "an impostor")
        stores.old("new/2.B.neon", "two")
        stores.old("maildirsize", "old quota")
        stores.new("maildirsize", "new quota")
        let report = try stores.copier().copy()
        #expect(report.conflicts == [
            CopyConflict(sourcePath: "cur/1.A.neon:2,S", destinationPath: "cur/1.A.neon:2,S",
                         reason: .differentContent, isMessage: true),
            CopyConflict(sourcePath: "maildirsize", destinationPath: "maildirsize",
                         reason: .differentContent, isMessage: false),
        ])
        #expect(report.copied.map(\.path) == ["new/2.B.neon"])
        #expect(stores.directory.read("xalumno/ceres/cur/1.A.neon:2,S") == "an impostor")
        #expect(stores.directory.read("xalumno/ceres/maildirsize") == "new quota")
        // Same base, other flags, other contents: still a conflict, no rename.
        stores.rename("xalumno/ceres/cur/1.A.neon:2,S", "xalumno/ceres/cur/1.A.neon:2,T")
        let again = try stores.copier().copy()
        #expect(again.renamed.isEmpty)
        #expect(again.conflicts.first?.destinationPath == "cur/1.A.neon:2,T")
    }

    @Test func aMessageHeldTwiceInTheSourceIsNotCopied() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.old("cur/1.A.neon:2,S", "one")
        let report = try stores.copier().copy()
        #expect(report.copied.isEmpty)
        #expect(report.conflicts.map(\.reason) == [.ambiguousSource])
    }

    @Test func refusesLinksAndSpecialFilesInTheSourceWithoutWritingAnything() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "fine")
        stores.directory.symlink("neon/ceres/cur/2.B.neon:2,S", to: "/etc/shadow")
        #expect(mkfifo(stores.directory.absolute("neon/ceres/new/3.C.neon"), 0o600) == 0)
        let error = storeError { try stores.copier().copy() }
        #expect(error == .refused([
            Refusal(path: "ceres/cur/2.B.neon:2,S", reason: .specialFile(.symbolicLink)),
            Refusal(path: "ceres/new/3.C.neon", reason: .specialFile(.fifo)),
        ]))
        #expect(!stores.directory.exists("xalumno/ceres"))
    }

    @Test func anErrorMidCopyLeavesNoPartialFileAndReportsWhatWasDone() throws {
        let stores = try TwoStores()
        let big = String(repeating: "0123456789abcdef", count: 20_000)  // 320 KB: several chunks
        stores.old("new/1.A.neon", big)
        stores.old("new/2.B.neon", big)
        stores.old("new/3.C.neon", big)
        var options = CopyOptions(syncFiles: false)
        options.faultInjection = { stage, path in
            if stage == .afterFirstChunk && path.hasSuffix("2.B.neon") { throw StoreError.io(path: path, operation: "read", errno: EIO) }
        }
        let error = storeError { try stores.copier(options).copy() }
        guard case .interrupted(let partial, let cause)? = error else {
            Issue.record("expected an interrupted copy, got \(String(describing: error))")
            return
        }
        #expect(cause == .io(path: "ceres/new/2.B.neon", operation: "read", errno: EIO))
        #expect(partial.copied.map(\.path) == ["new/1.A.neon"])
        #expect(stores.directory.list("xalumno/ceres/tmp").isEmpty)
        #expect(stores.directory.list("xalumno/ceres/new") == ["1.A.neon"])
        #expect(stores.directory.read("xalumno/ceres/new/1.A.neon") == big)
        // A clean pass finishes the job without copying 1.A again.
        let resumed = try stores.copier().copy()
        #expect(resumed.copied.map(\.path) == ["new/2.B.neon", "new/3.C.neon"])
        #expect(resumed.skipped == 1)
    }

    @Test func aMessageChangedInPlaceBetweenTheCensusAndItsOpenIsNotCopied() throws {
        // Same inode, other size: what a link planted after the lstat looks
        // like over SFTP, where there is no inode to compare.
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.old("new/2.B.neon", "two")
        let path = stores.directory.absolute("neon/ceres/new/2.B.neon")
        var options = CopyOptions(syncFiles: false)
        options.faultInjection = { stage, name in
            if stage == .beforeOpen && name.hasSuffix("2.B.neon") {
                let handle = FileHandle(forWritingAtPath: path)!
                handle.seekToEndOfFile()
                handle.write(Data("and something else".utf8))
                try? handle.close()
            }
        }
        let error = storeError { try stores.copier(options).copy() }
        guard case .interrupted(let partial, .sourceChanged(let changed))? = error else {
            Issue.record("expected a changed source, got \(String(describing: error))")
            return
        }
        #expect(changed == "ceres/new/2.B.neon")
        #expect(partial.copied.map(\.path) == ["new/1.A.neon"], "what was placed is handed to the undo")
        #expect(stores.directory.list("xalumno/ceres/new") == ["1.A.neon"])
        #expect(stores.directory.list("xalumno/ceres/tmp").isEmpty)
    }

    @Test func anUnreadableSourceFileStopsTheCopyCleanly() throws {
        // chmod 000 stops only non-root users; as root the fault hook above covers it.
        guard !runningAsRoot else { return }
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.old("new/2.B.neon", "two")
        #expect(chmod(stores.directory.absolute("neon/ceres/new/2.B.neon"), 0) == 0)
        let error = storeError { try stores.copier().copy() }
        guard case .interrupted(let partial, .io(let path, _, let code))? = error else {
            Issue.record("expected an interrupted copy, got \(String(describing: error))")
            return
        }
        #expect(path == "ceres/new/2.B.neon")
        #expect(code == EACCES)
        #expect(partial.copied.map(\.path) == ["new/1.A.neon"])
        #expect(stores.directory.list("xalumno/ceres/tmp").isEmpty)
    }

    @Test func aSourceMessageMovedDuringThePassIsTakenUpByTheNextPass() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.old("new/2.B.neon", "two")
        let neon = stores.directory.absolute("neon/ceres")
        var options = CopyOptions(syncFiles: false)
        // The user reads 1.A on neon between the census and its copy.
        options.faultInjection = { stage, path in
            if stage == .beforeOpen && path == "ceres/new/1.A.neon" {
                _ = Glibc.rename(neon + "/new/1.A.neon", neon + "/cur/1.A.neon:2,S")
            }
        }
        let first = try stores.copier(options).copy()
        #expect(first.vanished == ["new/1.A.neon"])
        #expect(first.copied.map(\.path) == ["new/2.B.neon"])
        #expect(!first.isStable)
        #expect(stores.directory.list("xalumno/ceres/tmp").isEmpty)
        let second = try stores.copier().copy()
        #expect(second.copied.map(\.path) == ["cur/1.A.neon:2,S"])
        #expect(second.vanished.isEmpty)
    }

    @Test func copyUntilStableRepeatsUntilAPassCopiesNothing() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.old(".Sent/cur/2.B.neon:2,S", "two")
        let reports = try stores.copier().copyUntilStable(maxPasses: 5)
        #expect(reports.count == 2)
        #expect(reports[0].copied.count == 2)
        #expect(reports[1].isStable)
        let capped = try stores.copier().copyUntilStable(maxPasses: 1)
        #expect(capped.count == 1)
    }

    @Test func copyUntilStableKeepsEarlierPassesWhenALaterOneFails() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        let planted = stores.directory.absolute("neon/ceres/cur/2.B.neon:2,S")
        var options = CopyOptions(syncFiles: false)
        // After the first message is placed, a link appears in the source:
        // the second pass refuses it.
        options.faultInjection = { stage, _ in
            if stage == .afterFirstChunk { _ = Glibc.symlink("/etc/shadow", planted) }
        }
        let error = storeError { try stores.copier(options).copyUntilStable(maxPasses: 3) }
        guard case .interrupted(let partial, .refused(let refusals))? = error else {
            Issue.record("expected an interrupted copy, got \(String(describing: error))")
            return
        }
        #expect(partial.copied.map(\.path) == ["new/1.A.neon"])
        #expect(refusals.map(\.path) == ["ceres/cur/2.B.neon:2,S"])
        #expect(try stores.copier().removeCopied(report: partial).removed == ["new/1.A.neon"])
    }

    @Test func removeCopiedDeletesOnlyWhatTheCopyCreated() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.old("cur/2.B.neon:2,S", "two")
        stores.old(".Sent/cur/3.C.neon:2,S", "three")
        stores.old("maildirsize", "quota")
        stores.directory.makeMaildir("xalumno/ceres")
        stores.new("cur/0.Z.xalumno:2,S", "was there before")
        let copier = stores.copier()
        let report = try copier.copy()
        #expect(report.copied.count == 4)
        #expect(report.createdDirectories.contains("ceres/.Sent"))
        #expect(!report.createdDirectories.contains("ceres"))

        // After the copy: new mail lands on xalumno, the user reads a copied
        // message there, and the quota file is rewritten.
        stores.new("new/9.N.xalumno", "delivered after the copy")
        stores.rename("xalumno/ceres/new/1.A.neon", "xalumno/ceres/cur/1.A.neon:2,S")
        stores.new("maildirsize", "quota\n+5 1\n")

        let removal = try copier.removeCopied(report: report)
        #expect(Set(removal.removed) == ["cur/1.A.neon:2,S", "cur/2.B.neon:2,S", ".Sent/cur/3.C.neon:2,S"])
        #expect(removal.kept == [KeptFile(path: "maildirsize", reason: .changed)])
        #expect(removal.removedDirectories.sorted() == [
            "ceres/.Sent", "ceres/.Sent/cur", "ceres/.Sent/new", "ceres/.Sent/tmp",
        ])
        let d = stores.directory
        #expect(d.list("xalumno/ceres/new") == ["9.N.xalumno"])
        #expect(d.list("xalumno/ceres/cur") == ["0.Z.xalumno:2,S"])
        #expect(d.read("xalumno/ceres/maildirsize") == "quota\n+5 1\n")
        #expect(!d.exists("xalumno/ceres/.Sent"))
    }

    @Test func removeCopiedFollowsRenamesAcrossPassesAndRemovesCreatedDirectories() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        let copier = stores.copier()
        let first = try copier.copy()
        stores.rename("neon/ceres/new/1.A.neon", "neon/ceres/cur/1.A.neon:2,S")
        let second = try copier.copy()
        #expect(second.renamed.count == 1)
        let removal = try copier.removeCopied(reports: [first, second])
        #expect(removal.removed == ["cur/1.A.neon:2,S"])
        #expect(removal.kept.isEmpty)
        #expect(removal.removedDirectories.last == "ceres")
        #expect(!stores.directory.exists("xalumno/ceres"))
        // A report for another destination is refused.
        let other = try StoreRoot(stores.directory.absolute("neon")).location("ceres")
        let wrong = MaildirCopier(from: stores.destination, to: other)
        #expect(storeError { try wrong.removeCopied(report: first) }
                == .reportMismatch(expected: other.path, found: stores.destination.path))
    }

    @Test func removeCopiedAfterAnInterruptedCopy() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.old("new/2.B.neon", "two")
        var options = CopyOptions(syncFiles: false)
        options.faultInjection = { stage, path in
            if stage == .afterFirstChunk && path.hasSuffix("2.B.neon") { throw StoreError.io(path: path, operation: "read", errno: EIO) }
        }
        guard case .interrupted(let partial, _)? = storeError({ try stores.copier(options).copy() }) else {
            Issue.record("expected an interrupted copy")
            return
        }
        let removal = try stores.copier().removeCopied(report: partial)
        #expect(removal.removed == ["new/1.A.neon"])
        #expect(!stores.directory.exists("xalumno/ceres"))
    }

    @Test func refusesOverlappingLocations() throws {
        let stores = try TwoStores()
        let inside = try StoreRoot(stores.directory.absolute("neon")).location("ceres/.Sent")
        #expect(storeError { try MaildirCopier.copy(from: stores.source, to: inside) }
                == .overlapping(source: stores.source.path, destination: inside.path))
        #expect(storeError { try MaildirCopier.copy(from: stores.source, to: stores.source) } != nil)
    }

    @Test func refusesALinkPlantedInTheDestination() throws {
        let stores = try TwoStores()
        stores.old("new/1.A.neon", "one")
        stores.directory.makeDirectory("elsewhere")
        stores.directory.makeDirectory("xalumno/ceres")
        stores.directory.symlink("xalumno/ceres/new", to: stores.directory.absolute("elsewhere"))
        let error = storeError { try stores.copier().copy() }
        #expect(error?.refusals == [Refusal(path: "ceres/new", reason: .specialFile(.symbolicLink))])
        #expect(stores.directory.list("elsewhere").isEmpty)
    }
}
