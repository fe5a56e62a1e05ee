import Foundation
import RelevoBasics
import RelevoMail
import RelevoStore

/// The load of the real-time test (issue 5): mail sent continuously
/// through the MX to random users, and their mailboxes read over IMAP
/// (through the old host's server, which proxies by mailHost), while a
/// `relevo run` moves them.
///
/// Every message the MX answered 2xx to is one line of the accepted log
/// (`AcceptedMessage`), written as soon as the reply arrives, so a census
/// can find it later. Each IMAP read notes a user's message count; a count
/// below one seen before is a window in which the user's view lacked old
/// mail (`ReadWindows`).
///
/// Writers stand for mail clients that stay connected: each keeps one IMAP
/// session open per user of its share (through the old host, like the
/// readers) and APPENDs a message now and then, as a client saves sent
/// mail. A session the server ends (`doveadm kick`) is opened again, which
/// follows the user's mailHost; one that is never ended keeps writing
/// where it was opened. Every APPEND the server answered OK to is a line
/// of the appended log.
public final class LoadGenerator: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var mx: MailEndpoint
        public var imap: MailEndpoint
        public var domain: String
        public var users: [String]
        public var masterUser: String
        public var masterPassword: Secret
        public var senders: Int
        public var readers: Int
        /// Threads of IMAP writers, and the users that have a session open
        /// (the first ones of `users`, shared among the writers).
        public var writers: Int
        public var writerUsers: Int
        /// APPENDs a second over all writers.
        public var appendRate: Double
        /// Messages a second over all senders; nil: as fast as the MX takes them.
        public var rate: Double?
        public var seed: UInt64

        public init(mx: MailEndpoint, imap: MailEndpoint, domain: String, users: [String], masterUser: String,
                    masterPassword: Secret, senders: Int = 4, readers: Int = 2, writers: Int = 2, writerUsers: Int = 40,
                    appendRate: Double = 10, rate: Double? = nil, seed: UInt64 = 1) {
            self.writers = writers
            self.writerUsers = writerUsers
            self.appendRate = appendRate
            self.mx = mx
            self.imap = imap
            self.domain = domain
            self.users = users
            self.masterUser = masterUser
            self.masterPassword = masterPassword
            self.senders = senders
            self.readers = readers
            self.rate = rate
            self.seed = seed
        }
    }

    public let configuration: Configuration
    private let log: FileHandle
    private let appendLog: FileHandle
    private var appended = 0
    private var appendErrors = 0
    private let lock = NSLock()
    private var stopped = false
    private var sequence = 0
    private var refusedCount = 0
    private var acceptedCount = 0
    private var windows = ReadWindows()
    private var readErrors = 0
    private var firstErrors: [String] = []

    /// `acceptedLog`: the file the messages the MX accepted are written
    /// to; `appendedLog`: those the IMAP writers stored.
    public init(_ configuration: Configuration, acceptedLog: URL, appendedLog: URL) throws {
        self.configuration = configuration
        log = try Self.create(acceptedLog)
        appendLog = try Self.create(appendedLog)
    }

    static func create(_ file: URL) throws -> FileHandle {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: file.path) else { throw LoadError("cannot write \(file.path)") }
        return handle
    }

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// Runs the senders and readers until `shouldStop` says so (polled a
    /// few times a second), then returns what was seen.
    public func run(until shouldStop: @escaping @Sendable () -> Bool) -> LoadSummary {
        let group = DispatchGroup()
        for i in 0..<configuration.senders {
            group.enter()
            Thread.detachNewThread { [self] in
                sendLoop(worker: i)
                group.leave()
            }
        }
        for i in 0..<configuration.readers {
            group.enter()
            Thread.detachNewThread { [self] in
                readLoop(worker: i)
                group.leave()
            }
        }
        let share = Array(configuration.users.prefix(configuration.writerUsers))
        for i in 0..<configuration.writers where !share.isEmpty {
            let mine = share.enumerated().filter { $0.offset % configuration.writers == i }.map(\.element)
            group.enter()
            Thread.detachNewThread { [self] in
                writeLoop(worker: i, users: mine)
                group.leave()
            }
        }
        while !shouldStop() { Thread.sleep(forTimeInterval: 0.2) }
        lock.withLock { stopped = true }
        group.wait()
        try? log.synchronize()
        try? appendLog.synchronize()
        return lock.withLock {
            LoadSummary(accepted: acceptedCount, refused: refusedCount,
                        appended: appended, appendErrors: appendErrors, reads: windows.reads,
                        readErrors: readErrors, longestWindow: windows.longest, usersLacking: windows.usersLacking,
                        firstErrors: firstErrors)
        }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func note(_ error: String) {
        lock.withLock { if firstErrors.count < 5 { firstErrors.append(error) } }
    }

    /// The next message of the load: a number of its own in its subject
    /// and Message-ID, and a body no other message has.
    private func nextMessage(_ random: inout SplitMix64, from: String, to: String, subject: String) -> (MailMessage, String) {
        let number = lock.withLock { () -> Int in sequence += 1; return sequence }
        let body = AcceptedMessage.body(sequence: number, nonce: random.next())
        let messageID = "<rt.\(number).\(String(random.next(), radix: 36))@\(configuration.domain)>"
        return (MailMessage(from: from, to: [to], subject: "\(subject) \(number)", messageID: messageID, body: body), body)
    }

    private func sendLoop(worker: Int) {
        var random = SplitMix64(seed: configuration.seed &+ UInt64(worker) &* 0x9E37_79B9)
        let interval = configuration.rate.map { Double(configuration.senders) / $0 }
        while !isStopped {
            let started = Date()
            let user = random.pick(configuration.users)
            let (message, body) = nextMessage(&random, from: "load@\(configuration.domain)", to: "\(user)@\(configuration.domain)",
                                              subject: "realtime")
            do {
                let receipt = try SMTPProbe.send(message, via: configuration.mx)
                let record = AcceptedMessage(messageID: message.messageID, user: user, bodySHA256: AcceptedMessage.digest(body),
                                             acceptedAt: Date().timeIntervalSince1970, queueID: receipt.queueID ?? "-")
                lock.withLock {
                    acceptedCount += 1
                    log.write(Data((record.line + "\n").utf8))
                }
            } catch {
                lock.withLock { refusedCount += 1 }
                note("smtp: \(error)")
            }
            if let interval {
                let left = interval - Date().timeIntervalSince(started)
                if left > 0 { Thread.sleep(forTimeInterval: left) }
            }
        }
    }

    /// One IMAP session per user of `users`, kept open; an APPEND to a
    /// random one of them every so often.
    private func writeLoop(worker: Int, users: [String]) {
        var random = SplitMix64(seed: configuration.seed &+ 0xA99E &+ UInt64(worker))
        var sessions: [String: IMAPSession] = [:]
        let interval = Double(configuration.writers) / max(configuration.appendRate, 0.1)
        // Open every session first: a client connected before the cutover.
        for user in users { sessions[user] = try? session(for: user) }
        while !isStopped {
            let started = Date()
            let user = random.pick(users)
            let (message, body) = nextMessage(&random, from: "\(user)@\(configuration.domain)", to: "someone@\(configuration.domain)",
                                              subject: "saved")
            do {
                guard let open = try sessions[user] ?? session(for: user) else { continue }
                sessions[user] = open
                try open.append(try message.rendered())
                let record = AcceptedMessage(messageID: message.messageID, user: user, bodySHA256: AcceptedMessage.digest(body),
                                             acceptedAt: Date().timeIntervalSince1970, queueID: "append")
                lock.withLock {
                    appended += 1
                    appendLog.write(Data((record.line + "\n").utf8))
                }
            } catch {
                // The client reconnects for its next message.
                sessions[user] = nil
                lock.withLock { appendErrors += 1 }
                note("append \(user): \(error)")
            }
            let left = interval - Date().timeIntervalSince(started)
            if left > 0 { Thread.sleep(forTimeInterval: left) }
        }
    }

    private func session(for user: String) throws -> IMAPSession? {
        try IMAPSession(endpoint: configuration.imap,
                        credentials: .master(configuration.masterUser, password: configuration.masterPassword, for: user))
    }

    private func readLoop(worker: Int) {
        var random = SplitMix64(seed: configuration.seed &+ 0x5EED &+ UInt64(worker))
        while !isStopped {
            let user = random.pick(configuration.users)
            do {
                let session = try IMAPSession(endpoint: configuration.imap,
                                              credentials: .master(configuration.masterUser, password: configuration.masterPassword, for: user))
                let count = try session.messageCount()
                let now = Date().timeIntervalSince1970
                lock.withLock { windows.observe(user: user, count: count, at: now) }
            } catch {
                lock.withLock { readErrors += 1 }
                note("imap \(user): \(error)")
            }
        }
    }
}

/// What the load saw.
public struct LoadSummary: Codable, Sendable {
    public var accepted: Int
    public var refused: Int
    /// APPENDs the IMAP server answered OK to, and those it did not.
    public var appended: Int
    public var appendErrors: Int
    public var reads: Int
    public var readErrors: Int
    /// Seconds, the longest a user's IMAP view held fewer messages than it
    /// had shown before.
    public var longestWindow: Double
    public var usersLacking: Int
    public var firstErrors: [String]
}

/// The windows in which a user's IMAP view lacked mail it had shown
/// before: from the first read with fewer messages than the most seen, to
/// the first read with at least as many again (or the last read, when it
/// never came back).
public struct ReadWindows: Sendable {
    struct UserState: Sendable {
        var most = 0
        var lackingSince: Double?
        var lastRead = 0.0
    }
    var users: [String: UserState] = [:]
    public private(set) var reads = 0
    public private(set) var longest = 0.0
    var lacking: Set<String> = []

    public init() {}

    public var usersLacking: Int { lacking.count }

    public mutating func observe(user: String, count: Int, at time: Double) {
        reads += 1
        var state = users[user] ?? UserState()
        state.lastRead = time
        if count >= state.most {
            if let since = state.lackingSince { longest = max(longest, time - since) }
            state.lackingSince = nil
            state.most = count
        } else {
            lacking.insert(user)
            if let since = state.lackingSince {
                longest = max(longest, time - since)
            } else {
                state.lackingSince = time
            }
        }
        users[user] = state
    }
}

/// One message the MX accepted: a line of the accepted log,
/// `MESSAGE-ID<TAB>USER<TAB>SHA256-OF-BODY<TAB>UNIX-TIME<TAB>QUEUE-ID`.
public struct AcceptedMessage: Sendable, Equatable {
    public var messageID: String
    public var user: String
    public var bodySHA256: String
    public var acceptedAt: Double
    public var queueID: String

    public init(messageID: String, user: String, bodySHA256: String, acceptedAt: Double, queueID: String) {
        self.messageID = messageID
        self.user = user
        self.bodySHA256 = bodySHA256
        self.acceptedAt = acceptedAt
        self.queueID = queueID
    }

    public var line: String {
        [messageID, user, bodySHA256, String(format: "%.3f", acceptedAt), queueID].joined(separator: "\t")
    }

    public init?(line: Substring) {
        let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let at = Double(parts[3]) else { return nil }
        self.init(messageID: parts[0], user: parts[1], bodySHA256: parts[2], acceptedAt: at, queueID: parts[4])
    }

    /// A body unique to the message.
    static func body(sequence: Int, nonce: UInt64) -> String {
        "Sent by the realtime load of relevo.\nsequence \(sequence)\nnonce \(String(nonce, radix: 16))\n"
    }

    /// The SHA-256 of a body with its lines ending in LF (as a Maildir
    /// holds it, whatever the wire's CRLF).
    public static func digest(_ body: String) -> String {
        var hash = SHA256()
        hash.update(body.replacingOccurrences(of: "\r\n", with: "\n"))
        return hash.hexDigest()
    }
}
