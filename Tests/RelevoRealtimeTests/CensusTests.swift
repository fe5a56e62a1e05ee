import Foundation
import RelevoRealtime
import Testing

/// The census on real Maildirs in a scratch folder: each kind of outcome
/// (present, lost, duplicated, stranded on the former host, altered body)
/// is told apart; and the read windows of the IMAP view.
@Suite struct CensusTests {
    let root = "/tmp/relevo-census-\(UUID().uuidString.prefix(8))"

    func deliver(_ host: String, _ user: String, _ name: String, id: String, body: String, folder: String = "new") throws {
        let dir = "\(root)/\(host)/\(user)/\(folder)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // As Postfix's virtual(8) writes it: its own headers first, LF line ends.
        let text = "Return-Path: <load@example.org>\nDelivered-To: \(user)@example.org\nMessage-ID: \(id)\nSubject: s\n\n\(body)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
    }

    func accepted(_ id: String, _ user: String, _ body: String, at: Double = 10) -> AcceptedMessage {
        AcceptedMessage(messageID: id, user: user, bodySHA256: AcceptedMessage.digest(body), acceptedAt: at, queueID: "Q")
    }

    @Test func tellsEveryOutcomeApart() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try deliver("new", "ceres", "1.a", id: "<a@x>", body: "body a\r\n")          // present (CRLF on the wire)
        try deliver("new", "ceres", "2.b", id: "<b@x>", body: "body b\n")            // duplicated
        try deliver("new", "ceres", "3.b:2,S", id: "<b@x>", body: "body b\n", folder: "cur")
        try deliver("old", "ceres", "4.c", id: "<c@x>", body: "body c\n")            // stranded on the old host
        try deliver("new", "vesta", "5.e", id: "<e@x>", body: "changed\n")           // altered
        let messages = [accepted("<a@x>", "ceres", "body a\r\n"), accepted("<b@x>", "ceres", "body b\n", at: 50),
                        accepted("<c@x>", "ceres", "body c\n"), accepted("<d@x>", "vesta", "body d\n"),
                        accepted("<e@x>", "vesta", "body e\n", at: 60)]
        let census = try Census.take(messages: messages, mailHost: ["ceres": "new.example", "vesta": "new.example"],
                                     stores: ["new.example": root + "/new", "old.example": root + "/old"], run: 40...55)
        #expect(census.accepted == 5)
        #expect(census.present == 2)
        #expect(census.lost == 3)
        #expect(census.duplicated == 1)
        #expect(census.stranded == 1)
        #expect(census.altered == 1)
        #expect(census.duringRun == 1)
        #expect(census.line == "census: accepted=5 present=2 lost=3 duplicated=1 during_run=1")
        #expect(census.examples.contains("<c@x> ceres (mailHost new.example; only on old.example)"), "\(census.examples)")
    }

    @Test func acceptedLinesRoundTrip() throws {
        let message = accepted("<a@x>", "ceres", "b", at: 1234.5)
        #expect(AcceptedMessage(line: Substring(message.line)) == message)
        #expect(AcceptedMessage(line: "too\tfew") == nil)
    }

    @Test func aViewThatLacksOldMailIsAWindow() {
        var windows = ReadWindows()
        windows.observe(user: "ceres", count: 5, at: 0)
        windows.observe(user: "ceres", count: 6, at: 1)
        windows.observe(user: "ceres", count: 3, at: 2)   // the new host before the delta pass
        windows.observe(user: "ceres", count: 4, at: 3.5)
        windows.observe(user: "ceres", count: 7, at: 4)   // back, with one more
        windows.observe(user: "vesta", count: 1, at: 4)
        #expect(windows.longest == 2)
        #expect(windows.usersLacking == 1)
        #expect(windows.reads == 6)
    }
}
