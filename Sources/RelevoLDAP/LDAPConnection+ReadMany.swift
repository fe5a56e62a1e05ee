internal import CLDAP
import RelevoDirectory

extension LDAPConnection {
    /// How many reads `readMany` keeps in flight on the connection at once:
    /// under slapd's smallest limit of pending requests per connection
    /// (`connmaxpending`, 100 for an anonymous session; beyond it slapd
    /// stops reading the connection until answers have gone out).
    public static let readWindow = 64

    /// Reads several entries as `read` does, with the requests sent ahead of
    /// the answers: up to `readWindow` base searches go out before the first
    /// answer is awaited (libldap keeps each answer for its request), so a
    /// batch of entries costs about one round trip instead of one each.
    ///
    /// - Returns: per DN, in order: the entry, nil when it does not exist,
    ///   or that read's own error (a refused DN, an entry that cannot be
    ///   parsed).
    /// - Throws: `LDAPError` when the connection fails or a request gets no
    ///   answer within the endpoint's timeout: the reads still in flight are
    ///   abandoned.
    public func readMany(_ dns: [DistinguishedName], attributes: [String] = [])
        throws(LDAPError) -> [Result<Entry?, LDAPError>] {
        guard !dns.isEmpty else { return [] }
        for attribute in attributes where !Self.isRequestableAttribute(attribute) {
            throw refused(.read, dn: dns[0].description, "'\(attribute)' is not an attribute description")
        }
        let filter: String
        do { filter = try Self.checkedFilter(.everything) } catch {
            throw refused(.read, dn: dns[0].description, error.message)
        }
        let attributeList = attributes.isEmpty ? nil : CStringArray(attributes)
        return try locked { () throws(LDAPError) -> [Result<Entry?, LDAPError>] in
            var results: [Result<Entry?, LDAPError>] = []
            results.reserveCapacity(dns.count)
            var start = 0
            while start < dns.count {
                let window = dns[start..<min(dns.count, start + Self.readWindow)]
                start = window.endIndex
                var sent: [Int32] = []
                func abandon(from index: Int) {
                    for id in sent[index...] { ldap_abandon_ext(handle, id, nil, nil) }
                }
                clearDiagnostics()
                for dn in window {
                    var messageID: Int32 = 0
                    let rc = ldap_search_ext(handle, dn.description, 0 /* LDAP_SCOPE_BASE */, filter,
                                             attributeList?.pointer, 0, nil, nil, nil, 0, &messageID)
                    guard rc == LDAP_SUCCESS else {
                        abandon(from: 0)
                        throw failure(rc, .read, dn: dn.description)
                    }
                    sent.append(messageID)
                }
                for (position, (dn, messageID)) in zip(window, sent).enumerated() {
                    results.append(try answer(messageID, dn: dn.description) { abandon(from: position + 1) })
                }
            }
            return results
        }
    }

    /// The answer to one base search sent by `readMany`: its entry, nil for
    /// `noSuchObject`, or the read's error. Throws (after `abandonRest`)
    /// when the connection fails or the answer does not come in time.
    private func answer(_ messageID: Int32, dn: String,
                        abandonRest: () -> Void) throws(LDAPError) -> Result<Entry?, LDAPError> {
        var found: Entry?
        var problem: LDAPError?
        while true {
            let type: Int32, message: OpaquePointer?
            do { (type, message) = try nextAnswer(to: messageID, .read, dn: dn) } catch {
                abandonRest()
                throw error
            }
            switch type {
            case 0x64: // LDAP_RES_SEARCH_ENTRY
                defer { ldap_msgfree(message) }
                do { found = try parseEntry(message!, operation: .read) } catch { problem = problem ?? error }
            case 0x65: // LDAP_RES_SEARCH_RESULT
                do {
                    _ = try parseSearchResult(message!, operation: .read, dn: dn, paged: false)
                } catch {
                    if error.code == .noSuchObject { return .success(nil) }
                    return .failure(error)
                }
                if let problem { return .failure(problem) }
                return .success(found)
            default:
                ldap_msgfree(message)
            }
        }
    }
}
