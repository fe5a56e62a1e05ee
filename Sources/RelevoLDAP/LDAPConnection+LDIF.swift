import RelevoDirectory

extension LDAPConnection {
    /// The entries below (and at) `base` that match `filter`, with their
    /// user attributes, in parent-before-child order: by depth, and in the
    /// server's order within one depth. So adding them in this order never
    /// needs a parent that comes later.
    ///
    /// Operational attributes (`entryUUID`, `createTimestamp`, ...) are not
    /// included: a server sets its own when the entries are added.
    public func exportEntries(base: DistinguishedName, filter: LDAPFilter = .everything,
                              pageSize: Int = LDAPConnection.defaultPageSize) throws(LDAPError) -> [Entry] {
        let entries = try search(base: base, scope: .sub, filter: filter, attributes: ["*"], pageSize: pageSize)
        return entries.enumerated()
            .sorted { ($0.element.dn.rdns.count, $0.offset) < ($1.element.dn.rdns.count, $1.offset) }
            .map(\.element)
    }

    /// The LDIF text (RFC 2849, RelevoDirectory's `LDIFWriter`) of
    /// `exportEntries(base:filter:)`: content records, parents first,
    /// binary and unsafe values in base64. `LDIFReader` reads it back into
    /// the same entries.
    public func export(base: DistinguishedName, filter: LDAPFilter = .everything,
                       writer: LDIFWriter = LDIFWriter()) throws(LDAPError) -> String {
        writer.write(entries: try exportEntries(base: base, filter: filter))
    }

    /// Adds the entries of `records`, one at a time and in order: content
    /// records and `changetype: add` records. Any other change record
    /// (modify, delete, modrdn) is refused before anything is sent.
    ///
    /// - Returns: the DNs added, in order.
    /// - Throws: `LDAPImportError` at the first record that fails, with the
    ///   DNs added before it, so a caller can undo them (in reverse order).
    ///   Nothing after the failed record is attempted.
    @discardableResult
    public func importLDIF(_ records: [LDIFRecord]) throws(LDAPImportError) -> [DistinguishedName] {
        var entries: [Entry] = []
        for (index, record) in records.enumerated() {
            switch record {
            case .content(let entry):
                entries.append(entry)
            case .change(let change):
                guard case .add(let attributes) = change.change else {
                    throw LDAPImportError(
                        added: [], failedIndex: index, failedDN: change.dn,
                        underlying: refused(.add, dn: change.dn.description,
                                            "importLDIF only adds entries; this record is a \(Self.kind(of: change.change))"))
                }
                entries.append(Entry(dn: change.dn, attributes: attributes))
            }
        }
        var added: [DistinguishedName] = []
        for (index, entry) in entries.enumerated() {
            do {
                try add(entry)
            } catch {
                throw LDAPImportError(added: added, failedIndex: index, failedDN: entry.dn, underlying: error)
            }
            added.append(entry.dn)
        }
        return added
    }

    /// Reads `ldif` with `LDIFReader` and imports its records as
    /// `importLDIF(_:)` does.
    ///
    /// - Throws: `LDIFError` when the text is malformed (nothing is sent),
    ///   `LDAPImportError` when a record fails.
    @discardableResult
    public func importLDIF(text ldif: String, reader: LDIFReader = LDIFReader()) throws -> [DistinguishedName] {
        try importLDIF(try reader.read(ldif))
    }

    private static func kind(of change: LDIFChange) -> String {
        switch change {
        case .add: "add"
        case .delete: "delete"
        case .modify: "modify"
        case .modifyDN: "modrdn"
        }
    }
}
