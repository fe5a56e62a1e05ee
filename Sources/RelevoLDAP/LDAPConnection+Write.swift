internal import CLDAP
import RelevoDirectory

extension LDAPConnection {
    /// Applies `modifications` to the entry `dn` in one modify operation
    /// (all or nothing, as the server applies them).
    ///
    /// Values are sent as bytes, so binary values pass unchanged. A
    /// `.delete` or `.replace` with no values removes the whole attribute.
    ///
    /// - Throws: `LDAPError` (`noSuchObject` when the entry does not exist).
    public func modify(_ dn: DistinguishedName, _ modifications: [Modification]) throws(LDAPError) {
        let mods = try modList(dn, modifications)
        let dnString = dn.description
        try locked { () throws(LDAPError) in
            clearDiagnostics()
            let rc = ldap_modify_ext_s(handle, dnString, mods.pointer, nil, nil)
            guard rc == LDAP_SUCCESS else { throw failure(rc, .modify, dn: dnString) }
        }
    }

    /// The modifications as libldap's list, checked as `modify` checks them.
    func modList(_ dn: DistinguishedName, _ modifications: [Modification]) throws(LDAPError) -> ModList {
        let dnString = dn.description
        guard !modifications.isEmpty else { throw refused(.modify, dn: dnString, "no modifications") }
        var items: [ModList.Item] = []
        for modification in modifications {
            guard AttributeDescription(modification.attribute) != nil else {
                throw refused(.modify, dn: dnString, "'\(modification.attribute)' is not an attribute description")
            }
            let operation: Int32 = switch modification.operation {
            case .add: LDAP_MOD_ADD
            case .delete: LDAP_MOD_DELETE
            case .replace: LDAP_MOD_REPLACE
            }
            if modification.operation == .add && modification.values.isEmpty {
                throw refused(.modify, dn: dnString, "add of '\(modification.attribute)' with no values")
            }
            items.append(ModList.Item(operation: operation, attribute: modification.attribute,
                                      values: modification.values.isEmpty ? nil : modification.values))
        }
        return ModList(items)
    }

    /// Modifies the entry, then reads it back and checks that each modified
    /// attribute now holds what the modifications mean: after `.replace`
    /// exactly those values, after `.add` at least the added ones, after
    /// `.delete` none of the deleted ones (or no values at all when none
    /// were listed); several modifications of one attribute are followed in
    /// order.
    ///
    /// Values compare byte for byte, and attributes by name ignoring case:
    /// an alias (`commonName` for `cn`), or a server that rewrites values
    /// (hashing a `userPassword`), reads back as a mismatch, never as a
    /// false success. The mismatch names attributes and counts, never
    /// values (they may be passwords).
    ///
    /// - Returns: the entry as read back (only the modified attributes).
    /// - Throws: `LDAPError` from the modify or the read, or kind
    ///   `.readBackMismatch` (the modify itself did succeed).
    @discardableResult
    public func modifyAndReadBack(_ dn: DistinguishedName, _ modifications: [Modification]) throws(LDAPError) -> Entry {
        try locked { () throws(LDAPError) -> Entry in
            try modify(dn, modifications)
            return try readBack(dn, modifications)
        }
    }

    /// The entry as read after `modifications` were applied, checked as
    /// `modifyAndReadBack` checks it.
    func readBack(_ dn: DistinguishedName, _ modifications: [Modification]) throws(LDAPError) -> Entry {
        try locked { () throws(LDAPError) -> Entry in
            let expectations = ReadBackExpectation.from(modifications)
            return try checkedReadBack(dn, expectations, try read(dn, attributes: expectations.map(\.attribute)))
        }
    }

    /// Several entries read back as `readBack` reads one, with their reads
    /// in flight together (`readMany`): per item, the entry or its error.
    func readBackMany(_ items: [(dn: DistinguishedName, modifications: [Modification])])
        throws(LDAPError) -> [Result<Entry, LDAPError>] {
        let expectations = items.map { ReadBackExpectation.from($0.modifications) }
        var names: [String] = []
        for name in expectations.joined().map(\.attribute) where !names.contains(name) { names.append(name) }
        let read = try readMany(items.map(\.dn), attributes: names)
        return zip(items, zip(expectations, read)).map { item, pair in
            Result { () throws(LDAPError) -> Entry in try checkedReadBack(item.dn, pair.0, try pair.1.get()) }
        }
    }

    /// `entry` (as read after a modify) when it shows every expectation;
    /// otherwise the mismatch, naming attributes and counts, never values.
    private func checkedReadBack(_ dn: DistinguishedName, _ expectations: [ReadBackExpectation],
                                 _ entry: Entry?) throws(LDAPError) -> Entry {
        guard let entry else {
            throw LDAPError(kind: .readBackMismatch, code: .noSuchObject, operation: .readBack, dn: dn.description,
                            url: endpoint.url, detail: "the entry is gone after the modify")
        }
        let problems = expectations.compactMap { $0.problem(in: entry) }
        guard problems.isEmpty else {
            throw LDAPError(kind: .readBackMismatch, code: .success, operation: .readBack, dn: dn.description,
                            url: endpoint.url,
                            detail: "the modify succeeded but the entry does not show it: "
                                + problems.joined(separator: "; "))
        }
        return entry
    }

    /// Adds `entry` (its DN and every attribute, values as bytes).
    ///
    /// - Throws: `LDAPError` with kind `.alreadyExists` when the DN is
    ///   taken, `.noSuchObject` when the parent does not exist.
    public func add(_ entry: Entry) throws(LDAPError) {
        let dnString = entry.dn.description
        guard !entry.dn.isRoot else { throw refused(.add, dn: dnString, "cannot add the root DN") }
        guard !entry.attributes.isEmpty else { throw refused(.add, dn: dnString, "an entry needs attributes") }
        var items: [ModList.Item] = []
        for attribute in entry.attributes {
            guard AttributeDescription(attribute.name) != nil else {
                throw refused(.add, dn: dnString, "'\(attribute.name)' is not an attribute description")
            }
            guard !attribute.values.isEmpty else {
                throw refused(.add, dn: dnString, "attribute '\(attribute.name)' has no values")
            }
            items.append(ModList.Item(operation: LDAP_MOD_ADD, attribute: attribute.name, values: attribute.values))
        }
        let mods = ModList(items)
        try locked { () throws(LDAPError) in
            clearDiagnostics()
            let rc = ldap_add_ext_s(handle, dnString, mods.pointer, nil, nil)
            guard rc == LDAP_SUCCESS else { throw failure(rc, .add, dn: dnString) }
        }
    }

    /// Deletes the entry `dn` (a leaf; see `deleteSubtree` for a whole tree).
    ///
    /// - Throws: `LDAPError` (`noSuchObject`, `notAllowedOnNonLeaf (66)`).
    public func delete(_ dn: DistinguishedName) throws(LDAPError) {
        let dnString = dn.description
        guard !dn.isRoot else { throw refused(.delete, dn: dnString, "cannot delete the root DN") }
        try locked { () throws(LDAPError) in
            clearDiagnostics()
            let rc = ldap_delete_ext_s(handle, dnString, nil, nil)
            guard rc == LDAP_SUCCESS else { throw failure(rc, .delete, dn: dnString) }
        }
    }

    /// Deletes `dn` and everything below it, deepest entries first.
    ///
    /// - Returns: the number of entries deleted (0 when `dn` does not exist).
    /// - Throws: `LDAPError` at the first failure; entries deleted before it
    ///   stay deleted.
    @discardableResult
    public func deleteSubtree(_ dn: DistinguishedName) throws(LDAPError) -> Int {
        try locked { () throws(LDAPError) -> Int in
            let entries: [Entry]
            do throws(LDAPError) {
                entries = try search(base: dn, scope: .sub, attributes: ["1.1"])
            } catch let error where error.code == .noSuchObject {
                return 0
            }
            let order = entries.map(\.dn).enumerated()
                .sorted { ($0.element.rdns.count, $0.offset) > ($1.element.rdns.count, $1.offset) }
            for (_, entryDN) in order { try delete(entryDN) }
            return order.count
        }
    }
}

/// What one attribute must look like after a list of modifications.
struct ReadBackExpectation {
    let attribute: String
    /// Known exactly (after a replace or a delete of the whole attribute).
    var exact: Set<[UInt8]>?
    var mustHave: Set<[UInt8]> = []
    var mustNotHave: Set<[UInt8]> = []

    /// One expectation per attribute named (ignoring case), in first-use order.
    static func from(_ modifications: [Modification]) -> [ReadBackExpectation] {
        var out: [ReadBackExpectation] = []
        for modification in modifications {
            let values = Set(modification.values.map(\.bytes))
            let index = out.firstIndex { AttributeDescription.sameName($0.attribute, modification.attribute) }
                ?? { out.append(ReadBackExpectation(attribute: modification.attribute)); return out.count - 1 }()
            switch modification.operation {
            case .replace:
                out[index].exact = values
                out[index].mustHave = []
                out[index].mustNotHave = []
            case .add:
                if out[index].exact != nil { out[index].exact!.formUnion(values) } else {
                    out[index].mustHave.formUnion(values)
                    out[index].mustNotHave.subtract(values)
                }
            case .delete:
                if values.isEmpty {
                    out[index].exact = []
                    out[index].mustHave = []
                    out[index].mustNotHave = []
                } else if out[index].exact != nil {
                    out[index].exact!.subtract(values)
                } else {
                    out[index].mustNotHave.formUnion(values)
                    out[index].mustHave.subtract(values)
                }
            }
        }
        return out
    }

    /// What is wrong with `entry`, or nil when it matches; counts only.
    func problem(in entry: Entry) -> String? {
        let found = entry.attributes
            .filter { AttributeDescription.sameName($0.name, attribute) }
            .flatMap(\.values).map(\.bytes)
        let present = Set(found)
        if let exact {
            if present == exact && found.count == exact.count { return nil }
            let missing = exact.subtracting(present).count
            let unexpected = present.subtracting(exact).count
            return "'\(attribute)' should have \(exact.count) value(s), has \(found.count)"
                + " (\(missing) missing, \(unexpected) unexpected)"
        }
        let missing = mustHave.subtracting(present).count
        let remaining = mustNotHave.intersection(present).count
        if missing == 0 && remaining == 0 { return nil }
        var parts: [String] = []
        if missing > 0 { parts.append("\(missing) added value(s) missing") }
        if remaining > 0 { parts.append("\(remaining) deleted value(s) still present") }
        return "'\(attribute)': " + parts.joined(separator: ", ")
    }
}
