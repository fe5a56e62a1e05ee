// The host key check: OpenSSH's known_hosts, through libssh2's knownhost API.
internal import CSSH2
import Foundation

/// A known_hosts file loaded into libssh2 for one session.
///
/// Lines are given to libssh2 one at a time, so a line it cannot parse (a key
/// type it does not know, `@cert-authority`) is skipped instead of ending the
/// whole file, which is what `libssh2_knownhost_readfile` does. `@revoked`
/// lines are kept here: a revoked key never matches, whatever other lines say.
final class KnownHosts {
    private let hosts: OpaquePointer
    private var revokedKeys: Set<String> = []

    /// Loads `path` (a missing file is empty) for `session`.
    init(session: OpaquePointer, path: String, host: String, port: Int) throws {
        guard let hosts = libssh2_knownhost_init(session) else {
            throw SSHError.library(operation: "knownhost_init", code: LIBSSH2_ERROR_ALLOC, message: "out of memory")
        }
        self.hosts = hosts
        guard FileManager.default.fileExists(atPath: path) else { return }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            libssh2_knownhost_free(hosts)
            throw SSHError.connectionFailed(host: host, port: port,
                                            reason: "cannot read known_hosts file \(path): \(error.localizedDescription)")
        }
        for rawLine in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
            guard let first = fields.first, first.first != UInt8(ascii: "#") else { continue }
            if first.first == UInt8(ascii: "@") {
                if String(decoding: first, as: UTF8.self) == "@revoked", fields.count >= 4 {
                    revokedKeys.insert(String(decoding: fields[3], as: UTF8.self))
                }
                continue
            }
            // A line libssh2 cannot parse is skipped (see the type comment).
            // The line is passed with its newline and a NUL after it:
            // libssh2 1.10 reads the byte just past `len` looking for a
            // newline, and drops the key's last character if it finds one
            // there (so a bare line is parsed right or wrong depending on
            // whatever memory follows it).
            line.append(UInt8(ascii: "\n"))
            line.append(0)
            _ = line.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    libssh2_knownhost_readline(hosts, $0.baseAddress, $0.count - 1, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
                }
            }
        }
    }

    deinit { libssh2_knownhost_free(hosts) }

    /// The name OpenSSH files a host under: `host` for port 22,
    /// `[host]:port` otherwise. Only that one name is looked up (libssh2's
    /// `checkp` would also accept a plain `host` entry for another port).
    static func entryName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    enum Verdict { case match, mismatch, notFound }

    /// Checks a raw key blob of libssh2 host key type `keyType`.
    func check(name: String, key: [UInt8], keyType: Int32) throws -> Verdict {
        if revokedKeys.contains(Base64.encode(key)) { return .mismatch }
        let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | Self.knownHostKeyMask(keyType)
        let rc = key.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                libssh2_knownhost_check(hosts, name, $0.baseAddress, $0.count, mask, nil)
            }
        }
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND: return .notFound
        default:
            throw SSHError.library(operation: "knownhost_check", code: rc, message: "cannot check the host key")
        }
    }

    /// The key types this file has for `name` (hashed entries included), as
    /// LIBSSH2_KNOWNHOST_KEY_* masks. Probed by checking a key no entry can
    /// equal: libssh2 answers MISMATCH exactly when an entry with that name
    /// and key type exists.
    func keyTypes(name: String) -> [Int32] {
        let candidates: [Int32] = [LIBSSH2_KNOWNHOST_KEY_ED25519, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
                                   LIBSSH2_KNOWNHOST_KEY_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
                                   LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_KNOWNHOST_KEY_SSHDSS]
        return candidates.filter { type in
            let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64 | type
            return libssh2_knownhost_check(hosts, name, "AAAA", 4, mask, nil) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH
        }
    }

    /// LIBSSH2_HOSTKEY_TYPE_* (what the session reports) to
    /// LIBSSH2_KNOWNHOST_KEY_* (what known_hosts entries carry).
    static func knownHostKeyMask(_ hostKeyType: Int32) -> Int32 {
        switch hostKeyType {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519
        default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN
        }
    }

    /// Host key algorithm names (SSH_MSG_KEXINIT) for a known_hosts key type.
    static func algorithms(forKnownHostKeyMask mask: Int32) -> [String] {
        switch mask {
        case LIBSSH2_KNOWNHOST_KEY_ED25519: return ["ssh-ed25519"]
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_256: return ["ecdsa-sha2-nistp256"]
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_384: return ["ecdsa-sha2-nistp384"]
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_521: return ["ecdsa-sha2-nistp521"]
        case LIBSSH2_KNOWNHOST_KEY_SSHRSA: return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        case LIBSSH2_KNOWNHOST_KEY_SSHDSS: return ["ssh-dss"]
        default: return []
        }
    }
}
