// The exclusive lock of a run: flock(2) on a sibling file PATH.lock.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock(2)` on a lock file, held while this value is alive
/// (or until `release()`), whose content names the holder (`host:pid`).
///
/// - The kernel drops the lock when the descriptor is closed, which happens
///   when the process dies, even by SIGKILL: a crashed run never leaves a
///   stale lock, and the lock file itself is never deleted (deleting it would
///   let two processes lock two different files of the same name).
/// - The descriptor is opened `O_CLOEXEC`, so that child processes (ssh,
///   helpers) do not inherit it and keep the run locked after we die.
/// - flock locks belong to the open file description: a second `acquire` on
///   the same file in the same process is refused too.
/// - flock is advisory and may not work across NFS: keep journals on a
///   local file system.
final class RunLock {
    let path: String
    private var fd: Int32

    /// Why the lock could not be taken.
    enum Failure: Error, Equatable {
        /// Another open file description holds it; its holder as written in the file.
        case held(by: String)
        /// A system call failed.
        case system(call: String, path: String, message: String)
    }

    /// Takes the lock without waiting, then writes `holder` into the file.
    init(path: String, holder: String) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(call: "open", path: path, message: RunLock.errnoMessage()) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = RunLock.firstLine(fd)
            close(fd)
            if code == EWOULDBLOCK || code == EAGAIN {
                throw .held(by: holder.isEmpty ? "unknown holder" : holder)
            }
            throw .system(call: "flock", path: path, message: String(cString: strerror(code)))
        }
        self.fd = fd
        self.path = path
        // Holding the lock: replace the previous holder's line with ours
        // (if this throws, deinit releases the lock).
        try writeHolder(Array((holder + "\n").utf8))
    }

    deinit { release() }

    /// Releases the lock (idempotent): unlocked first, then closed. Closing
    /// alone would leave it held while a child process forked at that moment
    /// (by another thread) still shares the open file description, until
    /// that child calls exec; `LOCK_UN` releases it for every holder of the
    /// description at once.
    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// Replaces the file's content with `line`: written over the start of the
    /// file, then cut to its length, so that a reader of the first line sees
    /// either the old holder or the new one, never an empty file.
    private func writeHolder(_ line: [UInt8]) throws(Failure) {
        let written = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == line.count else {
            throw .system(call: "write", path: path, message: RunLock.errnoMessage())
        }
        guard ftruncate(fd, off_t(line.count)) == 0 else {
            throw .system(call: "ftruncate", path: path, message: RunLock.errnoMessage())
        }
    }

    /// The first line of the file (at most 4 KiB read), trimmed.
    static func firstLine(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        var offset: off_t = 0
        while bytes.count < 4096 {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            offset += off_t(n)
        }
        let line = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first ?? []
        return String(decoding: line, as: UTF8.self).trimmingWhitespace()
    }

    private static func errnoMessage() -> String { String(cString: strerror(errno)) }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines (no Foundation).
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
