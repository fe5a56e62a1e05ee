/// docs/rules.md, generated from the registry so it cannot drift from the
/// rules (a test compares the file with `markdown()`).
public enum RulesDocument {
    public static let regenerate = "RELEVO_UPDATE_DOCS=1 swift test --filter RulesDocumentTests"

    public static func markdown() -> String {
        var out = """
        # Lint rules

        <!-- Generated from Sources/RelevoLint (RulesDocument.markdown()); do not edit.
             Regenerate with: \(regenerate) -->

        Lint rules report risks and departures from the methodology in a plan that
        checks without errors. Their findings are warnings: they never stop a plan,
        unless `--strict` is given. IDs and names are stable.

        | ID | Name | Finds |
        |----|------|-------|

        """
        for rule in LintRegistry.rules {
            let d = rule.description
            out += "| [\(d.id)](#\(d.id.lowercased())-\(d.name)) | `\(d.name)` | \(d.title) |\n"
        }
        out += """

        ## Suppressing a finding

        A comment `# relevo:allow RULE reason...` silences the findings of `RULE`
        (an ID such as `L001` or a name such as `no-canary`; several may be given,
        separated by commas) that start on the comment's line, when the comment
        trails a line, or on the next line that is neither blank nor a comment,
        when the comment stands alone on its line:

        ```yaml
          - name: users   # relevo:allow L001 twelve users, a canary would be the whole run
            for-each: users
        ```

        The reason is required: reports list every suppression with its reason. A
        suppression without a reason silences nothing, and one that names no rule
        or an unknown rule is itself a warning, `W002 bad-suppression`.

        """
        for rule in LintRegistry.rules {
            let d = rule.description
            out += """

            ## \(d.id) \(d.name)

            **\(d.title.prefix(1).uppercased() + d.title.dropFirst()).** Severity: \(d.severity.rawValue).

            \(d.rationale)

            """
            if let bad = d.triggering.first { out += "\nTriggers:\n\n" + yaml(bad) }
            if let good = d.nonTriggering.first { out += "\nDoes not trigger:\n\n" + yaml(good) }
        }
        return out
    }

    private static func yaml(_ plan: String) -> String {
        "```yaml\n" + plan + (plan.hasSuffix("\n") ? "" : "\n") + "```\n"
    }
}
