extension LDAPFilter {
    /// True when `entry` matches this filter.
    ///
    /// Attribute names match ignoring case, and a name without options also
    /// sees values of the same attribute with options (`cn` sees
    /// `cn;lang-en`). Values compare under `MatchingRules` (case-insensitive,
    /// insignificant spaces ignored; integers numerically for `>=`/`<=`), so
    /// `(objectClass=qmailUser)` matches `objectClass: qmailuser`. An absent
    /// attribute makes an item false (and its `!` true): without a schema
    /// there is no "undefined" result. An attribute name that is not a valid
    /// description (possible only in a filter built by hand) matches nothing.
    public func matches(_ entry: Entry) -> Bool {
        switch self {
        case .and(let filters): return filters.allSatisfy { $0.matches(entry) }
        case .or(let filters): return filters.contains { $0.matches(entry) }
        case .not(let filter): return !filter.matches(entry)
        case let .equality(name, assertion), let .approx(name, assertion):
            return Self.values(entry, name).contains { MatchingRules.equal($0, assertion) }
        case .present(let name):
            return !Self.values(entry, name).isEmpty
        case let .substrings(name, initial, any, final):
            return Self.values(entry, name).contains {
                MatchingRules.substringsMatch($0, initial: initial, any: any, final: final)
            }
        case let .greaterOrEqual(name, assertion):
            return Self.values(entry, name).contains { MatchingRules.compare($0, assertion) >= 0 }
        case let .lessOrEqual(name, assertion):
            return Self.values(entry, name).contains { MatchingRules.compare($0, assertion) <= 0 }
        }
    }

    private static func values(_ entry: Entry, _ name: String) -> [AttributeValue] {
        guard let description = AttributeDescription(name) else { return [] }
        return entry.values(matching: description)
    }
}
