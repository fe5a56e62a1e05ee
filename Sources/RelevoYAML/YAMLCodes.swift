import RelevoBasics

/// The diagnostics the YAML layer can produce. IDs are stable.
public enum YAMLCodes {
    public static let syntax = DiagnosticCode(
        id: "E001", name: "yaml-syntax", severity: .error,
        title: "the file is not well-formed YAML",
        explanation: """
        libyaml could not parse the document. The position is where the parser \
        noticed the problem, which may be just after the real mistake (an \
        unclosed quote or bracket, a tab used for indentation, a key at the \
        wrong indentation).
        """,
        example: "hosts:\n  neon: { address: neon.example\n",
        correction: "hosts:\n  neon: { address: neon.example }\n")

    public static let duplicateKey = DiagnosticCode(
        id: "E002", name: "yaml-duplicate-key", severity: .error,
        title: "a mapping has the same key twice",
        explanation: """
        YAML parsers disagree on duplicate keys (most keep the last one \
        silently). A plan must say one thing, so Relevo refuses them. The note \
        points at the first occurrence.
        """,
        example: "hosts:\n  neon: { address: a }\n  neon: { address: b }\n",
        correction: "hosts:\n  neon: { address: a }\n")

    public static let mergeKey = DiagnosticCode(
        id: "E003", name: "yaml-merge-key", severity: .error,
        title: "merge keys (`<<`) are not accepted",
        explanation: """
        The `<<` merge key is a YAML 1.1 extension whose precedence rules \
        differ between parsers, and it hides where a value came from. Write \
        the keys out, or use an alias for a whole value.
        """,
        example: "defaults: &ssh { user: migrator }\nhosts:\n  neon: { <<: *ssh, address: a }\n",
        correction: "hosts:\n  neon: { user: migrator, address: a }\n")

    public static let unknownTag = DiagnosticCode(
        id: "E004", name: "yaml-unknown-tag", severity: .error,
        title: "a tag other than the core schema's",
        explanation: """
        Only the core schema tags are accepted (`!!str`, `!!int`, `!!float`, \
        `!!bool`, `!!null`, `!!seq`, `!!map`). Local tags (`!foo`) and \
        language tags (`!!python/object`) would ask a loader to build objects; \
        a plan is data only.
        """,
        example: "summary: !!python/object:os.system rm\n",
        correction: "summary: move the mail service\n")

    public static let aliasLimit = DiagnosticCode(
        id: "E005", name: "yaml-alias-limit", severity: .error,
        title: "too many aliases or too large an expansion",
        explanation: """
        Aliases (`*name`) may be used a bounded number of times, and the tree \
        they expand to is bounded in nodes (see the limits in \
        docs/plan-language.md). A document that nests aliases of aliases (the \
        "billion laughs") is refused at the alias that crosses the bound, \
        before any memory is spent on it.
        """,
        example: "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n")

    public static let depthLimit = DiagnosticCode(
        id: "E006", name: "yaml-depth-limit", severity: .error,
        title: "mappings and lists nested too deep",
        explanation: "Nesting deeper than the bound (64 levels) is refused; no plan needs it.",
        example: "a: [[[[[[[[ ... ]]]]]]]]\n")

    public static let sizeLimit = DiagnosticCode(
        id: "E007", name: "yaml-size-limit", severity: .error,
        title: "the document or one of its scalars is too large",
        explanation: """
        A plan file may be at most 1 MiB, and one scalar at most 64 KiB. \
        Data (user lists, mailboxes) belongs in the directory or in fixture \
        files, not in the plan.
        """)

    public static let structure = DiagnosticCode(
        id: "E008", name: "yaml-structure", severity: .error,
        title: "a YAML feature a plan does not use",
        explanation: """
        A plan file holds exactly one YAML document whose mapping keys are \
        plain strings. Several documents in one file, complex keys (`? [a, b]`) \
        and aliases to undefined anchors are refused.
        """,
        example: "relevo: 1\n---\nrelevo: 1\n")

    public static let all: [DiagnosticCode] = [
        syntax, duplicateKey, mergeKey, unknownTag, aliasLimit, depthLimit, sizeLimit, structure,
    ]
}
