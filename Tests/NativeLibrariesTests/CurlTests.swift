// Link-and-call smoke tests for libcurl (module CCurl) through the
// CRelevoShim wrappers of the variadic curl_easy_setopt / curl_easy_getinfo.
import CCurl
import CRelevoShim
import Foundation
import XCTest

/// Collects what libcurl hands to the write callback.
private final class Sink {
    var bytes: [UInt8] = []
    /// When true the callback reports a short write, which must abort the transfer.
    var refuse = false
}

/// A C write callback (curl_write_callback): appends to the Sink in `userdata`.
private let sinkWriteCallback: curl_write_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
    if sink.refuse { return 0 }
    let total = size * count
    buffer.withMemoryRebound(to: UInt8.self, capacity: total) {
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: total))
    }
    return total
}

final class CurlTests: XCTestCase {
    private var directory: URL!
    private var file: URL!
    private let content = "hello relevo\nsecond line\n"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("relevo-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        file = directory.appendingPathComponent("payload.txt")
        try Data(content.utf8).write(to: file)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testVersionInfo() throws {
        // CURLVERSION_NOW is a macro aliasing an enum case, which Swift does not
        // import; by curl.h's definition it is the case just before CURLVERSION_LAST.
        let now = CURLversion(rawValue: CURLVERSION_LAST.rawValue - 1)
        let info = curl_version_info(now).pointee
        XCTAssertGreaterThanOrEqual(Int(info.age.rawValue), Int(CURLVERSION_FOURTH.rawValue))
        let version = String(cString: info.version)
        XCTAssertTrue(String(cString: curl_version()).hasPrefix("libcurl/\(version)"))
        XCTAssertGreaterThanOrEqual(info.version_num, 0x07_44_00, "libcurl 7.68+ expected, got \(version)")
        var protocols: [String] = []
        var cursor: UnsafePointer<UnsafePointer<CChar>?> = try XCTUnwrap(info.protocols)
        while let name = cursor.pointee {
            protocols.append(String(cString: name))
            cursor += 1
        }
        XCTAssertTrue(protocols.contains("file"), "protocols: \(protocols)")
        XCTAssertTrue(protocols.contains("https"), "protocols: \(protocols)")
    }

    func testEasyInitAndSetoptReturnCodes() throws {
        let curl = try XCTUnwrap(curl_easy_init())
        defer { curl_easy_cleanup(curl) }
        XCTAssertEqual(relevo_curl_easy_setopt_string(curl, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK)
        XCTAssertEqual(relevo_curl_easy_setopt_long(curl, CURLOPT_NOSIGNAL, 1), CURLE_OK)
        XCTAssertEqual(relevo_curl_easy_setopt_off_t(curl, CURLOPT_MAXFILESIZE_LARGE, 1 << 20), CURLE_OK)
        XCTAssertEqual(relevo_curl_easy_setopt_pointer(curl, CURLOPT_HTTPHEADER, nil), CURLE_OK)
        XCTAssertEqual(relevo_curl_easy_setopt_write_callback(curl, CURLOPT_WRITEFUNCTION, sinkWriteCallback),
                       CURLE_OK)
        // The wrappers return libcurl's own error codes.
        XCTAssertEqual(relevo_curl_easy_setopt_long(curl, CURLoption(rawValue: 9_999), 1), CURLE_UNKNOWN_OPTION)
        XCTAssertEqual(relevo_curl_easy_setopt_long(curl, CURLOPT_HTTP_VERSION, 99), CURLE_UNSUPPORTED_PROTOCOL)
    }

    func testFileTransferThroughWriteCallback() throws {
        let curl = try XCTUnwrap(curl_easy_init())
        defer { curl_easy_cleanup(curl) }
        let sink = Sink()
        let url = file.absoluteString
        XCTAssertTrue(url.hasPrefix("file:///"))

        try withExtendedLifetime(sink) {
            XCTAssertEqual(relevo_curl_easy_setopt_string(curl, CURLOPT_URL, url), CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_long(curl, CURLOPT_FILETIME, 1), CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_write_callback(curl, CURLOPT_WRITEFUNCTION, sinkWriteCallback),
                           CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_pointer(curl, CURLOPT_WRITEDATA,
                                                           Unmanaged.passUnretained(sink).toOpaque()),
                           CURLE_OK)
            XCTAssertEqual(curl_easy_perform(curl), CURLE_OK)

            XCTAssertEqual(String(decoding: sink.bytes, as: UTF8.self), content)

            var downloaded: curl_off_t = -1
            XCTAssertEqual(relevo_curl_easy_getinfo_off_t(curl, CURLINFO_SIZE_DOWNLOAD_T, &downloaded), CURLE_OK)
            XCTAssertEqual(downloaded, curl_off_t(content.utf8.count))

            var seconds = -1.0
            XCTAssertEqual(relevo_curl_easy_getinfo_double(curl, CURLINFO_TOTAL_TIME, &seconds), CURLE_OK)
            XCTAssertGreaterThanOrEqual(seconds, 0)
            XCTAssertLessThan(seconds, 60)

            var filetime = -2
            XCTAssertEqual(relevo_curl_easy_getinfo_long(curl, CURLINFO_FILETIME, &filetime), CURLE_OK)
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            let modified = try XCTUnwrap(attributes[.modificationDate] as? Date)
            XCTAssertEqual(filetime, Int(modified.timeIntervalSince1970))

            var effective: UnsafeMutablePointer<CChar>?
            XCTAssertEqual(relevo_curl_easy_getinfo_string(curl, CURLINFO_EFFECTIVE_URL, &effective), CURLE_OK)
            XCTAssertEqual(effective.map { String(cString: $0) }, url)
        }
    }

    func testResumeFromOffsetUsesOffT() throws {
        let curl = try XCTUnwrap(curl_easy_init())
        defer { curl_easy_cleanup(curl) }
        let sink = Sink()
        withExtendedLifetime(sink) {
            XCTAssertEqual(relevo_curl_easy_setopt_string(curl, CURLOPT_URL, file.absoluteString), CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_off_t(curl, CURLOPT_RESUME_FROM_LARGE, 6), CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_write_callback(curl, CURLOPT_WRITEFUNCTION, sinkWriteCallback),
                           CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_pointer(curl, CURLOPT_WRITEDATA,
                                                           Unmanaged.passUnretained(sink).toOpaque()),
                           CURLE_OK)
            XCTAssertEqual(curl_easy_perform(curl), CURLE_OK)
            XCTAssertEqual(String(decoding: sink.bytes, as: UTF8.self), String(content.dropFirst(6)))
        }
    }

    func testShortWriteAbortsTransfer() throws {
        let curl = try XCTUnwrap(curl_easy_init())
        defer { curl_easy_cleanup(curl) }
        let sink = Sink()
        sink.refuse = true
        withExtendedLifetime(sink) {
            XCTAssertEqual(relevo_curl_easy_setopt_string(curl, CURLOPT_URL, file.absoluteString), CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_write_callback(curl, CURLOPT_WRITEFUNCTION, sinkWriteCallback),
                           CURLE_OK)
            XCTAssertEqual(relevo_curl_easy_setopt_pointer(curl, CURLOPT_WRITEDATA,
                                                           Unmanaged.passUnretained(sink).toOpaque()),
                           CURLE_OK)
            XCTAssertEqual(curl_easy_perform(curl), CURLE_WRITE_ERROR)
            XCTAssertTrue(sink.bytes.isEmpty)
        }
    }

    func testMissingFileFails() throws {
        let curl = try XCTUnwrap(curl_easy_init())
        defer { curl_easy_cleanup(curl) }
        let missing = directory.appendingPathComponent("missing.txt").absoluteString
        XCTAssertEqual(relevo_curl_easy_setopt_string(curl, CURLOPT_URL, missing), CURLE_OK)
        XCTAssertEqual(curl_easy_perform(curl), CURLE_FILE_COULDNT_READ_FILE)
        XCTAssertEqual(String(cString: curl_easy_strerror(CURLE_FILE_COULDNT_READ_FILE)),
                       "Couldn't read a file:// file")
    }
}
