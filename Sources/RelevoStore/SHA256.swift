import COpenSSL
import Glibc

/// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto (its EVP digest
/// interface: the processor's SHA instructions where it has them, several
/// times faster than portable code; the library is there anyway, libssh2
/// uses it).
///
/// Incremental: feed bytes with `update`, read the digest with `finalize()`
/// (which leaves the hasher untouched, so more bytes may follow). A value:
/// a copy goes on from the state it was copied in.
///
///     var hasher = SHA256()
///     hasher.update(Array("abc".utf8))
///     hasher.hexDigest()   // "ba7816bf..."
public struct SHA256: Sendable {
    /// Digest length in bytes.
    public static let digestSize = 32
    /// Block length in bytes.
    public static let blockSize = 64
    /// Chunk size used to stream files.
    public static let chunkSize = 64 * 1024

    private var context: DigestContext

    public init() {
        context = DigestContext()
    }

    /// Feeds `bytes` into the hash.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update(bytes: $0) }
    }

    /// Feeds the UTF-8 encoding of `text` into the hash.
    public mutating func update(_ text: String) {
        update(Array(text.utf8))
    }

    /// Feeds raw memory into the hash.
    public mutating func update(bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        context.update(bytes)
    }

    /// The 32-byte digest of everything fed so far.
    public func finalize() -> [UInt8] {
        context.copy().finish()
    }

    /// The digest of everything fed so far, as 64 lowercase hex digits.
    public func hexDigest() -> String {
        SHA256.hex(finalize())
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The digest of `bytes` as lowercase hex.
    public static func hexHash(_ bytes: [UInt8]) -> String {
        hex(hash(bytes))
    }

    /// Lowercase hex spelling of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams the file at `path` in `chunkSize` chunks and returns its hex
    /// digest. Refuses (as `StoreError.refused`) a symbolic link or anything
    /// that is not a regular file: a hash never follows a link.
    public static func hashFile(atPath path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
            let code = errno
            if code == ELOOP {
                throw StoreError.refused([Refusal(path: path, reason: .specialFile(.symbolicLink))])
            }
            throw StoreError.io(path: path, operation: "open", errno: code)
        }
        defer { close(fd) }
        let status = try FileStatus.of(fd: fd, path: path)
        guard status.kind == .regularFile else {
            throw StoreError.refused([Refusal(path: path, reason: .specialFile(status.kind))])
        }
        var hasher = SHA256()
        try readChunks(fd: fd, path: path) { hasher.update(bytes: $0) }
        return hasher.hexDigest()
    }
}

/// An OpenSSL digest context for SHA-256, freed with the last hasher that
/// holds it (`SHA256` copies it before changing a shared one).
private final class DigestContext: @unchecked Sendable {
    // @unchecked Sendable: a context is changed only through a hasher that
    // holds it alone (copy on write), so never from two threads at once.
    private let pointer: OpaquePointer

    init() {
        guard let made = EVP_MD_CTX_new(), EVP_DigestInit_ex(made, EVP_sha256(), nil) == 1 else {
            fatalError("OpenSSL cannot start a SHA-256 digest")
        }
        pointer = made
    }

    private init(copying other: OpaquePointer) {
        guard let made = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(made, other) == 1 else {
            fatalError("OpenSSL cannot copy a SHA-256 digest")
        }
        pointer = made
    }

    deinit { EVP_MD_CTX_free(pointer) }

    func copy() -> DigestContext { DigestContext(copying: pointer) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard EVP_DigestUpdate(pointer, bytes.baseAddress, bytes.count) == 1 else {
            fatalError("OpenSSL refused SHA-256 input")
        }
    }

    /// The digest; the context is spent after this.
    func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: SHA256.digestSize)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(pointer, &digest, &length) == 1, length == SHA256.digestSize else {
            fatalError("OpenSSL cannot finish a SHA-256 digest")
        }
        return digest
    }
}
