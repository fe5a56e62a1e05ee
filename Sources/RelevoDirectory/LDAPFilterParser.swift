/// Recursive-descent parser for RFC 4515 filter strings.
enum LDAPFilterParser {
    static func parse(_ string: String) throws(LDAPFilterError) -> LDAPFilter {
        var p = Parser(scalars: Array(string.unicodeScalars))
        if p.scalars.isEmpty { throw LDAPFilterError(offset: 0, message: "empty filter") }
        let filter = try p.parseFilter(depth: 1)
        if !p.atEnd {
            throw LDAPFilterError(offset: p.index, message: p.peek == ")"
                ? "unbalanced parentheses: ')' closes nothing"
                : "unexpected characters after the end of the filter")
        }
        return filter
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        func fail(_ message: String, at offset: Int? = nil) -> LDAPFilterError {
            LDAPFilterError(offset: offset ?? index, message: message)
        }

        mutating func parseFilter(depth: Int) throws(LDAPFilterError) -> LDAPFilter {
            guard let c = peek else { throw fail("unexpected end of filter: expected '('") }
            guard c == "(" else { throw fail("expected '(', found '\(c)'") }
            if depth > LDAPFilter.maxDepth {
                throw fail("filter nested deeper than \(LDAPFilter.maxDepth) levels")
            }
            let open = index
            index += 1
            let filter: LDAPFilter
            switch peek {
            case nil:
                throw fail("unbalanced parentheses: '(' at offset \(open) is never closed")
            case "&":
                index += 1
                filter = .and(try parseList(depth: depth))
            case "|":
                index += 1
                filter = .or(try parseList(depth: depth))
            case "!":
                index += 1
                filter = .not(try parseFilter(depth: depth + 1))
            case ")":
                throw fail("empty filter '()'")
            default:
                filter = try parseItem()
            }
            guard let close = peek else {
                throw fail("unbalanced parentheses: '(' at offset \(open) is never closed")
            }
            guard close == ")" else { throw fail("expected ')' to close the '(' at offset \(open), found '\(close)'") }
            index += 1
            return filter
        }

        mutating func parseList(depth: Int) throws(LDAPFilterError) -> [LDAPFilter] {
            var filters: [LDAPFilter] = []
            while peek == "(" { filters.append(try parseFilter(depth: depth + 1)) }
            return filters
        }

        mutating func parseItem() throws(LDAPFilterError) -> LDAPFilter {
            let start = index
            var name = String.UnicodeScalarView()
            while let c = peek, !"=~<>:()".unicodeScalars.contains(c) {
                guard c.isASCII, c == "." || c == ";" || AttributeDescription.isKeyChar(UInt8(c.value)) else {
                    throw fail("invalid character '\(c)' in attribute description")
                }
                name.append(c)
                index += 1
            }
            let attribute = String(name)
            if attribute.isEmpty { throw fail("missing attribute description") }
            if let bad = AttributeDescription.firstInvalidOffset(Array(attribute.utf8)) {
                throw fail("invalid attribute description '\(attribute)'", at: start + bad)
            }
            guard let op = peek else { throw fail("unexpected end of filter after attribute '\(attribute)'") }
            let kind: Character
            switch op {
            case "=":
                kind = "="
                index += 1
            case "~", ">", "<":
                guard index + 1 < scalars.count, scalars[index + 1] == "=" else {
                    throw fail("expected '=' after '\(op)'", at: index + 1)
                }
                kind = Character(op)
                index += 2
            case ":":
                throw fail("extensible match filters (':=', ':dn:') are not supported")
            default:
                throw fail("expected '=', '~=', '>=' or '<=' after attribute '\(attribute)'")
            }

            // The value: pieces separated by unescaped '*' (only for '=').
            var pieces: [[UInt8]] = [[]]
            var starOffsets: [Int] = []
            while let c = peek, c != ")" {
                switch c {
                case "*":
                    guard kind == "=" else { throw fail("'*' must be escaped as \\2a in this value") }
                    starOffsets.append(index)
                    pieces.append([])
                    index += 1
                case "(":
                    throw fail("'(' must be escaped as \\28 in a value")
                case "\0":
                    throw fail("NUL must be escaped as \\00 in a value")
                case "\\":
                    guard index + 2 < scalars.count,
                          let high = DNParser.hexValue(scalars[index + 1]),
                          let low = DNParser.hexValue(scalars[index + 2]) else {
                        throw fail("invalid escape: '\\' must be followed by two hexadecimal digits")
                    }
                    pieces[pieces.count - 1].append(high << 4 | low)
                    index += 3
                default:
                    pieces[pieces.count - 1].append(contentsOf: String(c).utf8)
                    index += 1
                }
            }
            let last = pieces.count - 1
            switch kind {
            case "~": return .approx(attribute, AttributeValue(bytes: pieces[0]))
            case ">": return .greaterOrEqual(attribute, AttributeValue(bytes: pieces[0]))
            case "<": return .lessOrEqual(attribute, AttributeValue(bytes: pieces[0]))
            default: break
            }
            if starOffsets.isEmpty { return .equality(attribute, AttributeValue(bytes: pieces[0])) }
            if starOffsets.count == 1 && pieces[0].isEmpty && pieces[1].isEmpty { return .present(attribute) }
            for i in 1..<last where pieces[i].isEmpty {
                throw fail("empty substring between '*' at offsets \(starOffsets[i - 1]) and \(starOffsets[i])",
                           at: starOffsets[i])
            }
            return .substrings(attribute,
                               initial: pieces[0].isEmpty ? nil : AttributeValue(bytes: pieces[0]),
                               any: pieces[1..<last].map { AttributeValue(bytes: $0) },
                               final: pieces[last].isEmpty ? nil : AttributeValue(bytes: pieces[last]))
        }
    }
}
