import Glibc

/// SHA-256 as specified in FIPS 180-4, written in Swift (the toolchain has no
/// CryptoKit on Linux and Relevo takes no outside packages).
///
/// Incremental: feed bytes with `update`, read the digest with `finalize()`
/// (which leaves the hasher untouched, so more bytes may follow).
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

    private var state: [UInt32] = SHA256.initialState
    /// Bytes not yet compressed (always fewer than `blockSize`).
    private var pending: [UInt8] = []
    /// Total message length in bytes so far.
    private var length: UInt64 = 0

    public init() {
        pending.reserveCapacity(SHA256.blockSize)
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
        length &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(SHA256.blockSize - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count == SHA256.blockSize {
                pending.withUnsafeBytes { compress(blocks: $0) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        let whole = (bytes.count - offset) / SHA256.blockSize * SHA256.blockSize
        if whole > 0 {
            compress(blocks: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + whole)]))
            offset += whole
        }
        if offset < bytes.count {
            pending.append(contentsOf: bytes[offset...])
        }
    }

    /// The 32-byte digest of everything fed so far.
    public func finalize() -> [UInt8] {
        var copy = self
        let bitLength = length &* 8
        var padding: [UInt8] = [0x80]
        let used = (pending.count + 1) % SHA256.blockSize
        let zeros = used <= 56 ? 56 - used : 56 + SHA256.blockSize - used
        padding.append(contentsOf: repeatElement(0, count: zeros))
        for shift in stride(from: 56, through: 0, by: -8) {
            padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        let savedLength = copy.length
        copy.update(padding)
        copy.length = savedLength
        precondition(copy.pending.isEmpty, "SHA-256 padding must end on a block boundary")
        var digest: [UInt8] = []
        digest.reserveCapacity(SHA256.digestSize)
        for word in copy.state {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
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

    // MARK: - Compression function (FIPS 180-4, 6.2.2)

    private mutating func compress(blocks: UnsafeRawBufferPointer) {
        precondition(blocks.count % SHA256.blockSize == 0)
        var h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3]
        var h4 = state[4], h5 = state[5], h6 = state[6], h7 = state[7]
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            SHA256.roundConstants.withUnsafeBufferPointer { k in
                var base = 0
                while base < blocks.count {
                    for t in 0..<16 {
                        let i = base + t * 4
                        w[t] = UInt32(blocks[i]) << 24 | UInt32(blocks[i + 1]) << 16
                            | UInt32(blocks[i + 2]) << 8 | UInt32(blocks[i + 3])
                    }
                    for t in 16..<64 {
                        let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                        let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    for t in 0..<64 {
                        let bigSigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                        let choose = (e & f) ^ (~e & g)
                        let t1 = h &+ bigSigma1 &+ choose &+ k[t] &+ w[t]
                        let bigSigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        let t2 = bigSigma0 &+ majority
                        h = g; g = f; f = e; e = d &+ t1
                        d = c; c = b; b = a; a = t1 &+ t2
                    }
                    h0 = h0 &+ a; h1 = h1 &+ b; h2 = h2 &+ c; h3 = h3 &+ d
                    h4 = h4 &+ e; h5 = h5 &+ f; h6 = h6 &+ g; h7 = h7 &+ h
                    base += SHA256.blockSize
                }
            }
        }
        state = [h0, h1, h2, h3, h4, h5, h6, h7]
    }

    private static let initialState: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    private static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
}

@inline(__always)
private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x >> n) | (x << (32 - n))
}
