/// The scope of a search, relative to its base (RFC 4511 section 4.5.1.2).
public enum SearchScope: String, Hashable, Sendable {
    /// The base entry only.
    case base
    /// The immediate children of the base (not the base).
    case one
    /// The base and everything below it.
    case sub
}

/// An LDAP directory in memory, for dry runs and tests: entries in a tree,
/// searched with `LDAPFilter`s and changed with LDAP's operations and
/// result codes.
///
/// **Concurrency.** A value type: every copy is independent and the type is
/// `Sendable`, so it can be handed between tasks freely. Code that needs one
/// shared, mutable directory should keep it inside an actor (or behind a
/// lock); the type has no internal locking.
///
/// **Order.** Searches return entries in insertion order (a renamed entry
/// keeps its place). `export()` uses the same order, moving an entry after
/// its ancestors when a rename made it come first, so the export loads back.
///
/// **Naming contexts.** An entry can be added only below an existing parent,
/// except a *suffix* entry, which has no parent in the directory. Suffixes
/// are the DNs given to `init(suffixes:)`; when none are given, the first
/// entry added to the empty directory becomes the suffix (as the first entry
/// of a `slapcat` dump is). An entry outside every suffix is refused
/// (`noSuchObject` naming its missing parent).
///
/// **Semantics.** DNs compare as `DistinguishedName` does (ignoring case),
/// values as `MatchingRules` says; there is no schema (no object-class or
/// syntax checks, no operational attributes), but an entry must hold the
/// values its RDN names, and a modification may not remove them.
public struct MemoryDirectory: Sendable {
    /// The naming contexts: entries that may exist without a parent.
    public private(set) var suffixes: [DistinguishedName]

    private var slots: [Entry?] = []
    private var index: [DistinguishedName: Int] = [:]
    private var childCount: [DistinguishedName: Int] = [:]

    /// An empty directory with these naming contexts (see the type's
    /// documentation for the behaviour when there are none).
    public init(suffixes: [DistinguishedName] = []) {
        self.suffixes = suffixes
    }

    /// A directory loaded from LDIF text: content records are added, change
    /// records applied, in order.
    public init(ldif: String, suffixes: [DistinguishedName] = [], limits: LDIFLimits = .default) throws(DirectoryLoadError) {
        self.init(suffixes: suffixes)
        try load(ldif: ldif, limits: limits)
    }

    /// Applies every record of `ldif` in order; stops at the first failure,
    /// leaving the records before it applied.
    public mutating func load(ldif: String, limits: LDIFLimits = .default) throws(DirectoryLoadError) {
        let records: [(line: Int, record: LDIFRecord)]
        do {
            records = try LDIFReader(limits: limits).readWithLines(ldif)
        } catch {
            throw .syntax(error)
        }
        for (line, record) in records {
            do {
                try apply(record)
            } catch {
                throw .operation(error, line: line)
            }
        }
    }

    /// Applies each record in order; stops at the first failure.
    public mutating func load(_ records: [LDIFRecord]) throws(DirectoryError) {
        for record in records { try apply(record) }
    }

    // MARK: Reading

    /// The number of entries.
    public var count: Int { index.count }

    /// Every entry, in insertion order.
    public var entries: [Entry] { slots.compactMap { $0 } }

    /// The entry named `dn`, or nil.
    public func entry(_ dn: DistinguishedName) -> Entry? {
        index[dn].flatMap { slots[$0] }
    }

    /// True when an entry named `dn` exists.
    public func contains(_ dn: DistinguishedName) -> Bool { index[dn] != nil }

    /// The entries in `scope` of `base` that match `filter`, in insertion
    /// order, holding only the requested attributes.
    ///
    /// - `base` must exist (`noSuchObject`), except the root DN, which stands
    ///   for the virtual root above the suffixes (`.base` finds nothing,
    ///   `.one` finds the suffix entries, `.sub` everything).
    /// - `filter` defaults to `(&)`, which matches every entry (even one
    ///   without `objectClass`, which this schema-less directory allows).
    /// - `attributes`: empty or containing `*` means all attributes; `1.1`
    ///   alone means none (DN only); otherwise the named ones (ignoring case;
    ///   `cn` also returns `cn;lang-en`). `+` is accepted and adds nothing.
    public func search(base: DistinguishedName, scope: SearchScope = .sub,
                       filter: LDAPFilter = .and([]),
                       attributes: [String] = []) throws(DirectoryError) -> [Entry] {
        if !base.isRoot && index[base] == nil { throw .noSuchObject(base) }
        var results: [Entry] = []
        for case let entry? in slots {
            let inScope: Bool
            switch scope {
            case .base: inScope = entry.dn == base
            case .one: inScope = base.isRoot ? !hasParentInDirectory(entry.dn) : entry.dn.parent == base
            case .sub: inScope = entry.dn.isEqualOrDescendant(of: base)
            }
            if inScope && filter.matches(entry) { results.append(Self.select(entry, attributes)) }
        }
        return results
    }

    /// LDAP compare: whether the entry's attribute holds `value`. Throws
    /// `noSuchObject` for a missing entry and `noSuchAttribute` when the
    /// entry lacks the attribute (as OpenLDAP does).
    public func compare(_ dn: DistinguishedName, attribute: String, value: AttributeValue) throws(DirectoryError) -> Bool {
        guard let entry = entry(dn) else { throw .noSuchObject(dn) }
        guard let description = AttributeDescription(attribute) else {
            throw .protocolError("invalid attribute description '\(attribute)'")
        }
        let values = entry.values(matching: description)
        if values.isEmpty { throw .noSuchAttribute(dn, attribute: attribute) }
        return values.contains { MatchingRules.equal($0, value) }
    }

    /// The whole directory as LDIF content records (see the type's note on order).
    public func export(writer: LDIFWriter = LDIFWriter()) -> String {
        writer.write(entries: exportOrder())
    }

    // MARK: Changing

    /// Adds `entry`. Errors: `entryAlreadyExists`; `noSuchObject` (naming
    /// the parent) when the parent is missing and the entry is not a suffix;
    /// `namingViolation` when the entry lacks its RDN's values;
    /// `attributeOrValueExists` for a value listed twice; `protocolError`
    /// for an invalid attribute name or an attribute with no values;
    /// `unwillingToPerform` for the root DN.
    public mutating func add(_ entry: Entry) throws(DirectoryError) {
        let dn = entry.dn
        guard let parent = dn.parent else { throw .unwillingToPerform("cannot add an entry with the empty (root) DN") }
        if index[dn] != nil { throw .entryAlreadyExists(dn) }
        let becomesSuffix = index[parent] == nil && suffixes.isEmpty && index.isEmpty
        if index[parent] == nil && !becomesSuffix && !suffixes.contains(dn) {
            throw .noSuchObject(parent)
        }
        try Self.validate(entry)
        if becomesSuffix { suffixes.append(dn) }
        insert(entry)
    }

    /// Deletes the entry `dn`. Errors: `noSuchObject`, `notAllowedOnNonLeaf`.
    public mutating func delete(_ dn: DistinguishedName) throws(DirectoryError) {
        guard let position = index[dn] else { throw .noSuchObject(dn) }
        if childCount[dn, default: 0] > 0 { throw .notAllowedOnNonLeaf(dn) }
        slots[position] = nil
        index[dn] = nil
        if let parent = dn.parent { decrementChildren(of: parent) }
        compactIfSparse()
    }

    /// Applies `modifications` to the entry `dn` atomically: all or none.
    ///
    /// Per RFC 4511: `add` adds values, creating the attribute
    /// (`attributeOrValueExists` when a value is present already);
    /// `delete` with values removes them (`noSuchAttribute` when one is
    /// missing) and the attribute when none remain, without values removes the
    /// attribute (`noSuchAttribute` when absent); `replace` sets the values,
    /// or removes the attribute when given none. Removing a value named by the
    /// RDN is `notAllowedOnRDN`.
    public mutating func modify(_ dn: DistinguishedName, _ modifications: [Modification]) throws(DirectoryError) {
        guard let position = index[dn], var entry = slots[position] else { throw .noSuchObject(dn) }
        for modification in modifications {
            try Self.apply(modification, to: &entry)
        }
        for pair in dn.rdns[0].attributes where !Self.holds(entry, pair) {
            throw .notAllowedOnRDN(dn, attribute: pair.type)
        }
        slots[position] = entry
    }

    /// Renames the entry `dn` (and moves its whole subtree) to `newRDN`
    /// under `newSuperior` (default: its current parent). The new RDN's
    /// values are added to the entry; with `deleteOldRDN`, the old RDN's
    /// values that the new one does not name are removed.
    /// Errors: `noSuchObject` (entry or new superior), `entryAlreadyExists`,
    /// `unwillingToPerform` (renaming a suffix, or moving below itself).
    public mutating func rename(_ dn: DistinguishedName, newRDN: RelativeDistinguishedName,
                                deleteOldRDN: Bool, newSuperior: DistinguishedName? = nil) throws(DirectoryError) {
        guard let position = index[dn], var entry = slots[position] else { throw .noSuchObject(dn) }
        guard let oldParent = dn.parent else { throw .unwillingToPerform("cannot rename the root DN") }
        if suffixes.contains(dn) { throw .unwillingToPerform("cannot rename the suffix '\(dn)'") }
        let parent = newSuperior ?? oldParent
        if !parent.isRoot && index[parent] == nil { throw .noSuchObject(parent) }
        if parent.isEqualOrDescendant(of: dn) { throw .unwillingToPerform("cannot move '\(dn)' below itself") }
        let newDN = parent.child(newRDN)
        if newDN != dn && index[newDN] != nil { throw .entryAlreadyExists(newDN) }
        if index[parent] == nil && !suffixes.contains(newDN) { throw .noSuchObject(parent) }

        for pair in newRDN.attributes where !Self.holds(entry, pair) {
            entry.append(pair.type, AttributeValue(pair.value))
        }
        if deleteOldRDN, let oldRDN = dn.rdn {
            for pair in oldRDN.attributes where !newRDN.attributes.contains(pair) {
                Self.removeValue(pair, from: &entry)
            }
        }
        try Self.validate(Entry(dn: newDN, attributes: entry.attributes))

        for (i, slot) in slots.enumerated() {
            guard var moved = slot, let renamed = moved.dn.replacingAncestor(dn, with: newDN) else { continue }
            if i == position { moved = entry }
            moved.dn = renamed
            slots[i] = moved
        }
        rebuildIndex()
    }

    /// Applies one LDIF record: a content record or `changetype: add` adds,
    /// `delete` deletes, `modify` modifies, `modrdn` renames. Controls are ignored.
    public mutating func apply(_ record: LDIFRecord) throws(DirectoryError) {
        switch record {
        case .content(let entry):
            try add(entry)
        case .change(let change):
            switch change.change {
            case .add(let attributes): try add(Entry(dn: change.dn, attributes: attributes))
            case .delete: try delete(change.dn)
            case .modify(let modifications): try modify(change.dn, modifications)
            case let .modifyDN(newRDN, deleteOldRDN, newSuperior):
                try rename(change.dn, newRDN: newRDN, deleteOldRDN: deleteOldRDN, newSuperior: newSuperior)
            }
        }
    }

    // MARK: Internals

    private mutating func insert(_ entry: Entry) {
        index[entry.dn] = slots.count
        slots.append(entry)
        if let parent = entry.dn.parent { childCount[parent, default: 0] += 1 }
    }

    private mutating func decrementChildren(of parent: DistinguishedName) {
        let remaining = childCount[parent, default: 1] - 1
        childCount[parent] = remaining > 0 ? remaining : nil
    }

    private mutating func compactIfSparse() {
        if slots.count > 64 && index.count < slots.count / 2 { rebuildIndex() }
    }

    /// Drops empty slots and recomputes the index and child counts.
    private mutating func rebuildIndex() {
        slots = slots.filter { $0 != nil }
        index = [:]
        childCount = [:]
        for (i, slot) in slots.enumerated() {
            guard let entry = slot else { continue }
            index[entry.dn] = i
            if let parent = entry.dn.parent { childCount[parent, default: 0] += 1 }
        }
    }

    private func hasParentInDirectory(_ dn: DistinguishedName) -> Bool {
        dn.parent.map { index[$0] != nil } ?? false
    }

    private func exportOrder() -> [Entry] {
        var emitted = Set<DistinguishedName>()
        var out: [Entry] = []
        func emit(_ entry: Entry) {
            if emitted.contains(entry.dn) { return }
            var ancestors: [Entry] = []
            var dn = entry.dn.parent
            while let current = dn, let ancestor = self.entry(current), !emitted.contains(current) {
                ancestors.append(ancestor)
                dn = current.parent
            }
            for ancestor in ancestors.reversed() {
                emitted.insert(ancestor.dn)
                out.append(ancestor)
            }
            emitted.insert(entry.dn)
            out.append(entry)
        }
        for case let entry? in slots { emit(entry) }
        return out
    }

    private static func select(_ entry: Entry, _ requested: [String]) -> Entry {
        if requested.isEmpty || requested.contains("*") { return entry }
        if requested == ["1.1"] { return Entry(dn: entry.dn) }
        let wanted = requested.compactMap(AttributeDescription.init)
        var out = Entry(dn: entry.dn)
        out.attributes = entry.attributes.filter { attribute in
            guard let d = AttributeDescription(attribute.name) else { return false }
            return wanted.contains { d.isSubtype(of: $0) }
        }
        return out
    }
}
