import Foundation
import Testing
@testable import RelevoStore

@Suite struct StoreRootTests {
    @Test func resolvesARelativeStorePath() throws {
        let directory = try TempDirectory()
        directory.makeDirectory("maildirs/ceres")
        let root = try StoreRoot(directory.absolute("maildirs"))
        #expect(root.path == directory.absolute("maildirs"))
        #expect(try root.resolve(relative: "ceres/") == directory.absolute("maildirs/ceres"))
        #expect(try root.resolve(relative: "./ceres//cur") == directory.absolute("maildirs/ceres/cur"))
        // Missing trailing components are fine: a store about to be created.
        #expect(try root.resolve(relative: "pluto/") == directory.absolute("maildirs/pluto"))
        let location = try root.location("ceres/")
        #expect(location.relative == "ceres")
        #expect(location.path == directory.absolute("maildirs/ceres"))
    }

    @Test(arguments: [
        ("../../etc", PathProblem.parentComponent),
        ("/etc", .absolute),
        ("a/../../b", .parentComponent),
        ("a/..", .parentComponent),
        ("", .empty),
        ("./", .empty),
        ("//", .absolute),
    ])
    func refusesBadSpellings(relative: String, problem: PathProblem) throws {
        let directory = try TempDirectory()
        let root = try directory.root()
        #expect(storeError { try root.resolve(relative: relative) } == .invalidRelativePath(relative, problem))
        #expect(storeError { try root.location(relative) } == .invalidRelativePath(relative, problem))
    }

    @Test func refusesNulAndOverlongComponents() throws {
        let root = try TempDirectory().root()
        #expect(storeError { try root.resolve(relative: "ce\u{0}res") } == .invalidRelativePath("ce\u{0}res", .nulByte))
        let long = String(repeating: "x", count: 256)
        #expect(storeError { try root.resolve(relative: long) } == .invalidRelativePath(long, .componentTooLong))
    }

    @Test func refusesASymlinkedComponentEscapingTheRoot() throws {
        let directory = try TempDirectory()
        directory.makeDirectory("maildirs")
        directory.makeDirectory("outside/secret")
        directory.symlink("maildirs/ceres", to: directory.absolute("outside"))
        directory.symlink("maildirs/up", to: "..")
        let root = try StoreRoot(directory.absolute("maildirs"))
        let error = storeError { try root.resolve(relative: "ceres/secret") }
        #expect(error == .escapesRoot(path: "ceres/secret", resolved: directory.absolute("outside"), root: root.path))
        #expect(error?.description.contains("outside the store root") == true)
        let up = storeError { try root.resolve(relative: "up/outside") }
        #expect(up == .escapesRoot(path: "up/outside", resolved: directory.path, root: root.path))
        // Dangling links are refused too.
        directory.symlink("maildirs/dangling", to: "/nonexistent/place")
        #expect(storeError { try root.resolve(relative: "dangling/x") }
                == .escapesRoot(path: "dangling/x", resolved: "/nonexistent/place", root: root.path))
    }

    @Test func refusesASymlinkInsideTheRootToo() throws {
        // ceres -> pluto would copy (or chown) another user's mailbox.
        let directory = try TempDirectory()
        directory.makeMaildir("pluto")
        directory.symlink("ceres", to: "pluto")
        let root = try directory.root()
        #expect(storeError { try root.resolve(relative: "ceres") } == .symlinkInPath(path: "ceres", component: "ceres"))
        #expect(storeError { try root.location("ceres/cur") } == .symlinkInPath(path: "ceres/cur", component: "ceres"))
    }

    @Test func refusesAFileAsAnIntermediateDirectory() throws {
        let directory = try TempDirectory()
        directory.write("file", "x")
        let root = try directory.root()
        #expect(storeError { try root.resolve(relative: "file/below") } == .notADirectory("file"))
    }

    @Test func checksTheRootItself() throws {
        #expect(storeError { try StoreRoot("relative/root") } == .rootNotAbsolute("relative/root"))
        #expect(storeError { try StoreRoot("/nonexistent/relevo/root") } == .rootNotADirectory("/nonexistent/relevo/root"))
        let directory = try TempDirectory()
        directory.write("file", "x")
        #expect(storeError { try StoreRoot(directory.absolute("file")) } == .rootNotADirectory(directory.absolute("file")))
        // Links in the root's own path are resolved once (the root is configuration).
        directory.makeDirectory("real")
        directory.symlink("alias", to: "real")
        #expect(try StoreRoot(directory.absolute("alias")).path == directory.absolute("real"))
    }

    @Test func aLinkPlantedAfterTheCheckIsRefusedAtUse() throws {
        let directory = try TempDirectory()
        directory.makeMaildir("store/ceres")
        directory.makeDirectory("elsewhere")
        directory.write("elsewhere/cur/1.2.h", "not yours")
        let root = try StoreRoot(directory.absolute("store"))
        let location = try root.location("ceres")
        try FileManager.default.removeItem(atPath: directory.absolute("store/ceres"))
        directory.symlink("store/ceres", to: directory.absolute("elsewhere"))
        let error = storeError { try MaildirCensus.scan(location) }
        #expect(error == .refused([Refusal(path: "ceres", reason: .specialFile(.symbolicLink))]))
    }
}
