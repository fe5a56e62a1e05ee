internal import CLDAP
import RelevoDirectory

extension LDAPConnection {
    /// The page size `search` uses unless told otherwise.
    public static let defaultPageSize = 500

    /// Searches below `base` and returns every entry found.
    ///
    /// With `pageSize > 0` (the default) the search uses the simple paged
    /// results control (RFC 2696), asking for `pageSize` entries at a time
    /// until the server's cookie is empty, so a result larger than the
    /// server's size limit comes back whole. With `pageSize == 0` it is one
    /// plain search, and a server size limit makes it fail with
    /// `sizeLimitExceeded (4)`: a result is never silently cut short.
    ///
    /// - Parameters:
    ///   - base: the search base.
    ///   - scope: `.base`, `.one` or `.sub`.
    ///   - filter: the filter as a tree; values are escaped when it is
    ///     written (use `LDAPFilter.equality(_:_:)` and friends for values
    ///     from data).
    ///   - attributes: the attributes to return; `[]` for all user
    ///     attributes, `["*", "+"]` to add the operational ones, `["1.1"]`
    ///     for none.
    ///   - pageSize: entries per page; 0 for no paging.
    /// - Returns: the entries, in the order the server sent them. Search
    ///   continuation references (referrals to other servers) are skipped.
    /// - Throws: `LDAPError` (`noSuchObject` when the base does not exist).
    public func search(base: DistinguishedName, scope: SearchScope = .sub,
                       filter: LDAPFilter = .everything, attributes: [String] = [],
                       pageSize: Int = LDAPConnection.defaultPageSize) throws(LDAPError) -> [Entry] {
        var entries: [Entry] = []
        do {
            try runSearch(base: base, scope: scope, filter: filter, attributes: attributes,
                          pageSize: pageSize, operation: .search) { (entry: Entry) throws(Never) in
                entries.append(entry)
            }
        } catch {
            switch error {
            case .ldap(let error): throw error
            }
        }
        return entries
    }

    /// Searches as `search(base:scope:filter:attributes:pageSize:)` but hands
    /// each entry to `body` as it arrives instead of collecting them, so a
    /// large subtree is never held in memory at once.
    ///
    /// `body` runs with the connection's lock held; it may use this same
    /// connection (say, to modify the entry it was given). When `body`
    /// throws, the search is abandoned and its error is rethrown as it is.
    ///
    /// - Returns: the number of entries handed to `body`.
    /// - Throws: `LDAPError`, or what `body` threw.
    @discardableResult
    public func search(base: DistinguishedName, scope: SearchScope = .sub,
                       filter: LDAPFilter = .everything, attributes: [String] = [],
                       pageSize: Int = LDAPConnection.defaultPageSize,
                       _ body: (Entry) throws -> Void) throws -> Int {
        var count = 0
        do {
            try runSearch(base: base, scope: scope, filter: filter, attributes: attributes,
                          pageSize: pageSize, operation: .search) { entry in
                count += 1
                try body(entry)
            }
        } catch {
            switch error {
            case .ldap(let error): throw error
            case .callback(let error): throw error
            }
        }
        return count
    }

    /// Reads one entry (a base-scope search), or nil when it does not exist.
    ///
    /// - Parameter attributes: as for `search`; `[]` for all user attributes.
    /// - Throws: `LDAPError` for anything but `noSuchObject`.
    public func read(_ dn: DistinguishedName, attributes: [String] = []) throws(LDAPError) -> Entry? {
        var found: Entry?
        do {
            try runSearch(base: dn, scope: .base, filter: .everything, attributes: attributes,
                          pageSize: 0, operation: .read) { (entry: Entry) throws(Never) in
                found = entry
            }
        } catch {
            switch error {
            case .ldap(let error):
                if error.code == .noSuchObject { return nil }
                throw error
            }
        }
        return found
    }

    /// Why `runSearch` stopped: the server (or libldap) or the callback.
    enum SearchFailure<Callback: Error>: Error {
        case ldap(LDAPError)
        case callback(Callback)
    }

    /// The search loop: one request per page, one `ldap_result` per message,
    /// each waited for at most the endpoint's timeout. Returns the number of
    /// requests sent (pages).
    @discardableResult
    func runSearch<E: Error>(base: DistinguishedName, scope: SearchScope, filter: LDAPFilter,
                             attributes: [String], pageSize: Int, operation: LDAPOperation,
                             _ body: (Entry) throws(E) -> Void) throws(SearchFailure<E>) -> Int {
        let baseString = base.description
        func ldapFailure(_ error: LDAPError) -> SearchFailure<E> { .ldap(error) }

        guard pageSize >= 0, pageSize <= Int(Int32.max) else {
            throw .ldap(refused(operation, dn: baseString, "the page size must be between 0 and \(Int32.max)"))
        }
        let filterString: String
        do { filterString = try Self.checkedFilter(filter) } catch {
            throw .ldap(refused(operation, dn: baseString, error.message))
        }
        for attribute in attributes where !Self.isRequestableAttribute(attribute) {
            throw .ldap(refused(operation, dn: baseString, "'\(attribute)' is not an attribute description"))
        }
        let attributeList = attributes.isEmpty ? nil : CStringArray(attributes)
        let scopeValue: Int32 = switch scope {
        case .base: 0   // LDAP_SCOPE_BASE
        case .one: 1    // LDAP_SCOPE_ONELEVEL
        case .sub: 2    // LDAP_SCOPE_SUBTREE
        }

        lock.lock()
        defer { lock.unlock() }
        var cookie: [UInt8] = []
        var pages = 0
        repeat {
            pages += 1
            clearDiagnostics()
            // The request, with a page control when paging.
            var messageID: Int32 = 0
            var rc: Int32
            if pageSize > 0 {
                var control: UnsafeMutablePointer<LDAPControl>?
                rc = cookie.withUnsafeMutableBytes { raw -> Int32 in
                    var value = berval(bv_len: ber_len_t(raw.count),
                                       bv_val: raw.baseAddress?.assumingMemoryBound(to: CChar.self))
                    // The first page has no cookie (NULL); later ones send the server's.
                    return withUnsafeMutablePointer(to: &value) { pointer in
                        ldap_create_page_control(handle, ber_int_t(pageSize), raw.isEmpty ? nil : pointer, 0, &control)
                    }
                }
                guard rc == LDAP_SUCCESS, let control else {
                    throw ldapFailure(failure(rc, operation, dn: baseString, detail: "cannot build the paged results control"))
                }
                defer { ldap_control_free(control) }
                var controls: [UnsafeMutablePointer<LDAPControl>?] = [control, nil]
                rc = ldap_search_ext(handle, baseString, scopeValue, filterString, attributeList?.pointer, 0,
                                     &controls, nil, nil, 0, &messageID)
            } else {
                rc = ldap_search_ext(handle, baseString, scopeValue, filterString, attributeList?.pointer, 0,
                                     nil, nil, nil, 0, &messageID)
            }
            guard rc == LDAP_SUCCESS else { throw ldapFailure(failure(rc, operation, dn: baseString)) }

            // The answers: entries, references, then the result.
            cookie = []
            answers: while true {
                let type: Int32, message: OpaquePointer?
                do { (type, message) = try nextAnswer(to: messageID, operation, dn: baseString) } catch {
                    throw ldapFailure(error)
                }
                switch type {
                case 0x64: // LDAP_RES_SEARCH_ENTRY
                    let entry: Entry
                    do {
                        defer { ldap_msgfree(message) }
                        entry = try parseEntry(message!, operation: operation)
                    } catch {
                        ldap_abandon_ext(handle, messageID, nil, nil)
                        throw .ldap(error)
                    }
                    do { try body(entry) } catch {
                        ldap_abandon_ext(handle, messageID, nil, nil)
                        throw .callback(error)
                    }
                case 0x65: // LDAP_RES_SEARCH_RESULT
                    do {
                        cookie = try parseSearchResult(message!, operation: operation, dn: baseString, paged: pageSize > 0)
                    } catch {
                        throw .ldap(error)
                    }
                    break answers
                default:
                    // LDAP_RES_SEARCH_REFERENCE (referrals are not chased) or
                    // an intermediate response: nothing to keep.
                    ldap_msgfree(message)
                }
            }
        } while !cookie.isEmpty
        return pages
    }

    /// The next message answering request `messageID`, waited for at most
    /// the endpoint's timeout (a request without an answer in time is
    /// abandoned). Throws `cannotConnect` with `timeout`, or the failure of
    /// the connection.
    func nextAnswer(to messageID: Int32, _ operation: LDAPOperation,
                    dn: String) throws(LDAPError) -> (type: Int32, message: OpaquePointer?) {
        var message: OpaquePointer?
        var wait = Self.makeTimeval(seconds: endpoint.timeout)
        let type = ldap_result(handle, messageID, LDAP_MSG_ONE, &wait, &message)
        switch type {
        case 0:
            ldap_abandon_ext(handle, messageID, nil, nil)
            throw LDAPError(kind: .cannotConnect, code: .timeout, operation: operation, dn: dn, url: endpoint.url,
                            detail: "no answer within \(Self.seconds(endpoint.timeout)) s")
        case -1:
            var code: Int32 = LDAPResultCode.serverDown.rawValue
            ldap_get_option(handle, LDAP_OPT_RESULT_CODE, &code)
            throw failure(code, operation, dn: dn)
        default:
            return (type, message)
        }
    }

    /// Parses and frees the search result message; returns the cookie for
    /// the next page (empty when done).
    func parseSearchResult(_ message: OpaquePointer, operation: LDAPOperation, dn: String,
                                   paged: Bool) throws(LDAPError) -> [UInt8] {
        var code: Int32 = 0
        var matched: UnsafeMutablePointer<CChar>?
        var diagnostic: UnsafeMutablePointer<CChar>?
        var controls: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
        let rc = ldap_parse_result(handle, message, &code, &matched, &diagnostic, nil, &controls, 1)
        defer { if let controls { ldap_controls_free(controls) } }
        let matchedDN = takeLDAPString(matched)
        let message = takeLDAPString(diagnostic)
        guard rc == LDAP_SUCCESS else { throw failure(rc, operation, dn: dn) }
        guard code == LDAP_SUCCESS else {
            throw LDAPError(code: LDAPResultCode(code), operation: operation, dn: dn, url: endpoint.url,
                            diagnosticMessage: message, matchedDN: matchedDN)
        }
        guard paged, let controls,
              let response = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nil) else {
            // No paging asked, or a server that ignored the (non-critical)
            // control and sent everything at once.
            return []
        }
        var estimate: ber_int_t = 0
        var cookie = berval(bv_len: 0, bv_val: nil)
        let parsed = ldap_parse_pageresponse_control(handle, response, &estimate, &cookie)
        defer { if let value = cookie.bv_val { ber_memfree(value) } }
        guard parsed == LDAP_SUCCESS else {
            throw failure(parsed, operation, dn: dn, detail: "cannot read the paged results response")
        }
        return bytes(of: cookie)
    }

    /// An entry message as an `Entry`: its DN and attributes in the order
    /// sent, values as bytes.
    func parseEntry(_ message: OpaquePointer, operation: LDAPOperation) throws(LDAPError) -> Entry {
        guard let dnText = takeLDAPString(ldap_get_dn(handle, message)) else {
            var code: Int32 = LDAPResultCode.decodingError.rawValue
            ldap_get_option(handle, LDAP_OPT_RESULT_CODE, &code)
            throw failure(code, operation, detail: "an entry without a DN")
        }
        let dn: DistinguishedName
        do { dn = try DistinguishedName(dnText) } catch {
            throw LDAPError(kind: .other, code: .decodingError, operation: operation, dn: dnText, url: endpoint.url,
                            detail: "the server sent a DN Relevo cannot parse: \(error.message)")
        }
        var entry = Entry(dn: dn)
        var ber: OpaquePointer?
        var name = ldap_first_attribute(handle, message, &ber)
        defer { if let ber { ber_free(ber, 0) } }
        while let current = name {
            let attribute = String(cString: current)
            var values: [AttributeValue] = []
            if let list = ldap_get_values_len(handle, message, current) {
                var i = 0
                while let value = list[i] {
                    values.append(AttributeValue(bytes: bytes(of: value.pointee)))
                    i += 1
                }
                ldap_value_free_len(list)
            }
            ldap_memfree(current)
            entry.attributes.append(Attribute(attribute, values))
            name = ldap_next_attribute(handle, message, ber)
        }
        return entry
    }

    /// The filter's string form, checked to parse back to the same tree:
    /// the string sent then means exactly the filter given (an attribute
    /// name holding `)(` would not survive this).
    static func checkedFilter(_ filter: LDAPFilter) throws(LDAPFilterError) -> String {
        let text = filter.description
        let parsed = try LDAPFilter(text)
        guard parsed == filter else {
            throw LDAPFilterError(offset: 0, message: "the filter does not survive writing and parsing: \(text)")
        }
        return text
    }

    /// An attribute description, or one of the special selectors
    /// `*`, `+` and `1.1`.
    static func isRequestableAttribute(_ name: String) -> Bool {
        name == "*" || name == "+" || name == "1.1" || AttributeDescription(name) != nil
    }
}
