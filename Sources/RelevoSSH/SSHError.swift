// Errors of the SSH driver: every case names the host and port (or the
// remote path) it concerns, and says what to do when there is something to do.

/// An SFTP status code (SSH_FX_*) as a server reported it, with its name.
///
/// Compare with the constants (`.noSuchFile`, `.permissionDenied`,
/// `.failure`, ...). OpenSSH's sftp-server speaks SFTP version 3, which has
/// only codes 0 to 8: most refusals there (an existing file for an exclusive
/// create, a directory that is not empty) arrive as the generic `.failure`.
public struct SFTPStatus: Sendable, Hashable, CustomStringConvertible {
    /// The numeric code from the SSH_FXP_STATUS message.
    public let code: UInt

    /// Wraps a numeric SFTP status code.
    public init(code: UInt) { self.code = code }

    /// SSH_FX_OK (0).
    public static let ok = SFTPStatus(code: 0)
    /// SSH_FX_EOF (1): end of file or of a directory listing.
    public static let endOfFile = SFTPStatus(code: 1)
    /// SSH_FX_NO_SUCH_FILE (2).
    public static let noSuchFile = SFTPStatus(code: 2)
    /// SSH_FX_PERMISSION_DENIED (3).
    public static let permissionDenied = SFTPStatus(code: 3)
    /// SSH_FX_FAILURE (4): the generic failure of SFTP version 3.
    public static let failure = SFTPStatus(code: 4)
    /// SSH_FX_BAD_MESSAGE (5).
    public static let badMessage = SFTPStatus(code: 5)
    /// SSH_FX_NO_CONNECTION (6).
    public static let noConnection = SFTPStatus(code: 6)
    /// SSH_FX_CONNECTION_LOST (7).
    public static let connectionLost = SFTPStatus(code: 7)
    /// SSH_FX_OP_UNSUPPORTED (8): the server does not implement the request
    /// (for example fsync@openssh.com on a server without that extension).
    public static let operationUnsupported = SFTPStatus(code: 8)
    /// SSH_FX_INVALID_HANDLE (9).
    public static let invalidHandle = SFTPStatus(code: 9)
    /// SSH_FX_NO_SUCH_PATH (10).
    public static let noSuchPath = SFTPStatus(code: 10)
    /// SSH_FX_FILE_ALREADY_EXISTS (11). OpenSSH reports `.failure` instead;
    /// this driver reports `.fileAlreadyExists` for an exclusive create when a
    /// follow-up `lstat` shows something at the path.
    public static let fileAlreadyExists = SFTPStatus(code: 11)
    /// SSH_FX_WRITE_PROTECT (12).
    public static let writeProtect = SFTPStatus(code: 12)
    /// SSH_FX_NO_MEDIA (13).
    public static let noMedia = SFTPStatus(code: 13)
    /// SSH_FX_NO_SPACE_ON_FILESYSTEM (14).
    public static let noSpaceOnFilesystem = SFTPStatus(code: 14)
    /// SSH_FX_QUOTA_EXCEEDED (15).
    public static let quotaExceeded = SFTPStatus(code: 15)
    /// SSH_FX_UNKNOWN_PRINCIPAL (16).
    public static let unknownPrincipal = SFTPStatus(code: 16)
    /// SSH_FX_LOCK_CONFLICT (17).
    public static let lockConflict = SFTPStatus(code: 17)
    /// SSH_FX_DIR_NOT_EMPTY (18).
    public static let directoryNotEmpty = SFTPStatus(code: 18)
    /// SSH_FX_NOT_A_DIRECTORY (19).
    public static let notADirectory = SFTPStatus(code: 19)
    /// SSH_FX_INVALID_FILENAME (20).
    public static let invalidFilename = SFTPStatus(code: 20)
    /// SSH_FX_LINK_LOOP (21).
    public static let linkLoop = SFTPStatus(code: 21)

    private static let names: [UInt: String] = [
        0: "ok", 1: "end of file", 2: "no such file", 3: "permission denied", 4: "failure",
        5: "bad message", 6: "no connection", 7: "connection lost", 8: "operation unsupported",
        9: "invalid handle", 10: "no such path", 11: "file already exists", 12: "write protected",
        13: "no media", 14: "no space on file system", 15: "quota exceeded", 16: "unknown principal",
        17: "lock conflict", 18: "directory not empty", 19: "not a directory", 20: "invalid file name",
        21: "link loop",
    ]

    /// The status name as a phrase ("no such file", "permission denied", "failure", ...).
    public var name: String { Self.names[code] ?? "status \(code)" }

    /// The name and the numeric code, e.g. `no such file (2)`.
    public var description: String { "\(name) (\(code))" }
}

/// Everything that can go wrong talking to an SSH server.
///
/// `description` is a complete sentence for an operator; `hint`, when there
/// is one, says what to do about it. No case ever carries a secret.
public enum SSHError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument this driver refused before sending anything: an empty
    /// argument vector, a NUL byte in an argument or path, a time that SFTP
    /// cannot carry.
    case invalidArgument(String)
    /// The TCP connection or the SSH handshake failed (refused, no route,
    /// name not resolved, not an SSH server, no common algorithm).
    case connectionFailed(host: String, port: Int, reason: String)
    /// The server did not answer within the endpoint's timeout (or a
    /// command exceeded its own time limit). The session is closed afterwards.
    case timeout(host: String, port: Int, operation: String)
    /// The server's host key is not in the known_hosts file; nothing was
    /// authenticated. `fingerprint` is `SHA256:...` as OpenSSH prints it.
    case unknownHostKey(host: String, port: Int, fingerprint: String)
    /// The known_hosts file has a different key for this host (or the key is
    /// marked `@revoked`); nothing was authenticated. `fingerprint` is the key
    /// the server presented now.
    case hostKeyMismatch(host: String, port: Int, fingerprint: String)
    /// Public-key authentication failed (key not accepted, unreadable key
    /// file, wrong passphrase, no usable ssh-agent identity).
    case authenticationFailed(user: String, host: String, port: Int, reason: String)
    /// An established connection broke (the server closed it, the network
    /// failed), or the session was closed after an earlier timeout.
    case connectionLost(host: String, port: Int, reason: String)
    /// The server refused to open a channel or to start a command or the SFTP
    /// subsystem.
    case channelFailed(host: String, port: Int, reason: String)
    /// An SFTP request failed with a status from the server.
    case sftp(operation: String, path: String, code: SFTPStatus)
    /// A directory entry whose name is not valid UTF-8; listed as raw bytes
    /// rather than silently altered.
    case undecodableName(directory: String, bytes: [UInt8])
    /// Another libssh2 failure, with its code and message.
    case library(operation: String, code: Int32, message: String)

    /// A one-line explanation, with the hint appended when there is one.
    public var description: String {
        let text: String
        switch self {
        case .invalidArgument(let message):
            text = "invalid argument: \(message)"
        case .connectionFailed(let host, let port, let reason):
            text = "cannot connect to \(Self.address(host, port)): \(reason)"
        case .timeout(let host, let port, let operation):
            text = "\(Self.address(host, port)) did not answer in time (\(operation))"
        case .unknownHostKey(let host, let port, let fingerprint):
            text = "host key of \(Self.address(host, port)) is not in known_hosts (\(fingerprint))"
        case .hostKeyMismatch(let host, let port, let fingerprint):
            text = "HOST KEY MISMATCH for \(Self.address(host, port)): it presented \(fingerprint), "
                + "which known_hosts does not have for it (possible impersonation)"
        case .authenticationFailed(let user, let host, let port, let reason):
            text = "authentication of \(user) at \(Self.address(host, port)) failed: \(reason)"
        case .connectionLost(let host, let port, let reason):
            text = "connection to \(Self.address(host, port)) lost: \(reason)"
        case .channelFailed(let host, let port, let reason):
            text = "\(Self.address(host, port)) refused a channel: \(reason)"
        case .sftp(let operation, let path, let code):
            if code == .operationUnsupported {
                text = "sftp \(operation) \(path): the server does not support it (\(code))"
            } else {
                text = "sftp \(operation) \(path): \(code)"
            }
        case .undecodableName(let directory, let bytes):
            let hex = bytes.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }
            text = "a name in \(directory) is not valid UTF-8 (bytes \(hex.joined(separator: " ")))"
        case .library(let operation, let code, let message):
            text = "libssh2 \(operation) failed (\(code)): \(message)"
        }
        if let hint { return text + "; " + hint }
        return text
    }

    /// What an operator should do, when the error says something actionable.
    public var hint: String? {
        switch self {
        case .unknownHostKey(let host, let port, _):
            return "verify the fingerprint with the host's administrator, then add it: "
                + "ssh-keyscan -p \(port) \(host) >> known_hosts"
        case .hostKeyMismatch(let host, let port, _):
            let name = port == 22 ? host : "[\(host)]:\(port)"
            return "if the host key really changed, verify the new fingerprint, remove the old entry "
                + "(ssh-keygen -R '\(name)' -f known_hosts), then add it: "
                + "ssh-keyscan -p \(port) \(host) >> known_hosts"
        case .authenticationFailed:
            return "check that the public key is in the user's authorized_keys on the host"
        case .timeout:
            return "check that the server is running and not stopped or overloaded"
        default:
            return nil
        }
    }

    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
