// Helpers for the live tests: endpoints from the testbed, the base entry,
// a private subtree per test, and a CA nobody trusts.
import Foundation
import Glibc
import RelevoBasics
import RelevoDirectory
@testable import RelevoLDAP
import TestbedSupport

enum Live {
    static func testbed() throws -> Testbed { try Testbed.shared() }

    /// The directory's suffix (`RELEVO_LDAP_BASE`).
    static func base() throws -> DistinguishedName {
        try DistinguishedName(try testbed()["RELEVO_LDAP_BASE"])
    }

    /// The bind password, read from `RELEVO_LDAP_PASSWORD_FILE` exactly
    /// (no newline is stripped: the file has none).
    static func password() throws -> Secret {
        let path = try testbed()["RELEVO_LDAP_PASSWORD_FILE"]
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return Secret(bytes: Array(data), reference: "file:\(path)")
    }

    /// The administrator's endpoint on `RELEVO_LDAP_URI` (or `url`).
    static func admin(url: String? = nil, startTLS: Bool = false, caFile: String? = nil,
                      check: LDAPEndpoint.CertificateCheck = .demand, timeout: Double = 10) throws -> LDAPEndpoint {
        let testbed = try testbed()
        return LDAPEndpoint(url: url ?? testbed["RELEVO_LDAP_URI"], startTLS: startTLS, caFile: caFile,
                            certificateCheck: check, timeout: timeout,
                            bindDN: testbed["RELEVO_LDAP_BIND_DN"], password: try password())
    }

    static func connect() throws -> LDAPConnection { try LDAPConnection(try admin()) }

    /// Adds the base entry when it is missing (the new directory may start
    /// empty); safe when tests running at the same time race to add it.
    static func ensureBase(_ connection: LDAPConnection) throws {
        let base = try base()
        if try connection.read(base, attributes: ["1.1"]) != nil { return }
        guard let rdn = base.rdn?.attributes.first else { return }
        var entry = Entry(dn: base)
        switch rdn.type.lowercased() {
        case "dc":
            entry.append("objectClass", "top")
            entry.append("objectClass", "dcObject")
            entry.append("objectClass", "organization")
            entry.append("dc", AttributeValue(rdn.value))
            entry.append("o", AttributeValue(rdn.value))
        case "ou":
            entry.append("objectClass", "organizationalUnit")
            entry.append("ou", AttributeValue(rdn.value))
        default:
            entry.append("objectClass", "organization")
            entry.append("o", AttributeValue(rdn.value))
        }
        // (Not `catch let error as LDAPError where ...`: with a typed-throws
        // call inside, Swift 6.3.1 loops and crashes compiling that.)
        do {
            try connection.add(entry)
        } catch {
            // Another test may have added it first.
            guard error.kind == .alreadyExists else { throw error }
        }
    }

    /// A random name for a test's own subtree: `t-` and 12 hex digits.
    static func randomName(_ prefix: String = "t") -> String {
        prefix + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Creates `ou=t-<random>,BASE`, runs `body`, then deletes the subtree
    /// (also when `body` throws).
    static func withSubtree<R>(_ body: (LDAPConnection, DistinguishedName) throws -> R) throws -> R {
        let connection = try connect()
        try ensureBase(connection)
        let name = randomName()
        let dn = try base().child("ou", name)
        try connection.add(organizationalUnit(dn))
        let result = Result { try body(connection, dn) }
        let cleanup = Result { () throws(LDAPError) in try connection.deleteSubtree(dn) }
        let value = try result.get()
        _ = try cleanup.get()
        return value
    }

    static func organizationalUnit(_ dn: DistinguishedName) -> Entry {
        let value = dn.rdn!.attributes[0].value
        return Entry(dn: dn, attributes: [
            Attribute("objectClass", ["top", "organizationalUnit"]),
            Attribute("ou", [AttributeValue(value)]),
        ])
    }

    /// An inetOrgPerson `uid=<uid>` below `parent`.
    static func person(_ uid: String, under parent: DistinguishedName, extra: [Attribute] = []) throws -> Entry {
        Entry(dn: try parent.child("uid", uid), attributes: [
            Attribute("objectClass", ["top", "person", "organizationalPerson", "inetOrgPerson"]),
            Attribute("uid", [AttributeValue(uid)]),
            Attribute("cn", [AttributeValue("User \(uid)")]),
            Attribute("sn", ["Prueba"]),
        ] + extra)
    }

    /// Runs `body` with the PEM path of a fresh self-signed CA (that signed
    /// nothing the server has), made in a temporary folder removed afterwards.
    static func withUntrustedCA<R>(_ body: (String) throws -> R) throws -> R {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("relevo-ldap-test-\(randomName("ca"))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("ca.key").path
        let pem = folder.appendingPathComponent("ca.pem").path
        try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                     "-nodes", "-keyout", key, "-out", pem, "-days", "1",
                                     "-subj", "/CN=Relevo untrusted test CA"])
        return try body(pem)
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure( "\(tool) exited \(process.terminationStatus): "
                               + String(decoding: message, as: UTF8.self))
        }
    }

    /// Seconds taken by `body`.
    static func timed<R>(_ body: () throws -> R) rethrows -> (R, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try body()
        let elapsed = clock.now - start
        return (result, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// A TCP socket that listens on 127.0.0.12 (an ephemeral port) and never
/// accepts or answers: a hung server. The kernel completes connections into
/// the backlog, so clients connect and then wait forever.
final class SilentListener {
    let fd: Int32
    let port: UInt16

    init(address: String = "127.0.0.12") throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        let addr = UnsafeMutablePointer<sockaddr_in>.allocate(capacity: 1)
        defer { addr.deallocate() }
        addr.initialize(to: sockaddr_in())
        addr.pointee.sin_family = sa_family_t(AF_INET)
        addr.pointee.sin_port = 0
        inet_pton(AF_INET, address, &addr.pointee.sin_addr)
        let generic = UnsafeMutableRawPointer(addr).assumingMemoryBound(to: sockaddr.self)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard Glibc.bind(fd, generic, length) == 0, listen(fd, 16) == 0, getsockname(fd, generic, &length) == 0 else {
            let code = errno
            close(fd)
            throw TestFailure("bind/listen on \(address): errno \(code)")
        }
        self.fd = fd
        self.port = UInt16(bigEndian: addr.pointee.sin_port)
    }

    deinit { close(fd) }
}

/// A failure of the test machinery itself (openssl, a socket).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A TCP relay on the upstream's address (an ephemeral port) to an upstream server,
/// whose connections a test can cut while it keeps listening: a network
/// failure between a client and a server that is still up.
final class Relay {
    let port: UInt16
    private let state: State

    /// What the relay's threads share; `sockets` and `accepted` are guarded by `lock`.
    private final class State: @unchecked Sendable {
        let listener: SilentListener
        let upstreamHost: String
        let upstreamPort: UInt16
        let lock = NSLock()
        var sockets: [Int32] = []
        var accepted = 0

        init(listener: SilentListener, upstreamHost: String, upstreamPort: UInt16) {
            self.listener = listener
            self.upstreamHost = upstreamHost
            self.upstreamPort = upstreamPort
        }
    }

    /// A relay to the host and port of `url` (`ldap://host:port`).
    /// Listens on the upstream's own address (another port), so that the
    /// server's certificate, which names that address, still matches.
    init(to url: String) throws {
        let hostPort = url.split(separator: "/").last.map(String.init) ?? ""
        guard let colon = hostPort.lastIndex(of: ":"),
              let upstreamPort = UInt16(hostPort[hostPort.index(after: colon)...]) else {
            throw TestFailure("no host:port in \(url)")
        }
        let listener = try SilentListener(address: String(hostPort[..<colon]))
        port = listener.port
        let state = State(listener: listener, upstreamHost: String(hostPort[..<colon]), upstreamPort: upstreamPort)
        self.state = state
        Thread { Relay.acceptLoop(state) }.start()
    }

    deinit {
        cut()
        // Ends the accept loop; the listener closes when its thread lets go.
        Glibc.shutdown(state.listener.fd, Int32(SHUT_RDWR))
    }

    /// Connections accepted so far.
    var accepted: Int { state.lock.withLock { state.accepted } }

    /// Cuts every relayed connection (both sides); new ones are still accepted.
    func cut() {
        state.lock.withLock {
            for fd in state.sockets { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private static func acceptLoop(_ state: State) {
        while true {
            let client = accept(state.listener.fd, nil, nil)
            guard client >= 0 else { return }
            guard let server = connectUpstream(state) else { close(client); continue }
            state.lock.withLock {
                state.accepted += 1
                state.sockets += [client, server]
            }
            Thread { pump(from: client, to: server) }.start()
            Thread { pump(from: server, to: client) }.start()
        }
    }

    private static func connectUpstream(_ state: State) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let addr = UnsafeMutablePointer<sockaddr_in>.allocate(capacity: 1)
        defer { addr.deallocate() }
        addr.initialize(to: sockaddr_in())
        addr.pointee.sin_family = sa_family_t(AF_INET)
        addr.pointee.sin_port = state.upstreamPort.bigEndian
        inet_pton(AF_INET, state.upstreamHost, &addr.pointee.sin_addr)
        let generic = UnsafeMutableRawPointer(addr).assumingMemoryBound(to: sockaddr.self)
        guard Glibc.connect(fd, generic, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 else { close(fd); return nil }
        return fd
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var sent = 0
            while sent < count {
                let n = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { break }
                sent += n
            }
            if sent < count { break }
        }
        Glibc.shutdown(destination, Int32(SHUT_WR))
    }
}
