/// How bad a finding is. Errors stop a plan; warnings do not, unless `--strict`.
public enum Severity: String, Sendable, Codable, Comparable {
    case note, warning, error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A suggested edit: replace the text in `range` with `replacement`.
public struct FixIt: Hashable, Sendable, Codable {
    public var range: SourceRange
    public var replacement: String
    public init(range: SourceRange, replacement: String) {
        self.range = range
        self.replacement = replacement
    }
}

/// A secondary location that helps to understand a diagnostic
/// (the first definition of a duplicate, the step a hazard starts at, ...).
public struct DiagnosticNote: Hashable, Sendable, Codable {
    public var range: SourceRange?
    public var message: String
    public init(range: SourceRange?, message: String) {
        self.range = range
        self.message = message
    }
}

/// One finding about a plan, as a value: what, where, how bad, and how to fix.
///
/// Diagnostics are collected and sorted, never thrown; a thrown error means the
/// tool itself could not work (an unreadable file), not that the plan is wrong.
public struct Diagnostic: Hashable, Sendable, Codable {
    /// Stable identifier, such as `E020` or `L001`.
    public var id: String
    /// Stable short name of the rule, such as `unknown-reference`.
    public var name: String
    public var severity: Severity
    /// One line: what is wrong.
    public var summary: String
    /// Further explanation, possibly several sentences.
    public var detail: String?
    /// Where it is. Nil only for findings about the file as a whole.
    public var range: SourceRange?
    /// A short suggestion shown as `help:`.
    public var help: String?
    public var fixIt: FixIt?
    public var notes: [DiagnosticNote]

    public init(id: String, name: String, severity: Severity, summary: String,
                detail: String? = nil, range: SourceRange?, help: String? = nil,
                fixIt: FixIt? = nil, notes: [DiagnosticNote] = []) {
        self.id = id
        self.name = name
        self.severity = severity
        self.summary = summary
        self.detail = detail
        self.range = range
        self.help = help
        self.fixIt = fixIt
        self.notes = notes
    }

    public init(_ code: DiagnosticCode, _ summary: String, at range: SourceRange?,
                detail: String? = nil, help: String? = nil, fixIt: FixIt? = nil,
                notes: [DiagnosticNote] = []) {
        self.init(id: code.id, name: code.name, severity: code.severity, summary: summary,
                  detail: detail, range: range, help: help, fixIt: fixIt, notes: notes)
    }
}

extension Diagnostic {
    /// Sort order for output: by file, then position, then ID.
    public static func sortKey(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
        let fa = a.range?.file ?? "", fb = b.range?.file ?? ""
        if fa != fb { return fa < fb }
        let la = a.range?.start ?? SourceLocation(line: 0, column: 0)
        let lb = b.range?.start ?? SourceLocation(line: 0, column: 0)
        if la != lb { return la < lb }
        return a.id < b.id
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public func sortedForOutput() -> [Diagnostic] { sorted(by: Diagnostic.sortKey) }
}

/// The catalogue entry for a kind of diagnostic: its stable ID and name, its
/// default severity, and the explanation `relevo explain` prints.
public struct DiagnosticCode: Hashable, Sendable {
    public let id: String
    public let name: String
    public let severity: Severity
    /// One line for listings.
    public let title: String
    /// Why it matters and what to do, in a paragraph or two.
    public let explanation: String
    /// A plan fragment that triggers the diagnostic (may be empty).
    public let example: String
    /// The same fragment corrected (may be empty).
    public let correction: String

    public init(id: String, name: String, severity: Severity, title: String,
                explanation: String, example: String = "", correction: String = "") {
        self.id = id
        self.name = name
        self.severity = severity
        self.title = title
        self.explanation = explanation
        self.example = example
        self.correction = correction
    }
}
