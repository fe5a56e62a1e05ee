// Live tests against the testbed's slapd: connecting, binding, TLS and
// timeouts. Never mocked, never skipped: without a testbed they fail.
import Foundation
import RelevoBasics
import RelevoDirectory
@testable import RelevoLDAP
import Testing
import TestbedSupport

@Suite struct LiveConnectionTests {
    @Test func bindsAsTheAdministrator() throws {
        let testbed = try Live.testbed()
        let connection = try Live.connect()
        let identity = try connection.whoAmI()
        #expect(identity.hasPrefix("dn:"))
        #expect(try DistinguishedName(String(identity.dropFirst(3))) == DistinguishedName(testbed["RELEVO_LDAP_BIND_DN"]))
        #expect(!connection.isEncrypted)
    }

    @Test func anonymousConnectionIsAnonymous() throws {
        let connection = try LDAPConnection(LDAPEndpoint(url: try Live.testbed()["RELEVO_LDAP_URI"]))
        #expect(try connection.whoAmI() == "")
    }

    @Test func wrongPasswordIsInvalidCredentialsAndNeverShown() throws {
        var endpoint = try Live.admin()
        let real = endpoint.password!
        let wrong = "Wr0ng-\(Live.randomName())"
        endpoint.password = Secret(bytes: Array(wrong.utf8), reference: "env:WRONG_PASSWORD")
        let error = try #require(throws: LDAPError.self) { try LDAPConnection(endpoint) }
        #expect(error.kind == .invalidCredentials)
        #expect(error.code == .invalidCredentials)
        #expect(error.operation == .bind)
        let text = "\(error) \(String(reflecting: error)) \(endpoint)"
        #expect(text.contains("invalidCredentials (49)"))
        #expect(text.contains(endpoint.bindDN!))
        #expect(!text.contains(wrong))
        let realText = real.withBytes { String(decoding: $0, as: UTF8.self) }
        #expect(!text.contains(realText))
    }

    @Test func unknownBindDNIsInvalidCredentials() throws {
        var endpoint = try Live.admin()
        endpoint.bindDN = "cn=\(Live.randomName("nobody")),dc=mx"
        let error = try #require(throws: LDAPError.self) { try LDAPConnection(endpoint) }
        #expect(error.kind == .invalidCredentials)
    }

    @Test func startTLSWithTheCAFile() throws {
        let testbed = try Live.testbed()
        let connection = try LDAPConnection(try Live.admin(startTLS: true, caFile: testbed["RELEVO_LDAP_CA_FILE"]))
        #expect(connection.isEncrypted)
        #expect(try connection.whoAmI().hasPrefix("dn:"))
    }

    @Test func ldapsWithTheCAFile() throws {
        let testbed = try Live.testbed()
        let connection = try LDAPConnection(try Live.admin(url: testbed["RELEVO_LDAPS_URI"],
                                                           caFile: testbed["RELEVO_LDAP_CA_FILE"]))
        #expect(connection.isEncrypted)
        #expect(try connection.whoAmI().hasPrefix("dn:"))
    }

    @Test func startTLSWithAnUntrustedCAFailsWithATLSError() throws {
        let url = try Live.testbed()["RELEVO_LDAP_URI"]
        try Live.withUntrustedCA { ca in
            let error = try #require(throws: LDAPError.self) {
                try LDAPConnection(try Live.admin(startTLS: true, caFile: ca))
            }
            #expect(error.kind == .tls)
            #expect(error.operation == .startTLS)
            #expect(error.description.contains(url))
            #expect(error.description.contains(ca))
        }
    }

    @Test func ldapsWithAnUntrustedCAFailsWithATLSError() throws {
        let url = try Live.testbed()["RELEVO_LDAPS_URI"]
        try Live.withUntrustedCA { ca in
            let error = try #require(throws: LDAPError.self) {
                try LDAPConnection(try Live.admin(url: url, caFile: ca))
            }
            #expect(error.kind == .tls)
            #expect(error.description.contains(url))
        }
    }

    @Test(arguments: [LDAPEndpoint.CertificateCheck.never, .allow])
    func ldapsWithoutACertificateDemandAcceptsAnyCA(_ check: LDAPEndpoint.CertificateCheck) throws {
        // An untrusted CA as above, but the certificate is not demanded:
        // what failed there was the certificate check, not the connection.
        let url = try Live.testbed()["RELEVO_LDAPS_URI"]
        try Live.withUntrustedCA { ca in
            let connection = try LDAPConnection(try Live.admin(url: url, caFile: ca, check: check))
            #expect(connection.isEncrypted)
        }
    }

    @Test func startTLSOnTheLDAPSPortIsNotAPlainFallback() throws {
        // StartTLS where the server speaks TLS from the first byte: must fail, not go plain.
        let testbed = try Live.testbed()
        let ldaps = testbed["RELEVO_LDAPS_URI"]
        let plainURL = "ldap://" + ldaps.dropFirst("ldaps://".count)
        let (result, seconds) = Live.timed {
            Result { try LDAPConnection(try Live.admin(url: plainURL, startTLS: true,
                                                       caFile: testbed["RELEVO_LDAP_CA_FILE"], timeout: 3)) }
        }
        #expect(throws: LDAPError.self) { try result.get() }
        #expect(seconds < 8)
    }

    @Test func closedPortFailsFastAsCannotConnect() throws {
        let endpoint = try Live.admin(url: "ldap://127.0.0.12:1", timeout: 3)
        let (result, seconds) = Live.timed { Result { try LDAPConnection(endpoint) } }
        let error = try #require(throws: LDAPError.self) { try result.get() }
        #expect(error.kind == .cannotConnect)
        #expect(error.code == .serverDown)
        #expect(error.description.contains("ldap://127.0.0.12:1"))
        #expect(seconds < 3 + 1)
    }

    @Test func closedLDAPSPortIsCannotConnectNotTLS() throws {
        let ca = try Live.testbed()["RELEVO_LDAP_CA_FILE"]
        let error = try #require(throws: LDAPError.self) {
            try LDAPConnection(try Live.admin(url: "ldaps://127.0.0.12:1", caFile: ca, timeout: 3))
        }
        #expect(error.kind == .cannotConnect)
    }

    @Test func hungServerFailsWithinTheTimeout() throws {
        let listener = try SilentListener()
        let endpoint = try Live.admin(url: "ldap://127.0.0.12:\(listener.port)", timeout: 2)
        let (result, seconds) = Live.timed { Result { try LDAPConnection(endpoint) } }
        let error = try #require(throws: LDAPError.self) { try result.get() }
        #expect(error.kind == .cannotConnect)
        #expect(error.code == .timeout || error.code == .serverDown)
        #expect(seconds >= 1.5)
        #expect(seconds < 2 + 3)
    }

    @Test func hungServerFailsWithinTheTimeoutOverLDAPS() throws {
        let listener = try SilentListener()
        let ca = try Live.testbed()["RELEVO_LDAP_CA_FILE"]
        let endpoint = try Live.admin(url: "ldaps://127.0.0.12:\(listener.port)", caFile: ca, timeout: 2)
        let (result, seconds) = Live.timed { Result { try LDAPConnection(endpoint) } }
        let error = try #require(throws: LDAPError.self) { try result.get() }
        #expect(error.kind == .cannotConnect)
        #expect(seconds < 2 + 3)
    }

    /// The handshake's deadline fires while blocking work holds every
    /// thread of Dispatch's global queue (a loaded run or test suite): it
    /// has a queue of its own. On the global queue it waited for one of
    /// those threads (61 s in a test run).
    @Test func theDeadlineFiresWhileTheGlobalQueueIsBusy() throws {
        let listener = try SilentListener()
        let ca = try Live.testbed()["RELEVO_LDAP_CA_FILE"]
        let endpoint = try Live.admin(url: "ldaps://127.0.0.12:\(listener.port)", caFile: ca, timeout: 2)
        let release = DispatchSemaphore(value: 0)
        let blockers = 4 * ProcessInfo.processInfo.activeProcessorCount
        for _ in 0..<blockers {
            // Bounded, in case the connection never returns.
            DispatchQueue.global().async { _ = release.wait(timeout: .now() + 30) }
        }
        defer { for _ in 0..<blockers { release.signal() } }
        let (result, seconds) = Live.timed { Result { try LDAPConnection(endpoint) } }
        let error = try #require(throws: LDAPError.self) { try result.get() }
        #expect(error.kind == .cannotConnect)
        #expect(seconds < 2 + 3)
    }

    @Test func hungServerFailsWithinTheTimeoutDuringStartTLS() throws {
        let listener = try SilentListener()
        let ca = try Live.testbed()["RELEVO_LDAP_CA_FILE"]
        let endpoint = try Live.admin(url: "ldap://127.0.0.12:\(listener.port)", startTLS: true, caFile: ca, timeout: 2)
        let (result, seconds) = Live.timed { Result { try LDAPConnection(endpoint) } }
        let error = try #require(throws: LDAPError.self) { try result.get() }
        #expect(error.kind == .cannotConnect)
        #expect(seconds < 2 + 3)
    }

    @Test func oneConnectionSharedByManyTasks() async throws {
        let connection = try Live.connect()
        try Live.ensureBase(connection)
        let base = try Live.base()
        let found = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask { try connection.read(base) != nil }
            }
            var all: [Bool] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(found.count == 16)
        #expect(found.allSatisfy { $0 })
    }
}

@Suite struct LiveReconnectionTests {
    @Test(arguments: [false, true])
    func aLostConnectionStaysLost(startTLS: Bool) throws {
        // libldap would reconnect by itself, anonymously and without StartTLS;
        // the driver must fail instead.
        let testbed = try Live.testbed()
        let relay = try Relay(to: testbed["RELEVO_LDAP_URI"])
        let host = testbed["RELEVO_LDAP_URI"].split(separator: "/").last?.split(separator: ":").first.map(String.init) ?? ""
        let connection = try LDAPConnection(try Live.admin(url: "ldap://\(host):\(relay.port)", startTLS: startTLS,
                                                           caFile: testbed["RELEVO_LDAP_CA_FILE"], timeout: 3))
        #expect(connection.isEncrypted == startTLS)
        #expect(try connection.whoAmI().hasPrefix("dn:"))
        #expect(relay.accepted == 1)
        relay.cut()
        let error = #expect(throws: LDAPError.self) { try connection.whoAmI() }
        #expect(error?.kind == .cannotConnect)
        let again = #expect(throws: LDAPError.self) { try connection.read(try Live.base()) }
        #expect(again?.kind == .cannotConnect)
        // And no new connection was made behind the caller's back.
        #expect(relay.accepted == 1)
    }
}
