#if canImport(Glibc)
import Glibc
#endif
import RelevoBasics

/// Why a secret reference could not be resolved. The message names the
/// reference, never a value.
public struct SecretError: Error, CustomStringConvertible, Sendable {
    public var reference: String
    public var reason: String
    public var description: String { "secret \(reference): \(reason)" }
}

extension SecretRef {
    /// Reads the secret: the environment variable's value, or the file's
    /// contents without one trailing newline (so `echo pw > file` works).
    ///
    /// A file must be a regular file (a link is followed only to a regular
    /// file) that neither its group nor others can read or write: like
    /// ssh with a private key, Relevo refuses a secret anyone may have
    /// read. A relative path is relative to `directory` (the plan's folder).
    public func resolve(environment: [String: String], directory: String = ".") throws -> Secret {
        switch source {
        case .env:
            guard let value = environment[name] else {
                throw SecretError(reference: description, reason: "the environment variable \(name) is not set")
            }
            guard !value.isEmpty else {
                throw SecretError(reference: description, reason: "the environment variable \(name) is empty")
            }
            return Secret(bytes: Array(value.utf8), reference: description)
        case .file:
            let path = name.hasPrefix("/") ? name : (directory.hasSuffix("/") ? directory : directory + "/") + name
            var bytes = try readSecretFile(path)
            if bytes.last == 0x0A { bytes.removeLast() }
            if bytes.last == 0x0D { bytes.removeLast() }
            guard !bytes.isEmpty else {
                throw SecretError(reference: description, reason: "the file is empty")
            }
            return Secret(bytes: bytes, reference: description)
        }
    }

    /// Refuses a secret file (a password, a private key) that is not a
    /// regular file or that its group or others may access in any way
    /// (mode & 077 must be 0: 0600, 0400 and 0700 pass). The message names
    /// the path and the mode, never the contents.
    public static func checkPrivateFile(_ path: String, reference: String) throws {
        let (fd, _) = try openPrivate(path, reference: reference)
        close(fd)
    }

    /// Opens a secret file (following a link to the file it names) and
    /// checks what `checkPrivateFile` says; the caller closes the descriptor.
    private static func openPrivate(_ path: String, reference: String) throws -> (Int32, stat) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else {
            throw SecretError(reference: reference, reason: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SecretError(reference: reference, reason: "\(path) is not a regular file")
        }
        guard st.st_mode & 0o077 == 0 else {
            close(fd)
            let mode = String(st.st_mode & 0o777, radix: 8)
            throw SecretError(reference: reference,
                              reason: "\(path) has mode \(mode); group and others must have no access (chmod 600 \(path))")
        }
        return (fd, st)
    }

    private func readSecretFile(_ path: String) throws -> [UInt8] {
        let (fd, st) = try Self.openPrivate(path, reference: description)
        defer { close(fd) }
        guard st.st_size <= 65536 else {
            throw SecretError(reference: description, reason: "\(path) is larger than 64 KiB; a secret file holds one secret")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SecretError(reference: description, reason: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        for i in buffer.indices { buffer[i] = 0 }
        return bytes
    }
}
