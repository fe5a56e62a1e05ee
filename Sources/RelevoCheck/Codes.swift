import RelevoBasics
import RelevoYAML

/// Every diagnostic the loader and the checker produce. IDs are stable:
/// a test fails if one is renumbered (see CodesTests).
public enum Codes {
    public static let planVersion = DiagnosticCode(
        id: "E010", name: "plan-version", severity: .error,
        title: "missing or unsupported `relevo:` version header",
        explanation: """
        Every plan starts with `relevo: 1`, the version of the plan language it \
        is written in. A plan written for a newer Relevo is refused rather than \
        half understood.
        """,
        example: "plan: exalumno\n", correction: "relevo: 1\nplan: exalumno\n")
    public static let unknownKey = DiagnosticCode(
        id: "E011", name: "unknown-key", severity: .error,
        title: "a key the language does not define here",
        explanation: """
        Misspelt keys are the commonest plan mistake, and a silently ignored \
        key (`concurency: 1`) changes what a migration does. Every key is \
        checked against the ones defined for its place; the help names the \
        closest one.
        """,
        example: "phases:\n  - name: users\n    concurency: 4\n",
        correction: "phases:\n  - name: users\n    concurrency: 4\n")
    public static let missingKey = DiagnosticCode(
        id: "E012", name: "missing-key", severity: .error,
        title: "a required key is missing",
        explanation: "The mapping lacks a key its kind requires (an element's `kind`, a copy's `to`...).",
        example: "elements:\n  store-new: { kind: maildir-store, on: xalumno }\n",
        correction: "elements:\n  store-new: { kind: maildir-store, on: xalumno, root: /var/mail }\n")
    public static let wrongType = DiagnosticCode(
        id: "E013", name: "wrong-type", severity: .error,
        title: "a value of the wrong type",
        explanation: "The value is not of the type the key takes (a list where a mapping is expected, text where a number is).",
        example: "    canary: five\n", correction: "    canary: 5\n")
    public static let invalidValue = DiagnosticCode(
        id: "E014", name: "invalid-value", severity: .error,
        title: "a value outside what the key accepts",
        explanation: "The value has the right type but is not acceptable: a choice not in the list, a number below the minimum, a malformed URL, duration or condition.",
        example: "      - copy: { from: \"old:${store}\", to: \"new:${store}\", until: forever }\n",
        correction: "      - copy: { from: \"old:${store}\", to: \"new:${store}\", until: stable }\n")
    public static let unknownKind = DiagnosticCode(
        id: "E015", name: "unknown-kind", severity: .error,
        title: "an element kind the language does not know",
        explanation: "Element kinds are: ldap, smtp, imap, pop3, http, dns-mx, maildir-store, tree-store, external.",
        example: "  directory: { kind: ldpa, url: ldap://x, base: dc=x }\n",
        correction: "  directory: { kind: ldap, url: ldap://x, base: dc=x }\n")
    public static let unknownOperation = DiagnosticCode(
        id: "E016", name: "unknown-operation", severity: .error,
        title: "a step or gate the language does not know",
        explanation: "Steps and gates are a fixed vocabulary (see docs/plan-language.md); arbitrary commands are not part of it, by design.",
        example: "    steps:\n      - cpoy: { from: \"a:x\", to: \"b:x\" }\n",
        correction: "    steps:\n      - copy: { from: \"a:x\", to: \"b:x\" }\n")
    public static let misplaced = DiagnosticCode(
        id: "E017", name: "misplaced-operation", severity: .error,
        title: "an operation where it cannot run",
        explanation: """
        A gate is listed under `steps` (or a step under `gates`), a per-set \
        redirect is switched in a global phase, or a global redirect inside a \
        per-set phase. Per-set switches happen once per member, global ones \
        once.
        """)
    public static let unknownReference = DiagnosticCode(
        id: "E020", name: "unknown-reference", severity: .error,
        title: "a name that refers to nothing declared",
        explanation: """
        Hosts, elements, redirect points, sets, phases, notify targets and \
        redirect values are referred to by name. A name that resolves to \
        nothing is an error; the help names the closest declared one.
        """,
        example: "  mailhost: { at: directroy, attribute: mailHost }\n",
        correction: "  mailhost: { at: directory, attribute: mailHost }\n")
    public static let wrongKind = DiagnosticCode(
        id: "E021", name: "wrong-kind", severity: .error,
        title: "an element of a kind that cannot do what is asked",
        explanation: """
        Operations are checked against element kinds: you cannot copy from an \
        smtp element, resolve an MX at an ldap element, or route a per-set \
        redirect to something that is not a store.
        """,
        example: "      - copy: { from: \"smtp-neon:x\", to: \"store-new:x\" }\n",
        correction: "      - copy: { from: \"store-old:x\", to: \"store-new:x\" }\n")
    public static let duplicateName = DiagnosticCode(
        id: "E022", name: "duplicate-name", severity: .error,
        title: "two things share one name",
        explanation: """
        Names are unique within their section (YAML refuses a key written \
        twice in one mapping), phase names are unique in the phase list, and \
        elements and redirect points share one namespace because flow paths \
        name both. So every reference means one thing.
        """)
    public static let unknownField = DiagnosticCode(
        id: "E030", name: "unknown-field", severity: .error,
        title: "`${field}` names no field of the set",
        explanation: "A `${field}` placeholder must name the set's key, `dn` (for sets read from a directory) or one of its declared `fields`.",
        example: "      - chown: { path: \"store-new:${stroe}\" }\n",
        correction: "      - chown: { path: \"store-new:${store}\" }\n")
    public static let fieldType = DiagnosticCode(
        id: "E031", name: "field-type", severity: .error,
        title: "`${field}` of a type the parameter cannot take",
        explanation: """
        A field has a type (string, int, dn, email, path under a store, value \
        of a redirect point) and a parameter accepts some of them: a path \
        parameter takes paths and plain strings (one path segment), not a DN; \
        a DN takes a dn or a string field; an e-mail address takes an email \
        or a string field.
        """)
    public static let fieldOutsideSet = DiagnosticCode(
        id: "E032", name: "field-outside-set", severity: .error,
        title: "`${field}` in a phase that iterates no set",
        explanation: "Only a phase with `for-each:` has a current set member whose fields can be used.")
    public static let pathEscape = DiagnosticCode(
        id: "E033", name: "path-escape", severity: .error,
        title: "a path that can leave its store",
        explanation: """
        A STORE:PATH names a path under the store's root. A `..` segment, or \
        an absolute path outside the root, would let a step read, write, \
        chown or remove files elsewhere on the host. Values from the directory \
        are checked again at run time.
        """,
        example: "      - chown: { path: \"store-new:${store}/..\" }\n",
        correction: "      - chown: { path: \"store-new:${store}\" }\n")
    public static let badTemplate = DiagnosticCode(
        id: "E034", name: "bad-template", severity: .error,
        title: "a malformed `${...}` placeholder",
        explanation: "Placeholders are `${name}` with a name of letters, digits, `_` and `-`.",
        example: "      user: \"${uid\"\n", correction: "      user: \"${uid}\"\n")
    public static let phaseCycle = DiagnosticCode(
        id: "E040", name: "phase-cycle", severity: .error,
        title: "phases depend on each other in a circle",
        explanation: """
        `after:` makes a phase wait for others; a phase with no `after:` waits \
        for the one written before it. A cycle means no phase of it could ever \
        start. The message lists the whole cycle.
        """)
    public static let flowLoss = DiagnosticCode(
        id: "E050", name: "flow-loss", severity: .error,
        title: "a flow can write into a store after it was copied",
        explanation: """
        For every flow that writes (inbound mail) and every state a set passes \
        through in its pipeline, Relevo works out which store the flow ends in. \
        If data can land in a store after the last copy out of it (a copy \
        before the redirect; or mail still in flight to the old side when a \
        single-pass copy runs) that data would be lost. Switch the redirect \
        first, and make the last copy a delta pass with `until: stable`.
        """,
        example: "      - copy: { from: \"store-old:${store}\", to: \"store-new:${store}\" }\n      - redirect: { point: mailhost, to: new }\n",
        correction: "      - redirect: { point: mailhost, to: new }\n      - copy: { from: \"store-old:${store}\", to: \"store-new:${store}\", until: stable }\n")
    public static let flowUnresolved = DiagnosticCode(
        id: "E051", name: "flow-unresolved", severity: .error,
        title: "a flow that ends nowhere, or a redirect without routes",
        explanation: """
        A flow that passes through a per-set redirect point must end in a \
        store for every value of that point: each value needs a route to a \
        store. Otherwise Relevo cannot tell where data goes while a set is \
        migrated. (A writing flow that leaves the system, such as outbound \
        mail to the Internet, ends in no store and is not analysed.)
        """)
    public static let undoStrands = DiagnosticCode(
        id: "E052", name: "undo-strands-data", severity: .error,
        title: "undoing a set would leave data behind",
        explanation: """
        When a set's steps are undone, a flow switches back to the old store. \
        Data written on the new side meanwhile must be carried back; a \
        redirect with `carry-back: false` (or with no inverse) would strand it.
        """)
    public static let literalSecret = DiagnosticCode(
        id: "E060", name: "literal-secret", severity: .error,
        title: "a secret written in the plan",
        explanation: """
        Passwords and keys never appear in a plan, in argv, logs, journals or \
        reports. Write a reference: `env:NAME` (an environment variable) or \
        `file:PATH` (a file with mode 0600).
        """,
        example: "    bind: { dn: \"cn=admin,dc=x\", password: secret123 }\n",
        correction: "    bind: { dn: \"cn=admin,dc=x\", password: env:LDAP_PASSWORD }\n")
    public static let noInverse = DiagnosticCode(
        id: "E061", name: "no-inverse", severity: .error,
        title: "a live change with no way back",
        explanation: """
        A step that changes live state must have an inverse (so a failed set \
        can be undone) or its phase must say what happens on failure with \
        `on-failure:`. `remove` has no inverse.
        """)
    public static let unsetVariable = DiagnosticCode(
        id: "E062", name: "unset-variable", severity: .error,
        title: "an environment variable the plan reads is not set",
        explanation: """
        `${env:NAME}` in a value is replaced, when the plan is loaded, by the \
        environment variable NAME: configuration that differs per machine \
        (addresses, ports, store roots). The variable must be set. Secrets \
        are not written this way but as references (`env:NAME`, `file:PATH`), \
        read only when a driver needs them.
        """,
        example: "    url: ldap://${env:LDAP_HOST}:389   # LDAP_HOST not exported\n",
        correction: "    # export LDAP_HOST=ldap.example.org, then run relevo\n")
    public static let fixtureMissing = DiagnosticCode(
        id: "W001", name: "fixture-missing", severity: .warning,
        title: "a fixture file or folder does not exist",
        explanation: "`relevo simulate` reads the fixtures named in the plan, relative to the plan's folder.")
    public static let badSuppression = DiagnosticCode(
        id: "W002", name: "bad-suppression", severity: .warning,
        title: "a suppression comment without a known rule or a reason",
        explanation: """
        `# relevo:allow RULE reason...` silences a lint finding on the same \
        line, or on the next line when the comment stands alone. It must name \
        a lint rule (by ID or name) and give a reason, which reports show.
        """,
        example: "    # relevo:allow L001\n", correction: "    # relevo:allow L001 one user only, a canary would be the whole run\n")

    public static let all: [DiagnosticCode] = YAMLCodes.all + [
        planVersion, unknownKey, missingKey, wrongType, invalidValue, unknownKind, unknownOperation,
        misplaced, unknownReference, wrongKind, duplicateName, unknownField, fieldType,
        fieldOutsideSet, pathEscape, badTemplate, phaseCycle, flowLoss, flowUnresolved, undoStrands,
        literalSecret, noInverse, unsetVariable, fixtureMissing, badSuppression,
    ]
}
