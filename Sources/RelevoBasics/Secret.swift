/// A secret in memory (a password, a passphrase), resolved from a reference
/// such as `env:LDAP_PASSWORD` or `file:/etc/relevo/ldap.pw` only when a
/// live driver needs it.
///
/// It never shows its contents: `description`, `debugDescription`, string
/// interpolation and `dump` all give the reference it came from, so a
/// secret that reaches a log, a journal or a report by mistake appears as
/// `env:LDAP_PASSWORD`, never as the password.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Where the secret came from, as the plan wrote it (`env:NAME`, `file:PATH`).
    public let reference: String
    private let bytes: [UInt8]

    public init(bytes: [UInt8], reference: String) {
        self.bytes = bytes
        self.reference = reference
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Gives the secret to `body` as a NUL-terminated C string, for a C
    /// library call; the pointer must not escape `body`.
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var copy = bytes.map { CChar(bitPattern: $0) }
        copy.append(0)
        defer { for i in copy.indices { copy[i] = 0 } }
        return try copy.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Gives the secret's bytes to `body`; they must not escape it.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer(body)
    }

    public var description: String { reference }
    public var debugDescription: String { "Secret(\(reference))" }
    public var customMirror: Mirror { Mirror(self, children: ["reference": reference]) }
}
