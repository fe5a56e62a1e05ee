import RelevoBasics

/// A `# relevo:allow RULE[, RULE...] reason...` comment as written.
struct AllowComment: Equatable {
    /// Where the `#` is (1-based line and column) and how long the comment is.
    var line: Int
    var column: Int
    var length: Int
    /// The line whose findings it silences: its own line for a trailing
    /// comment, the next line with content for a comment alone on its line
    /// (nil when none follows).
    var targetLine: Int?
    /// The rules as written (IDs or names).
    var rules: [String]
    /// Everything after the rules, trimmed; empty when missing.
    var reason: String
}

/// Finds suppression comments in YAML text. A `#` starts a comment at the
/// start of a line or after a blank, outside quoted scalars ('...' and "...",
/// which may span lines) and outside block scalars (`|`, `>`). This is a
/// scanner, not a parser: it is right on every plan the loader accepts that
/// does not play tricks with quotes inside plain scalars.
enum SuppressionScanner {
    static let marker = Array("relevo:allow".unicodeScalars)

    private enum LineKind { case blank, comment, content }

    static func scan(_ text: String) -> [AllowComment] {
        let lines = SourceFile(path: "", text: text).lines.map { line in
            Array((line.hasSuffix("\r") ? line.dropLast() : line).unicodeScalars)
        }
        var kinds: [LineKind] = []
        var found: [(index: Int, comment: AllowComment, standalone: Bool)] = []
        var quote: Unicode.Scalar?       // open quote carried over from a previous line
        var blockParentIndent: Int?      // inside a block scalar started at this indent

        for (index, line) in lines.enumerated() {
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if let parent = blockParentIndent {
                if indent == line.count { kinds.append(.blank); continue }
                if indent > parent { kinds.append(.content); continue }
                blockParentIndent = nil
            }
            var i = 0, hash: Int?
            while i < line.count {
                let c = line[i]
                if let q = quote {
                    if q == "'" && c == "'" {
                        if i + 1 < line.count && line[i + 1] == "'" { i += 1 } else { quote = nil }
                    } else if q == "\"" && c == "\\" {
                        i += 1
                    } else if q == "\"" && c == "\"" {
                        quote = nil
                    }
                } else {
                    let afterBreak = i == 0 || [" ", "\t"].contains(line[i - 1])
                    if c == "#" && afterBreak { hash = i; break }
                    if (c == "'" || c == "\"") && (afterBreak || ["[", "{", ","].contains(line[i - 1])) { quote = c }
                }
                i += 1
            }
            let content = line[..<(hash ?? line.count)]
            let hasContent = content.contains { $0 != " " && $0 != "\t" }
            kinds.append(hasContent ? .content : hash == nil ? .blank : .comment)
            if quote == nil, hasContent, startsBlockScalar(content) { blockParentIndent = indent }
            if let hash, let comment = parse(Array(line[hash...]), line: index + 1, column: hash + 1) {
                found.append((index, comment, !hasContent))
            }
        }
        return found.map { item in
            var comment = item.comment
            if item.standalone {
                let next = kinds.indices.dropFirst(item.index + 1).first { kinds[$0] == .content }
                comment.targetLine = next.map { $0 + 1 }
            } else {
                comment.targetLine = item.index + 1
            }
            return comment
        }
    }

    /// Whether a line's content ends with a block scalar indicator (`|`, `>-`, `|2`...).
    static func startsBlockScalar(_ content: ArraySlice<Unicode.Scalar>) -> Bool {
        let words = String(String.UnicodeScalarView(content)).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let last = words.last, let first = last.first, first == "|" || first == ">" else { return false }
        guard last.dropFirst().allSatisfy({ "+-123456789".contains($0) }) else { return false }
        guard let before = words.dropLast().last else { return true }
        return before.hasSuffix(":") || before == "-"
    }

    /// Parses a comment (starting at its `#`); nil when it is not a suppression.
    static func parse(_ comment: [Unicode.Scalar], line: Int, column: Int) -> AllowComment? {
        var i = 1
        func skipBlanks() { while i < comment.count && (comment[i] == " " || comment[i] == "\t") { i += 1 } }
        skipBlanks()
        guard comment.count - i >= marker.count, Array(comment[i..<(i + marker.count)]) == marker else { return nil }
        i += marker.count
        guard i == comment.count || comment[i] == " " || comment[i] == "\t" else { return nil }
        var rules: [String] = []
        while true {
            skipBlanks()
            var word = String.UnicodeScalarView()
            while i < comment.count, ![" ", "\t", ","].contains(comment[i]) { word.append(comment[i]); i += 1 }
            if !word.isEmpty { rules.append(String(word)) }
            skipBlanks()
            guard i < comment.count, comment[i] == "," else { break }
            i += 1
        }
        let reason = String(String.UnicodeScalarView(comment[i...])).trimmingBlanks()
        return AllowComment(line: line, column: column, length: comment.count, targetLine: nil,
                            rules: rules, reason: reason)
    }
}

extension String {
    fileprivate func trimmingBlanks() -> String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
        return String(String.UnicodeScalarView(scalars.reversed()))
    }
}
