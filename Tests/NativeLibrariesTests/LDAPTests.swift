// Link-and-call smoke tests for OpenLDAP's libldap (module CLDAP).
// ldap_set_option is not variadic, so Swift calls it directly (no shim).
import CLDAP
import Foundation
import XCTest

final class LDAPTests: XCTestCase {
    func testInitializeDoesNotConnect() throws {
        var ld: OpaquePointer?
        // Port 1 has no server: ldap_initialize only parses the URL.
        XCTAssertEqual(ldap_initialize(&ld, "ldap://127.0.0.1:1"), LDAP_SUCCESS)
        let handle = try XCTUnwrap(ld)
        defer { ldap_unbind_ext_s(handle, nil, nil) }

        var uri: UnsafeMutablePointer<CChar>?
        XCTAssertEqual(ldap_get_option(handle, LDAP_OPT_URI, &uri), LDAP_OPT_SUCCESS)
        XCTAssertEqual(uri.map { String(cString: $0) }, "ldap://127.0.0.1:1")
        ldap_memfree(uri)
    }

    func testSetAndGetProtocolVersion() throws {
        var ld: OpaquePointer?
        XCTAssertEqual(ldap_initialize(&ld, "ldap://127.0.0.1:1"), LDAP_SUCCESS)
        let handle = try XCTUnwrap(ld)
        defer { ldap_unbind_ext_s(handle, nil, nil) }

        var version = LDAP_VERSION3
        XCTAssertEqual(ldap_set_option(handle, LDAP_OPT_PROTOCOL_VERSION, &version), LDAP_OPT_SUCCESS)
        var readBack: Int32 = 0
        XCTAssertEqual(ldap_get_option(handle, LDAP_OPT_PROTOCOL_VERSION, &readBack), LDAP_OPT_SUCCESS)
        XCTAssertEqual(readBack, 3)

        var invalid: Int32 = 7
        XCTAssertNotEqual(ldap_set_option(handle, LDAP_OPT_PROTOCOL_VERSION, &invalid), LDAP_OPT_SUCCESS)
    }

    func testBindToClosedPortReportsServerDown() throws {
        var ld: OpaquePointer?
        XCTAssertEqual(ldap_initialize(&ld, "ldap://127.0.0.1:1"), LDAP_SUCCESS)
        let handle = try XCTUnwrap(ld)
        defer { ldap_unbind_ext_s(handle, nil, nil) }
        var version = LDAP_VERSION3
        XCTAssertEqual(ldap_set_option(handle, LDAP_OPT_PROTOCOL_VERSION, &version), LDAP_OPT_SUCCESS)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        XCTAssertEqual(ldap_set_option(handle, LDAP_OPT_NETWORK_TIMEOUT, &timeout), LDAP_OPT_SUCCESS)

        // Anonymous simple bind (mechanism LDAP_SASL_SIMPLE is a NULL pointer).
        var credentials = berval(bv_len: 0, bv_val: nil)
        XCTAssertEqual(ldap_sasl_bind_s(handle, "", nil, &credentials, nil, nil, nil), LDAP_SERVER_DOWN)
    }

    func testErrorStrings() {
        XCTAssertEqual(String(cString: ldap_err2string(LDAP_SUCCESS)), "Success")
        XCTAssertEqual(String(cString: ldap_err2string(LDAP_INVALID_CREDENTIALS)), "Invalid credentials")
        XCTAssertEqual(String(cString: ldap_err2string(LDAP_SERVER_DOWN)), "Can't contact LDAP server")
    }

    func testRejectsMalformedURL() {
        var ld: OpaquePointer?
        XCTAssertNotEqual(ldap_initialize(&ld, "not a url"), LDAP_SUCCESS)
        XCTAssertNil(ld)
    }
}
