import RelevoBasics
import RelevoPlan

/// L009: a per-user redirect on an LDAP-routed mail flow without the final
/// copy pass after it, or without the reload, cache flush and kick between
/// the redirect and that pass.
public struct MailCutoverOrder: LintRule {
    public static let description = RuleDescription(
        id: "L009", name: "mail-cutover-order",
        title: "a mail redirect lacks the final copy pass, or the reload, cache flush and kick before it",
        rationale: """
        Mail servers that route each user by a directory attribute (mailHost) do not \
        all read it again at once. On the testbed's Postfix and Dovecot: Postfix keeps \
        routing by the former value for about 30 s unless reloaded; Dovecot's auth \
        cache keeps the old route until flushed, and a session opened before the \
        redirect stays on the old host, writing there, until it is kicked. So, after \
        `redirect`, a phase must `reload` every SMTP element that honours the point, \
        `flush-cache` and `kick` the user on the IMAP or POP3 server of the old host, \
        and only then make the last copy pass out of the old store (a delta pass, \
        `until: stable`): mail that lands on the old host after that pass is lost. \
        The rule applies to per-set redirect points held in an `ldap` element whose \
        `honoured-by` names mail elements.
        """,
        triggering: [
            ExamplePlan.make("no-final-copy", elements: elements, redirects: redirects, phases: phase(steps: """
                      - copy: { from: "store-old:${store}", to: "store-new:${store}" }
                      - redirect: { point: mailhost, to: new }
                      - reload: { element: smtp-new }
                      - reload: { element: smtp-old }
                      - flush-cache: { element: imap-old, user: "${uid}" }
                      - kick: { element: imap-old, user: "${uid}" }
                      - copy: { from: "store-new:${store}", to: "store-new:${store}", until: stable }
                """)),
            ExamplePlan.make("no-kick", elements: elements, redirects: redirects, phases: phase(steps: """
                      - redirect: { point: mailhost, to: new }
                      - reload: { element: smtp-new }
                      - reload: { element: smtp-old }
                      - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
                """)),
            ExamplePlan.make("kick-too-late", elements: elements, redirects: redirects, phases: phase(steps: """
                      - redirect: { point: mailhost, to: new }
                      - reload: { element: smtp-new }
                      - reload: { element: smtp-old }
                      - flush-cache: { element: imap-old, user: "${uid}" }
                      - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
                      - kick: { element: imap-old, user: "${uid}" }
                """)),
        ],
        nonTriggering: [
            ExamplePlan.make("mail-cutover", elements: elements, redirects: redirects, phases: phase(steps: """
                      - copy: { from: "store-old:${store}", to: "store-new:${store}" }
                      - redirect: { point: mailhost, to: new }
                      - reload: { element: smtp-new }
                      - reload: { element: smtp-old }
                      - flush-cache: { element: imap-old, user: "${uid}" }
                      - kick: { element: imap-old, user: "${uid}" }
                      - flush-queue: { element: smtp-old, recipient: "${uid}@example.org" }
                      - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
                """)),
            // Without `honoured-by`, nothing says a mail server reads the point.
            ExamplePlan.make("not-mail-routed"),
        ])

    static let elements = ExamplePlan.elements + """

      smtp-old: { kind: smtp, on: old, config: /etc/postfix }
      imap-old: { kind: imap, on: old, config: /etc/dovecot/dovecot.conf }
    """

    static let redirects = ExamplePlan.redirects + """

        honoured-by: [smtp-old, smtp-new, imap-old]
    """

    static func phase(steps: String) -> String {
        """
          - name: users
            for-each: users
            where: host == old
            canary: 2
            steps:
        \(steps)
            gates:
              - maildir-superset: { new: "store-new:${store}", old: "store-old:${store}" }
            on-failure: { undo: true, then: halt }
        """
    }

    public init() {}

    /// What must run between the redirect and the final copy pass.
    struct Requirement {
        var operation: String
        /// The elements a step may name to meet it.
        var elements: Set<String>
        var shown: String
    }

    public func check(_ context: LintContext) -> [Diagnostic] {
        let plan = context.plan
        var findings: [Diagnostic] = []
        for phase in plan.phases where phase.isPerSet {
            let steps = phase.steps
            for (r, redirect) in steps.enumerated() where redirect.operation.name == "redirect" {
                guard let pointName = redirect.parameters["point"]?.ref?.name, let point = plan.redirect(pointName),
                      point.isPerSet, plan.element(point.at.name)?.kind == .ldap,
                      let to = redirect.parameters["to"]?.ref?.name else { continue }
                let honouring = point.honouredBy.compactMap { plan.element($0.name) }
                guard honouring.contains(where: { [.smtp, .imap, .pop3].contains($0.kind) }) else { continue }
                let oldStores = Set(point.values.map(\.name.name).filter { $0 != to }.compactMap { point.route($0)?.name })
                let oldHosts = Set(oldStores.compactMap { plan.element($0)?.host?.name })
                let finalCopy = steps.indices.last { i in
                    i > r && steps[i].operation.name == "copy"
                        && oldStores.contains(steps[i].parameters["from"]?.storePath?.store.name ?? "")
                }
                var requirements = honouring.filter { $0.kind == .smtp }.map {
                    Requirement(operation: "reload", elements: [$0.name.name], shown: "`reload: { element: \($0.name.name) }`")
                }
                for host in oldHosts.sorted() {
                    let readers = honouring.filter { [.imap, .pop3].contains($0.kind) && $0.host?.name == host }.map(\.name.name)
                    guard let first = readers.first else { continue }
                    for operation in ["flush-cache", "kick"] {
                        requirements.append(Requirement(operation: operation, elements: Set(readers),
                                                        shown: "`\(operation): { element: \(first), user: ... }`"))
                    }
                }
                var missing: [String] = []
                if finalCopy == nil {
                    missing.append("a copy pass out of \(oldStores.sorted().map { "'\($0)'" }.joined(separator: ", ")) after it")
                }
                for requirement in requirements {
                    let matching = steps.indices.filter { i in
                        steps[i].operation.name == requirement.operation
                            && requirement.elements.contains(steps[i].parameters["element"]?.ref?.name ?? "")
                    }
                    let end = finalCopy ?? steps.count
                    if matching.contains(where: { $0 > r && $0 < end }) { continue }
                    if let late = matching.first(where: { $0 > end }), let copy = finalCopy {
                        findings.append(finding(
                            "\(requirement.operation) of \(steps[late].parameters["element"]?.ref?.name ?? "?") comes after the final copy pass in phase '\(phase.name)'",
                            at: steps[late].operation.range,
                            help: "move it between the redirect and the copy at line \(steps[copy].operation.range.start.line): what the server still routes or writes by the old \(point.attribute ?? "value") after the last pass is lost"))
                        continue
                    }
                    missing.append(requirement.shown + (matching.isEmpty ? "" : " (it comes before the redirect)"))
                }
                guard !missing.isEmpty else { continue }
                findings.append(finding(
                    "the redirect of '\(pointName)' in phase '\(phase.name)' is honoured by mail servers, but lacks "
                        + missing.joined(separator: ", "),
                    at: redirect.operation.range,
                    help: "after the redirect: reload each SMTP element of `honoured-by`, flush-cache and kick the user on the old host's IMAP/POP3 server, then copy out of the old store `until: stable`"))
            }
        }
        return findings
    }
}
