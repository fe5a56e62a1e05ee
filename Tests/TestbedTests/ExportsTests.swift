import Testing
import TestbedSupport

@Suite struct ExportsTests {
    @Test func parsesShellQuotedExports() {
        let v = Testbed.parseExports("""
            # a comment
            export RELEVO_LDAP_URI='ldap://127.0.0.2:3389'
            export RELEVO_ODD='it'\\''s'
            export RELEVO_PLAIN=abc
            """)
        #expect(v["RELEVO_LDAP_URI"] == "ldap://127.0.0.2:3389")
        #expect(v["RELEVO_ODD"] == "it's")
        #expect(v["RELEVO_PLAIN"] == "abc")
        #expect(v.count == 3)
    }
}
