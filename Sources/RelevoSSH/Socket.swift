// The TCP side of a session: connect with a time limit, wait for readiness,
// and a cheap check whether the peer has closed the connection.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

enum TCP {
    /// Connects to `host:port` (every address `getaddrinfo` returns, in
    /// order) within `timeout` seconds overall. The socket is left
    /// non-blocking, close-on-exec, with TCP_NODELAY (SFTP and channel
    /// requests are small request/response exchanges; Nagle's algorithm with
    /// delayed ACKs would add tens of milliseconds to each).
    static func connect(host: String, port: Int, timeout: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let reason = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            throw SSHError.connectionFailed(host: host, port: port, reason: "cannot resolve host: \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = "no address to connect to"
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let info = current {
            current = info.pointee.ai_next
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { break }
            #if canImport(Glibc)
            let type = info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue)
            #else
            let type = info.pointee.ai_socktype
            #endif
            let fd = socket(info.pointee.ai_family, type, info.pointee.ai_protocol)
            if fd < 0 { lastError = errnoText(); continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))

            if systemConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                return fd
            }
            guard errno == EINPROGRESS else {
                lastError = errnoText()
                closeSocket(fd)
                continue
            }
            switch wait(fd, events: Int16(POLLOUT), timeout: remaining) {
            case .ready:
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) == 0, soError == 0 {
                    return fd
                }
                lastError = String(cString: strerror(soError))
                closeSocket(fd)
            case .timedOut:
                closeSocket(fd)
                throw SSHError.timeout(host: host, port: port, operation: "TCP connect")
            case .failed(let text):
                lastError = text
                closeSocket(fd)
            }
        }
        if deadline.timeIntervalSinceNow <= 0 {
            throw SSHError.timeout(host: host, port: port, operation: "TCP connect")
        }
        throw SSHError.connectionFailed(host: host, port: port, reason: lastError)
    }

    enum WaitResult: Equatable {
        case ready
        case timedOut
        case failed(String)
    }

    /// `poll` for `events` on `fd`, retrying on EINTR, for at most `timeout` seconds.
    static func wait(_ fd: Int32, events: Int16, timeout: Double) -> WaitResult {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return .timedOut }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up))
            let n = poll(&entry, 1, milliseconds)
            if n > 0 { return .ready }
            if n == 0 { continue }  // loops until the deadline, then .timedOut
            if errno == EINTR { continue }
            return .failed(errnoText())
        }
    }

    /// True when the peer has closed the connection or it is in error: the
    /// socket is readable and a peek reads end-of-file, or poll reports
    /// hang-up or error. Bytes waiting to be read (a late packet) count as alive.
    static func peerClosed(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&entry, 1, 0)
        if n < 0 { return errno != EINTR }
        if n == 0 { return false }
        if entry.revents & Int16(POLLERR | POLLNVAL) != 0 { return true }
        var byte: UInt8 = 0
        let got = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if got == 0 { return true }
        if got < 0 { return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) }
        return false
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func closeSocket(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }
}

#if canImport(Glibc)
private let systemConnect = Glibc.connect
#elseif canImport(Darwin)
private let systemConnect = Darwin.connect
#endif
