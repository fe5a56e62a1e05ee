import RelevoEngine
import RelevoOperations
import RelevoPlan
import Testing

/// The argument vectors of the mail-server steps and the reading of
/// Postfix's queue listing (the live tests run them on the real servers).
@Suite struct MailServerControlTests {
    func argv(_ software: MailServerSoftware, _ config: String?, _ action: MailServerControl.Action) throws -> [String] {
        try MailServerControl.argv(software, config: config, action).get()
    }

    @Test func vectorsNameTheConfiguration() throws {
        #expect(try argv(.postfix, "/etc/postfix-b", .reload) == ["postfix", "-c", "/etc/postfix-b", "reload"])
        #expect(try argv(.postfix, nil, .reload) == ["postfix", "reload"])
        #expect(try argv(.postfix, "/etc/p", .flushQueue) == ["postqueue", "-c", "/etc/p", "-f"])
        #expect(try argv(.dovecot, "/etc/d.conf", .kick(user: "ceres")) == ["doveadm", "-c", "/etc/d.conf", "kick", "ceres"])
        #expect(try argv(.dovecot, nil, .flushCache(user: "a b;c")) == ["doveadm", "auth", "cache", "flush", "a b;c"])
    }

    @Test func refusesWhatTheSoftwareCannotDoAndOptionLikeUsers() {
        #expect(throws: StepFailure.self) { try argv(.postfix, nil, .kick(user: "ceres")) }
        #expect(throws: StepFailure.self) { try argv(.dovecot, nil, .flushQueue) }
        #expect(throws: StepFailure.self) { try argv(.dovecot, nil, .kick(user: "-A")) }
        #expect(throws: StepFailure.self) { try argv(.dovecot, nil, .flushCache(user: "")) }
    }

    @Test func readsPostqueueJSON() {
        let listing = """
            {"queue_name": "deferred", "queue_id": "4A1B2C", "recipients": [{"address": "Ceres@exalumno.unam.mx", "delay_reason": "Permission denied"}]}
            {"queue_name": "active", "queue_id": "5D6E7F", "recipients": [{"address": "vesta@exalumno.unam.mx"}]}
            not json
            """
        #expect(MailServerControl.queued(in: listing, for: "ceres@exalumno.unam.mx") == ["4A1B2C (deferred)"])
        #expect(MailServerControl.queued(in: listing, for: "juno@exalumno.unam.mx").isEmpty)
        #expect(MailServerControl.queued(in: listing, for: nil) == ["4A1B2C (deferred)", "5D6E7F (active)"])
        #expect(MailServerControl.queued(in: "", for: nil).isEmpty)
    }
}
