internal import CCurl
internal import CRelevoShim
import Foundation
import RelevoBasics

/// One libcurl easy handle for one mail session: the options every probe
/// sets (timeouts, TLS, login, verbose off), the callbacks that collect
/// the server's lines and the body, and libcurl's result as a `MailError`.
///
/// The connection is kept by the handle between `perform` calls, so the
/// commands of one session (login, select, search, fetch) share it.
final class CurlTransfer {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    let endpoint: MailEndpoint
    let proto: String
    private let sink = Sink()
    private var recipients: UnsafeMutablePointer<curl_slist>?

    /// What the callbacks collect during one `perform`.
    final class Sink {
        var header: [UInt8] = []
        var body: [UInt8] = []
        var upload: [UInt8] = []
        var uploaded = 0
        /// A bound on what a probe reads: a runaway server cannot fill memory.
        let limit = 64 << 20
    }

    private static let global: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    init(proto: String, endpoint: MailEndpoint, credentials: MailCredentials?) throws {
        guard Self.global == CURLE_OK, let handle = curl_easy_init() else {
            throw MailError(.protocolError, proto: proto, server: endpoint.description, message: "libcurl could not be initialised")
        }
        self.handle = handle
        self.endpoint = endpoint
        self.proto = proto
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var ok = true
        ok = ok && relevo_curl_easy_setopt_long(handle, CURLOPT_VERBOSE, 0) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(endpoint.connectTimeout * 1000)) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(endpoint.timeout * 1000)) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, max(1, Int(endpoint.timeout))) == CURLE_OK
        // Only the protocol asked for: a redirect to another scheme is refused.
        ok = ok && relevo_curl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, proto + "," + proto + "s") == CURLE_OK
        if endpoint.security == .startTLS {
            ok = ok && relevo_curl_easy_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) == CURLE_OK
        }
        if let caFile = endpoint.caFile {
            ok = ok && relevo_curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile) == CURLE_OK
        }
        if let credentials {
            ok = ok && relevo_curl_easy_setopt_string(handle, CURLOPT_USERNAME, credentials.user) == CURLE_OK
            // libcurl copies the password; it never appears in a URL or a log.
            ok = ok && credentials.password.withCString {
                relevo_curl_easy_setopt_string(handle, CURLOPT_PASSWORD, $0) == CURLE_OK
            }
        }
        let opaque = Unmanaged.passUnretained(sink).toOpaque()
        ok = ok && relevo_curl_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, collectBody) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, collectHeader) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_write_callback(handle, CURLOPT_READFUNCTION, supplyUpload) == CURLE_OK
        ok = ok && relevo_curl_easy_setopt_pointer(handle, CURLOPT_READDATA, opaque) == CURLE_OK
        guard ok else {
            curl_easy_cleanup(handle)
            errorBuffer.deallocate()
            throw MailError(.protocolError, proto: proto, server: endpoint.description,
                            message: "libcurl refused an option (built without \(proto)?)")
        }
    }

    deinit {
        curl_easy_cleanup(handle)
        if let recipients { curl_slist_free_all(recipients) }
        errorBuffer.deallocate()
    }

    /// What one `perform` gave: the server's lines and the body.
    struct Result {
        var lines: [String]
        var body: [UInt8]
        var code: Int
    }

    /// Runs one request on `url`: a custom command (`customRequest`), with
    /// no body expected when `noBody`, or an upload (SMTP's message).
    func perform(path: String = "/", customRequest: String? = nil, noBody: Bool = false,
                 upload: [UInt8]? = nil, mailFrom: String? = nil, recipients list: [String] = [],
                 bareRecipients: Bool = false) throws -> Result {
        sink.header = []
        sink.body = []
        sink.upload = upload ?? []
        sink.uploaded = 0
        errorBuffer[0] = 0
        _ = relevo_curl_easy_setopt_string(handle, CURLOPT_URL, endpoint.url(proto, path: path))
        _ = relevo_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, customRequest)
        _ = relevo_curl_easy_setopt_long(handle, CURLOPT_NOBODY, noBody ? 1 : 0)
        _ = relevo_curl_easy_setopt_long(handle, CURLOPT_UPLOAD, upload == nil ? 0 : 1)
        if let upload {
            _ = relevo_curl_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.count))
        }
        if let mailFrom {
            _ = relevo_curl_easy_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mailFrom)>")
        }
        if !list.isEmpty {
            if let recipients { curl_slist_free_all(recipients) }
            recipients = nil
            for r in list { recipients = curl_slist_append(recipients, bareRecipients ? r : "<\(r)>") }
            _ = relevo_curl_easy_setopt_pointer(handle, CURLOPT_MAIL_RCPT, recipients)
        }
        let code = curl_easy_perform(handle)
        var response = 0
        _ = relevo_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &response)
        let lines = String(decoding: sink.header, as: UTF8.self)
            .split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }).map(String.init)
        guard code == CURLE_OK else { throw error(code, response: response, lines: lines) }
        return Result(lines: lines, body: sink.body, code: response)
    }

    /// libcurl's result as a `MailError`: its own message (which names no
    /// credential) and the server's last line.
    private func error(_ code: CURLcode, response: Int, lines: [String]) -> MailError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        let last = lines.last.map { " (server: \($0))" } ?? ""
        let kind: MailError.Kind
        switch code {
        case CURLE_LOGIN_DENIED:
            kind = .authenticationRefused
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING, CURLE_RECV_ERROR:
            kind = .cannotConnect
        case CURLE_SEND_ERROR:
            // SMTP reports a refused MAIL FROM or RCPT TO as a send error.
            kind = response >= 400 ? .rejected : .cannotConnect
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_USE_SSL_FAILED,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            kind = .tls
        case CURLE_QUOTE_ERROR, CURLE_REMOTE_ACCESS_DENIED, CURLE_REMOTE_FILE_NOT_FOUND:
            kind = .rejected
        default:
            kind = .protocolError
        }
        return MailError(kind, proto: proto, server: endpoint.description, message: detail + last)
    }
}

private func sinkOf(_ userdata: UnsafeMutableRawPointer?) -> CurlTransfer.Sink? {
    userdata.map { Unmanaged<CurlTransfer.Sink>.fromOpaque($0).takeUnretainedValue() }
}

private func append(_ buffer: UnsafeMutablePointer<CChar>?, _ total: Int, to bytes: inout [UInt8], limit: Int) -> Int {
    guard let buffer, bytes.count + total <= limit else { return 0 }
    buffer.withMemoryRebound(to: UInt8.self, capacity: total) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: total))
    }
    return total
}

private let collectBody: curl_write_callback = { buffer, size, count, userdata in
    guard let sink = sinkOf(userdata) else { return 0 }
    return append(buffer, size * count, to: &sink.body, limit: sink.limit)
}

private let collectHeader: curl_write_callback = { buffer, size, count, userdata in
    guard let sink = sinkOf(userdata) else { return 0 }
    return append(buffer, size * count, to: &sink.header, limit: sink.limit)
}

/// CURLOPT_READFUNCTION (same C signature as a write callback): the upload.
private let supplyUpload: curl_write_callback = { buffer, size, count, userdata in
    guard let buffer, let sink = sinkOf(userdata) else { return 0 }
    let n = min(size * count, sink.upload.count - sink.uploaded)
    guard n > 0 else { return 0 }
    sink.upload.withUnsafeBufferPointer { source in
        buffer.withMemoryRebound(to: UInt8.self, capacity: n) {
            $0.update(from: source.baseAddress! + sink.uploaded, count: n)
        }
    }
    sink.uploaded += n
    return n
}
