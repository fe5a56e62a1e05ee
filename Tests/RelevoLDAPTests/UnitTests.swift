import Testing
@testable import RelevoLDAP
import RelevoDirectory
import RelevoBasics

@Suite struct Scratch {
    @Test func compiles() { #expect(LDAPResultCode.noSuchObject.description == "noSuchObject (32)") }
}
