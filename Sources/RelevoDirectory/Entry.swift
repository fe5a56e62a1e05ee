/// One attribute of an entry: its description as written (`cn`,
/// `cn;lang-en`) and its values in order.
public struct Attribute: Hashable, Sendable {
    public var name: String
    public var values: [AttributeValue]

    public init(_ name: String, _ values: [AttributeValue]) {
        self.name = name
        self.values = values
    }

    /// An attribute whose values are text.
    public init(_ name: String, strings: [String]) {
        self.init(name, strings.map { AttributeValue($0) })
    }
}

/// A directory entry: a DN and its attributes, in order.
///
/// Attribute names are matched ignoring case and exactly otherwise (`cn` and
/// `cn;lang-en` are two attributes here). `==` compares the DN with the
/// directory's DN equality and the attributes exactly: same names, same
/// order, same value bytes.
public struct Entry: Hashable, Sendable, CustomStringConvertible {
    public var dn: DistinguishedName
    public var attributes: [Attribute]

    public init(dn: DistinguishedName, attributes: [Attribute] = []) {
        self.dn = dn
        self.attributes = attributes
    }

    /// An entry from a DN string and `(name, value)` text pairs; values of
    /// the same name are gathered into one attribute at its first position.
    public init(dn: String, _ pairs: [(String, String)]) throws(DNError) {
        self.init(dn: try DistinguishedName(dn))
        for (name, value) in pairs { append(name, AttributeValue(value)) }
    }

    /// The position of the attribute named `name` (ignoring case).
    public func index(of name: String) -> Int? {
        attributes.firstIndex { AttributeDescription.sameName($0.name, name) }
    }

    /// The values of the attribute named `name`, or `[]` when absent.
    public subscript(name: String) -> [AttributeValue] {
        guard let i = index(of: name) else { return [] }
        return attributes[i].values
    }

    /// The values of `name` that are text (UTF-8).
    public func strings(_ name: String) -> [String] {
        self[name].compactMap(\.string)
    }

    /// The first text value of `name`.
    public func first(_ name: String) -> String? {
        strings(name).first
    }

    /// True when the attribute `name` is present with at least one value.
    public func has(_ name: String) -> Bool { !self[name].isEmpty }

    /// Appends `value` to the attribute `name`, creating it at the end when absent.
    public mutating func append(_ name: String, _ value: AttributeValue) {
        if let i = index(of: name) {
            attributes[i].values.append(value)
        } else {
            attributes.append(Attribute(name, [value]))
        }
    }

    /// Sets the values of `name` in place (or at the end when absent);
    /// an empty list removes the attribute.
    public mutating func set(_ name: String, _ values: [AttributeValue]) {
        if values.isEmpty { remove(name); return }
        if let i = index(of: name) {
            attributes[i].values = values
        } else {
            attributes.append(Attribute(name, values))
        }
    }

    /// Removes the attribute `name` when present.
    public mutating func remove(_ name: String) {
        attributes.removeAll { AttributeDescription.sameName($0.name, name) }
    }

    /// The values visible to a request for `description`: those of every
    /// attribute that is `description` or a subtype of it (options).
    public func values(matching description: AttributeDescription) -> [AttributeValue] {
        var out: [AttributeValue] = []
        for attribute in attributes {
            // Most attributes are another type: told by their name's type
            // (up to any ';', ASCII letters in any case) before it is parsed.
            guard Self.typeMatches(attribute.name, description.type) else { continue }
            if !attribute.name.utf8.contains(UInt8(ascii: ";")) {
                // No options: the name is the (valid) type itself, a subtype
                // of a request that names no option either.
                if description.options.isEmpty { out += attribute.values }
            } else if let d = AttributeDescription(attribute.name), d.isSubtype(of: description) {
                out += attribute.values
            }
        }
        return out
    }

    /// Whether the type part of `name` (before any `;`) is `type` (already
    /// lowercased) when ASCII letters are compared without case; a valid
    /// attribute description whose type differs never passes.
    static func typeMatches(_ name: String, _ type: String) -> Bool {
        var expected = type.utf8.makeIterator()
        for byte in name.utf8 {
            if byte == UInt8(ascii: ";") { break }
            let lower = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
            guard let want = expected.next(), want == lower else { return false }
        }
        return expected.next() == nil
    }

    /// The entry as a single LDIF content record.
    public var description: String { LDIFWriter(includeVersion: false).write([.content(self)]) }
}
