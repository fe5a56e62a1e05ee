@testable import RelevoLive
import Testing

/// The lines of a host's hashing program, read as `SFTPFileSystem.digests`
/// reads them.
@Suite struct DigestRecordTests {
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func record(_ text: String) -> (hex: String, path: String)? {
        SFTPFileSystem.digestRecord(Array(text.utf8)[...])
    }

    @Test func bothProgramsLinesAreRead() {
        // coreutils' text and binary modes, and OpenSSL's `-r`.
        #expect(record(hex + "  /srv/mail/cur/a:2,S")! == (hex, "/srv/mail/cur/a:2,S"))
        #expect(record(hex + " */srv/mail/cur/a b")! == (hex, "/srv/mail/cur/a b"))
        // Upper-case digits are lower-cased, as the census compares them.
        #expect(record(hex.uppercased() + " */x")! == (hex, "/x"))
    }

    @Test func anythingElseIsNotADigest() {
        #expect(record("\\" + hex + "  /srv/mail/cur/back\\\\slash") == nil, "an escaped name")
        #expect(record(hex + "  ") == nil, "no path")
        #expect(record(String(hex.dropLast()) + "  /x") == nil, "63 digits")
        #expect(record(String(hex.dropLast()) + "g  /x") == nil, "not hexadecimal")
        #expect(record(hex + "\t /x") == nil)
        #expect(record("SHA2-256(/x)= " + hex) == nil, "OpenSSL without -r")
        #expect(record("") == nil)
    }
}
