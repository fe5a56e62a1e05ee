/// The checks and value edits behind `MemoryDirectory`'s operations.
extension MemoryDirectory {
    static func holds(_ entry: Entry, _ pair: AttributeTypeAndValue) -> Bool {
        entry[pair.type].contains { MatchingRules.equal($0, AttributeValue(pair.value)) }
    }

    static func removeValue(_ pair: AttributeTypeAndValue, from entry: inout Entry) {
        let remaining = entry[pair.type].filter { !MatchingRules.equal($0, AttributeValue(pair.value)) }
        entry.set(pair.type, remaining)
    }

    static func validate(_ entry: Entry) throws(DirectoryError) {
        for attribute in entry.attributes {
            if !AttributeDescription.isValid(attribute.name) {
                throw .protocolError("invalid attribute description '\(attribute.name)'")
            }
            if attribute.values.isEmpty {
                throw .protocolError("attribute '\(attribute.name)' of '\(entry.dn)' has no values")
            }
            if hasDuplicate(attribute.values) { throw .attributeOrValueExists(entry.dn, attribute: attribute.name) }
        }
        // Valid names are ASCII: the same name twice is `sameName`.
        let names = entry.attributes.map(\.name)
        for i in names.indices {
            for j in names.indices where j > i && AttributeDescription.sameName(names[i], names[j]) {
                throw .protocolError("'\(entry.dn)' lists an attribute twice")
            }
        }
        for pair in entry.dn.rdn?.attributes ?? [] where !holds(entry, pair) {
            throw .namingViolation(entry.dn, "naming attribute '\(pair.type)' is not present in the entry")
        }
    }

    static func hasDuplicate(_ values: [AttributeValue]) -> Bool {
        if values.count < 2 { return false }
        if values.count <= 8 {
            // A few values: compared pairwise (`equal` is the keys' equality).
            for i in values.indices {
                for j in values.indices where j > i && MatchingRules.equal(values[i], values[j]) { return true }
            }
            return false
        }
        var seen = Set<MatchingRules.Key>()
        for value in values where !seen.insert(MatchingRules.key(value)).inserted { return true }
        return false
    }

    static func apply(_ modification: Modification, to entry: inout Entry) throws(DirectoryError) {
        let dn = entry.dn
        let name = modification.attribute
        guard AttributeDescription(name) != nil else { throw .protocolError("invalid attribute description '\(name)'") }
        let current = entry[name]
        switch modification.operation {
        case .add:
            if modification.values.isEmpty { throw .protocolError("'add: \(name)' with no values") }
            if hasDuplicate(modification.values) { throw .attributeOrValueExists(dn, attribute: name) }
            for value in modification.values where current.contains(where: { MatchingRules.equal($0, value) }) {
                throw .attributeOrValueExists(dn, attribute: name)
            }
            entry.set(name, current + modification.values)
        case .delete:
            if current.isEmpty { throw .noSuchAttribute(dn, attribute: name) }
            if modification.values.isEmpty {
                entry.remove(name)
                return
            }
            var remaining = current
            for value in modification.values {
                guard let i = remaining.firstIndex(where: { MatchingRules.equal($0, value) }) else {
                    throw .noSuchAttribute(dn, attribute: name)
                }
                remaining.remove(at: i)
            }
            entry.set(name, remaining)
        case .replace:
            if hasDuplicate(modification.values) { throw .attributeOrValueExists(dn, attribute: name) }
            entry.set(name, modification.values)
        }
    }
}
