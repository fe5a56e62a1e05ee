import RelevoBasics
import RelevoPlan

/// L003: a global redirect point switched before any rehearsal ran.
public struct GlobalSwitchBeforeRehearsal: LintRule {
    static let mxElements = ExamplePlan.elements + """

      smtp-old: { kind: smtp, on: old, port: 25 }
      mx-record: { kind: dns-mx, domain: example.org }
    """
    static let mxRedirects = ExamplePlan.redirects + """

      mx:
        at: mx-record
        values: { old: old.example, new: new.example }
        routes: { old: smtp-old, new: smtp-new }
    """
    static let rehearsal = """
      - name: rehearsal
        rehearsal: true
        steps:
          - smtp-send: { via: smtp-new, to: probe@example.org }
    """
    static let switchMX = """
      - name: switch-mx
        steps:
          - redirect: { point: mx, to: new }
        gates:
          - dns-mx: { at: mx-record, expect: new.example }
    """

    public static let description = RuleDescription(
        id: "L003", name: "global-switch-before-rehearsal",
        title: "a global redirect point is switched before any rehearsal",
        rationale: """
        A global redirect point (the MX record, say) moves every user at once. The \
        methodology runs a rehearsal with data that does not interfere with \
        production before the cutover; switching a global point in a phase that does \
        not run after some `rehearsal: true` phase skips that safety net.
        """,
        triggering: [
            ExamplePlan.make("no-rehearsal", elements: mxElements, redirects: mxRedirects,
                             phases: switchMX + "\n" + ExamplePlan.usersPhase),
            ExamplePlan.make("rehearsal-too-late", elements: mxElements, redirects: mxRedirects,
                             phases: switchMX + "\n" + rehearsal),
        ],
        nonTriggering: [
            ExamplePlan.make("rehearsal-first", elements: mxElements, redirects: mxRedirects,
                             phases: rehearsal + "\n" + switchMX),
            ExamplePlan.make("rehearsal-by-after", elements: mxElements, redirects: mxRedirects, phases: """
              - name: switch-mx
                after: rehearsal
                steps:
                  - redirect: { point: mx, to: new }
              - name: rehearsal
                after: []
                rehearsal: true
                steps:
                  - smtp-send: { via: smtp-new, to: probe@example.org }
            """),
        ])

    public init() {}

    public func check(_ context: LintContext) -> [Diagnostic] {
        let plan = context.plan
        let before = Self.predecessors(plan.phases)
        var out: [Diagnostic] = []
        for phase in plan.phases {
            let rehearsed = Self.ancestors(of: phase.name.name, before).contains { plan.phase($0)?.rehearsal == true }
            if rehearsed { continue }
            for step in phase.steps where step.operation.name == "redirect" {
                guard let pointName = step.parameters["point"]?.string,
                      let point = plan.redirect(pointName), point.per == nil else { continue }
                out.append(finding(
                    "phase '\(phase.name)' switches the global redirect point '\(pointName)' before any rehearsal",
                    at: step.operation.range,
                    help: "add a phase with `rehearsal: true` and make '\(phase.name)' run after it (`after: NAME`)"))
            }
        }
        return out
    }

    /// The phases each phase waits for: its `after`, or else the phase written before it.
    static func predecessors(_ phases: [Phase]) -> [String: [String]] {
        var map: [String: [String]] = [:]
        for (i, phase) in phases.enumerated() {
            let implicit = i > 0 ? [phases[i - 1].name.name] : []
            map[phase.name.name, default: []] += phase.after.map { $0.map(\.name) } ?? implicit
        }
        return map
    }

    /// Every phase `name` transitively runs after (cycles are tolerated).
    static func ancestors(of name: String, _ before: [String: [String]]) -> Set<String> {
        var seen: Set<String> = []
        var stack = before[name] ?? []
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack += before[next] ?? [] }
        }
        return seen
    }
}
