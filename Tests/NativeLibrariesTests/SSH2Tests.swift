// Link-and-call smoke tests for libssh2 (module CSSH2) and the CRelevoShim
// wrappers of its function-like macros. No SSH server is available in tests,
// so only what works without a connection is exercised at run time; the
// signature test pins the Swift view of every wrapper at compile time and
// makes the linker resolve each symbol.
import CRelevoShim
import CSSH2
import XCTest

final class SSH2Tests: XCTestCase {
    func testVersion() throws {
        let version = String(cString: try XCTUnwrap(libssh2_version(0)))
        XCTAssertTrue(version.hasPrefix("1."), "libssh2 1.x expected, got \(version)")
        // The library is at least as new as the header we compiled against.
        XCTAssertNotNil(libssh2_version(LIBSSH2_VERSION_NUM))
        XCTAssertNil(libssh2_version(0x7f00_0000), "no libssh2 127.x exists")
    }

    func testInitSessionAndFree() throws {
        XCTAssertEqual(libssh2_init(0), 0)
        defer { libssh2_exit() }

        let session = try XCTUnwrap(relevo_libssh2_session_init())
        XCTAssertEqual(libssh2_session_get_blocking(session), 1, "sessions start in blocking mode")
        libssh2_session_set_blocking(session, 0)
        XCTAssertEqual(libssh2_session_get_blocking(session), 0)
        libssh2_session_set_timeout(session, 2_500)
        XCTAssertEqual(libssh2_session_get_timeout(session), 2_500)
        XCTAssertEqual(libssh2_session_free(session), 0)
    }

    func testShimSignatures() {
        // Each binding fails to compile if a wrapper's Swift signature changes,
        // and fails to link if a wrapper is missing from relevo_shim.c.
        let session: () -> OpaquePointer? = relevo_libssh2_session_init
        let disconnect: (OpaquePointer?, UnsafePointer<CChar>?) -> Int32 = relevo_libssh2_session_disconnect
        let password: (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32 =
            relevo_libssh2_userauth_password
        let publickey: (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                        UnsafePointer<CChar>?) -> Int32 = relevo_libssh2_userauth_publickey_fromfile
        let open: (OpaquePointer?) -> OpaquePointer? = relevo_libssh2_channel_open_session
        let exec: (OpaquePointer?, UnsafePointer<CChar>?) -> Int32 = relevo_libssh2_channel_exec
        let read: (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int) -> Int = relevo_libssh2_channel_read
        let readStderr: (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int) -> Int =
            relevo_libssh2_channel_read_stderr
        let write: (OpaquePointer?, UnsafePointer<CChar>?, Int) -> Int = relevo_libssh2_channel_write
        let flush: (OpaquePointer?) -> Int32 = relevo_libssh2_channel_flush

        typealias Attributes = UnsafeMutablePointer<LIBSSH2_SFTP_ATTRIBUTES>?
        let sftpOpen: (OpaquePointer?, UnsafePointer<CChar>?, UInt, Int) -> OpaquePointer? = relevo_libssh2_sftp_open
        let sftpOpendir: (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer? = relevo_libssh2_sftp_opendir
        let sftpReaddir: (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, Attributes) -> Int32 =
            relevo_libssh2_sftp_readdir
        let sftpMkdir: (OpaquePointer?, UnsafePointer<CChar>?, Int) -> Int32 = relevo_libssh2_sftp_mkdir
        let sftpRmdir: (OpaquePointer?, UnsafePointer<CChar>?) -> Int32 = relevo_libssh2_sftp_rmdir
        let sftpUnlink: (OpaquePointer?, UnsafePointer<CChar>?) -> Int32 = relevo_libssh2_sftp_unlink
        let sftpRename: (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32 =
            relevo_libssh2_sftp_rename
        let sftpStat: (OpaquePointer?, UnsafePointer<CChar>?, Attributes) -> Int32 = relevo_libssh2_sftp_stat
        let sftpLstat: (OpaquePointer?, UnsafePointer<CChar>?, Attributes) -> Int32 = relevo_libssh2_sftp_lstat
        let sftpSymlink: (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32 =
            relevo_libssh2_sftp_symlink
        let sftpReadlink: (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, UInt32) -> Int32 =
            relevo_libssh2_sftp_readlink

        let all: [Any] = [session, disconnect, password, publickey, open, exec, read, readStderr, write, flush,
                          sftpOpen, sftpOpendir, sftpReaddir, sftpMkdir, sftpRmdir, sftpUnlink, sftpRename,
                          sftpStat, sftpLstat, sftpSymlink, sftpReadlink]
        XCTAssertEqual(all.count, 21)
        // SFTP constants used with the wrappers come through the same import.
        XCTAssertEqual(LIBSSH2_FXF_READ, 0x0000_0001)
        XCTAssertEqual(LIBSSH2_SFTP_S_IFDIR, 0o040000)
    }
}
