// Link-and-call smoke tests for libpq (module CPQ).
import CPQ
import XCTest

final class PQTests: XCTestCase {
    func testLibraryVersion() {
        // 15.x is 150000 and up.
        XCTAssertGreaterThanOrEqual(PQlibVersion(), 150_000)
        XCTAssertEqual(PQisthreadsafe(), 1)
    }

    func testRefusedConnectionIsReported() throws {
        // Port 1 of a loopback address nobody listens on: refused at once.
        let conn = try XCTUnwrap(PQconnectdb("host=127.0.0.1 port=1 dbname=x user=x connect_timeout=5"))
        defer { PQfinish(conn) }
        XCTAssertEqual(PQstatus(conn), CONNECTION_BAD)
        XCTAssertTrue(String(cString: PQerrorMessage(conn)).contains("127.0.0.1"))
    }
}
