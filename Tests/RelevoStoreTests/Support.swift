import Foundation
import Glibc
@testable import RelevoStore

/// A fresh directory under /tmp, removed when the value goes away.
final class TempDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/relevo-store-test.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StoreError.io(path: "/tmp", operation: "mkdtemp", errno: errno) }
        path = realPath(String(cString: made))!
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func absolute(_ relative: String) -> String { path + "/" + relative }

    /// `mkdir -p`.
    func makeDirectory(_ relative: String, mode: Int = 0o700) {
        try! FileManager.default.createDirectory(atPath: absolute(relative), withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: mode])
    }

    /// Writes `text` at `relative` (making parents), with `mtime` and `mode`.
    @discardableResult
    func write(_ relative: String, _ text: String, mtime: FileTime? = nil, mode: Int = 0o600) -> String {
        let full = absolute(relative)
        makeDirectory((relative as NSString).deletingLastPathComponent)
        precondition(FileManager.default.createFile(atPath: full, contents: Data(text.utf8), attributes: [.posixPermissions: mode]))
        if let mtime { setTime(relative, mtime) }
        return full
    }

    func setTime(_ relative: String, _ mtime: FileTime) {
        var times = [timespec(tv_sec: Int(mtime.seconds), tv_nsec: Int(mtime.nanoseconds)),
                     timespec(tv_sec: Int(mtime.seconds), tv_nsec: Int(mtime.nanoseconds))]
        precondition(utimensat(AT_FDCWD, absolute(relative), &times, AT_SYMLINK_NOFOLLOW) == 0)
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: absolute(relative)).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ relative: String) -> Bool {
        var st = stat()
        return lstat(absolute(relative), &st) == 0
    }

    /// Names in a directory, sorted ([] when missing).
    func list(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: absolute(relative))) ?? []).sorted()
    }

    func status(_ relative: String) -> stat {
        var st = stat()
        precondition(lstat(absolute(relative), &st) == 0, "no \(relative)")
        return st
    }

    func mtime(_ relative: String) -> FileTime {
        FileTime(status(relative).st_mtim)
    }

    func mode(_ relative: String) -> UInt32 {
        UInt32(status(relative).st_mode) & 0o7777
    }

    func symlink(_ relative: String, to target: String) {
        makeDirectory((relative as NSString).deletingLastPathComponent)
        precondition(Glibc.symlink(target, absolute(relative)) == 0)
    }

    /// An empty Maildir (cur/new/tmp) with Maildir++ `folders`.
    func makeMaildir(_ relative: String, folders: [String] = []) {
        for folder in [""] + folders {
            for sub in ["cur", "new", "tmp"] {
                makeDirectory([relative, folder, sub].filter { !$0.isEmpty }.joined(separator: "/"))
            }
        }
    }

    /// The store root at this directory.
    func root() throws -> StoreRoot { try StoreRoot(path) }
}

/// Whether the tests run as root (chmod 000 does not stop root from reading).
var runningAsRoot: Bool { geteuid() == 0 }

/// Runs `body` and returns the `StoreError` it throws (nil when none).
func storeError<T>(_ body: () throws -> T) -> StoreError? {
    do {
        _ = try body()
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        return nil
    }
}
