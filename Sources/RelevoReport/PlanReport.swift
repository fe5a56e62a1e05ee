import Foundation
import RelevoBasics
import RelevoCheck
import RelevoLint
import RelevoPlan

/// The plan report, for a change board before the cutover: what the plan
/// is for and how it goes about it, the hosts and elements, where each flow
/// routes in each state of a set's pipeline, the dependency graph, every
/// phase with its steps, inverses, gates and contingency, the lint findings
/// and, given a simulation's journal, its estimate of the live run.
struct PlanReport {
    typealias I = ReportDocument.Inline

    let input: ReportInput
    let plan: Plan
    let graph: PlanGraph
    let lint: (findings: [Diagnostic], suppressed: [Suppression])
    /// The first simulation journal given, for the estimate.
    let rehearsal: RunFacts?

    init(_ input: ReportInput, plan: Plan, graph: PlanGraph) {
        self.input = input
        self.plan = plan
        self.graph = graph
        lint = Linter.lintWithSuppressions(input.check)
        rehearsal = input.runs.first { $0.isSimulation }
    }

    // MARK: Facts shared by every format

    /// What an element listens on or lives at.
    func endpoint(_ e: Element) -> String? {
        let host = e.host.flatMap { plan.host($0.name) }
        if let url = e.parameters["url"]?.string { return url }
        if let root = e.parameters["root"]?.string { return "\(e.host?.name ?? "?"):\(root)" }
        if let domain = e.parameters["domain"]?.string { return "MX of \(domain)" }
        if let port = e.parameters["port"]?.int {
            return "\(host?.address ?? e.host?.name ?? "?"):\(port)" + (e.parameters["path"]?.string ?? "")
        }
        return nil
    }

    /// The element's side of the migration: its own `role`, else its host's.
    func role(_ e: Element) -> String? {
        e.parameters["role"]?.string ?? e.host.flatMap { plan.host($0.name)?.role }
    }

    static let shownApart: Set<String> = ["on", "role", "url", "root", "domain", "port", "path"]

    /// The element's other parameters, secrets as their references.
    func otherParameters(_ e: Element) -> String {
        ValueText.parameters(e.parameters, skipping: Self.shownApart)
    }

    /// Elements grouped by host in plan order; those on no host last.
    var elementsByHost: [(host: String?, elements: [Element])] {
        var groups: [(String?, [Element])] = plan.hosts.map { h in
            (h.name.name, plan.elements.filter { $0.host?.name == h.name.name })
        }
        groups.append((nil, plan.elements.filter { e in e.host.map { plan.host($0.name) == nil } ?? true }))
        return groups.filter { !$0.1.isEmpty }
    }

    /// A flow's path with globs expanded: `smtp-*` → `smtp-neon | smtp-xalumno`.
    func hops(_ f: Flow) -> [String] {
        f.path.map { hop in
            if plan.redirect(hop.name) != nil { return "⇄ " + hop.name }
            let matched = plan.elements(matching: hop.name).map(\.name.name)
            return matched.isEmpty ? hop.name : matched.joined(separator: " | ")
        }
    }

    struct Stage {
        var label: String
        var values: [String: String]
    }

    /// The per-set redirect points of a phase's set, and the states a set
    /// passes through: before the pipeline (the values its `where:` pins, or
    /// as found), after each step that switches a point, after the gates,
    /// and after an undo.
    func stages(_ phase: Phase) -> (points: [RedirectPoint], stages: [Stage])? {
        guard let setName = phase.forEach?.name, let set = plan.set(setName) else { return nil }
        let points = plan.redirects.filter { $0.per?.name == setName }
        guard !points.isEmpty else { return nil }
        var values: [String: String] = [:]
        for clause in phase.condition?.clauses ?? [] where clause.equals {
            if let field = set.fields.first(where: { $0.name.name == clause.field.name }),
               case .redirectValue(let p) = field.type { values[p.name] = clause.value.name }
        }
        let initial = values
        var out = [Stage(label: "before the pipeline" + (phase.condition == nil ? "" : " (where: "
                         + phase.condition!.clauses.map { "\($0.field.name) \($0.equals ? "==" : "!=") \($0.value.name)" }
                            .joined(separator: " and ") + ")"), values: values)]
        for (i, step) in phase.steps.enumerated() {
            let op = step.operation.name
            if op == "redirect", let p = step.parameters["point"]?.ref?.name, points.contains(where: { $0.name.name == p }),
               let to = step.parameters["to"]?.ref?.name {
                values[p] = to
                out.append(Stage(label: "after step \(i + 1), redirect \(p) → \(to)", values: values))
            } else {
                out.append(Stage(label: "during step \(i + 1), \(op)", values: values))
            }
        }
        out.append(Stage(label: "after the gates (migrated)", values: values))
        if phase.onFailure?.undo ?? true {
            out.append(Stage(label: "after an undo (the set failed)", values: initial))
        }
        return (points, out)
    }

    func contingencyText(_ phase: Phase) -> String {
        guard let c = phase.onFailure else {
            return "none written: the engine's default, undo the scope's steps and halt the run"
        }
        var parts: [String] = []
        parts.append(c.undo ? "undo the scope's completed steps (their inverses, last first)" : "no undo")
        if !c.notify.isEmpty { parts.append("notify " + c.notify.map(\.name).joined(separator: ", ")) }
        switch c.then {
        case .halt: parts.append("halt the run")
        case .continue(let budget):
            switch budget {
            case .count(let n): parts.append("go on while at most \(n) set\(n == 1 ? "" : "s") failed")
            case .percent(let p): parts.append("go on while at most \(ValueText.number(p))% of the sets failed")
            }
        }
        return parts.joined(separator: "; ")
    }

    func scopeText(_ p: Phase) -> String {
        var parts: [String] = []
        if let set = p.forEach?.name {
            var s = "once per member of set \(set)"
            if let c = p.condition {
                s += " where " + c.clauses.map { "\($0.field.name) \($0.equals ? "==" : "!=") \($0.value.name)" }.joined(separator: " and ")
            }
            parts.append(s)
        } else {
            parts.append("once (global)")
        }
        if let after = p.after { parts.append("after " + (after.isEmpty ? "nothing" : after.map(\.name).joined(separator: ", "))) }
        if let c = p.canary { parts.append("canary: the first \(c) one at a time") }
        if let c = p.concurrency { parts.append("up to \(c) at once") }
        if let b = p.batch, b > 1 { parts.append("in batches of \(b), step by step") }
        if p.rehearsal { parts.append("marked as a rehearsal") }
        return parts.joined(separator: "; ")
    }

    var orderedPhases: [Phase] {
        let order = graph.phaseOrder.compactMap { plan.phase($0) }
        return order.count == plan.phases.count ? order : plan.phases
    }

    func inverseText(_ step: Step) -> String {
        guard let op = step.spec else { return "—" }
        if op.isGate { return "— (a gate changes nothing)" }
        if let inverse = op.inverse { return inverse }
        return op.changesLiveState ? "none: the contingency must cover it" : "— (changes nothing live)"
    }

    // MARK: Document

    func document(svg: String?) -> ReportDocument {
        var d = ReportDocument(title: "Plan report: \(plan.name)")
        let errors = input.check.diagnostics.count { $0.severity == .error }
        let warnings = input.check.diagnostics.count { $0.severity == .warning }
        d.paragraph(.text("Plan file "), .code(input.planPath), .text(", language version \(plan.version). "),
                    .text(errors == 0 && warnings == 0 ? "It checks clean." : "The checker reports \(errors) errors and \(warnings) warnings."))

        d.heading(2, "Purpose and strategy")
        d.paragraph(.text(plan.summary?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "The plan has no summary."))
        d.paragraph(.text("The phases run in this order:"))
        d.blocks.append(.list(orderedPhases.map { p in
            [.strong(p.name.name), .text(": " + scopeText(p) + ". Steps: "
                + (p.steps.map(\.operation.name).joined(separator: ", ").nonEmpty ?? "none") + "; gates: "
                + (p.gates.map(\.operation.name).joined(separator: ", ").nonEmpty ?? "none") + ".")]
        }))

        d.heading(2, "Hosts and elements")
        d.table("Hosts", ["host", "address", "role", "SSH", "concurrency"], plan.hosts.map { h in
            [I.c(h.name.name), I.c(h.address), I.t(h.role ?? "—"),
             I.c(h.ssh.map { "\($0.user)@" + (h.address) + ($0.port.map { ":\($0)" } ?? "")
                 + ($0.identity.map { ", key \($0)" } ?? "") }),
             I.t(h.concurrency.map(String.init) ?? "—")]
        })
        for group in elementsByHost {
            let title = group.host.map { "Elements on \($0)" } ?? "Elements on no host"
            d.table(title, ["element", "kind", "endpoint", "role", "other parameters"], group.elements.map { e in
                [I.c(e.name.name), I.t(e.kind.rawValue), I.c(endpoint(e)), I.t(role(e) ?? "—"), I.c(otherParameters(e))]
            })
        }

        d.heading(2, "Data flows and redirect points")
        d.table("Redirect points", ["point", "at", "switched", "values and routes", "honoured by"], plan.redirects.map { r in
            [I.c(r.name.name), I.c(r.at.name),
             I.t(r.per.map { "per member of set \($0.name)" + (r.attribute.map { ", attribute \($0)" } ?? "") } ?? "globally"),
             I.t(r.values.map { v in "\(v.name.name) = \(v.raw) → \(r.route(v.name.name)?.name ?? "?")" }.joined(separator: "; ")),
             I.t(r.honouredBy.map(\.name).joined(separator: ", ").nonEmpty ?? "—")]
        })
        d.table("Flows", ["flow", "access", "path"], plan.flows.map { f in
            [I.c(f.name.name), I.t(f.access.rawValue), I.t(hops(f).joined(separator: " → "))]
        })
        for phase in orderedPhases {
            guard let (points, stages) = stages(phase) else { continue }
            let flows = plan.flows.filter { plan.store(reachedBy: $0, values: stages.last?.values ?? [:]) != nil }
            d.table("Where each flow ends, per state of a set in phase \(phase.name.name)",
                    ["state"] + points.map { "⇄ \($0.name.name)" } + flows.map { "\($0.name.name) (\($0.access.rawValue))" },
                    stages.map { stage in
                        [I.t(stage.label)] + points.map { I.t(stage.values[$0.name.name] ?? "as found") }
                            + flows.map { I.c(plan.store(reachedBy: $0, values: stage.values) ?? "as found") }
                    })
        }

        d.heading(2, "Dependency graph")
        let colours = ReportGraph.colours(plan)
        let legend = "Elements and hosts are filled with their host's colour ("
            + colours.map { "\($0.host) \($0.colour)" }.joined(separator: ", ")
            + "; grey: on no host); redirect points are double octagons with a heavy brown outline."
        d.blocks.append(.figure(.init(
            id: "graph", caption: "The dependency graph of \(plan.name): phases in order, their steps and gates, the elements they act on by host, redirect points, sets and flows. " + legend,
            svg: svg ?? "",
            fallback: [.paragraph([.text("Drawn in the HTML report ("), .code("relevo render --format html"), .text("); "),
                                   .code("relevo render --format dot"), .text(" gives its DOT. Phase order: "
                                         + graph.phaseOrder.joined(separator: " → ") + ".")])])))

        d.heading(2, "Phases")
        for (n, p) in orderedPhases.enumerated() {
            d.heading(3, "\(n + 1). \(p.name.name)")
            d.paragraph(.text(scopeText(p).prefix(1).uppercased() + scopeText(p).dropFirst() + "."))
            let rows = (p.steps.map { ("step", $0) } + p.gates.map { ("gate", $0) }).enumerated().map { i, entry in
                [I.t("\(i + 1)"), I.t(entry.0), I.c(entry.1.operation.name),
                 I.c(ValueText.parameters(entry.1.parameters)), I.t(inverseText(entry.1))]
            }
            d.table("Steps and gates of \(p.name.name)", ["#", "is", "operation", "parameters", "inverse"], rows)
            d.paragraph(.strong("On failure:"), .text(" " + contingencyText(p) + "."))
        }

        d.heading(2, "Lint findings")
        if lint.findings.isEmpty {
            d.paragraph(.text("No lint finding."))
        } else {
            d.table("Lint findings", ["rule", "severity", "line", "finding"], lint.findings.map { f in
                [I.c(f.id), I.t(f.severity.rawValue), I.t(f.range.map { "\($0.start.line)" } ?? "—"), I.t(f.summary)]
            })
        }
        if !lint.suppressed.isEmpty {
            d.table("Findings silenced by relevo:allow comments", ["rule", "line", "reason"], lint.suppressed.map { s in
                [I.c(s.rule + " " + s.name), I.t("\(s.targetLine)"), I.t(s.reason)]
            })
        }

        d.heading(2, "Time estimate")
        if let r = rehearsal {
            d.paragraph(.text("From the simulation journal "), .code(r.path), .text(": the dry run took "),
                        .strong(Units.duration(r.end)), .text(" of virtual time, charged from the plan's fixture timing"
                            + (r.finished ? "." : "; it did not finish (\(r.haltReason ?? "stopped early")), so this covers only what it ran.")))
            d.table("Estimated duration per phase", ["phase", "state", "estimate"], r.phases.map { p in
                [I.c(p.name), I.t(p.state), I.t(p.seconds.map(Units.duration) ?? "not recorded")]
            })
        } else {
            d.paragraph(.text(input.runs.isEmpty ? "No simulation journal was given: rehearse with "
                              : "None of the journals given is a simulation's: rehearse with "),
                        .code("relevo simulate \(input.planPath) --journal FILE"), .text(" and render with "),
                        .code("--journal FILE"), .text(" for an estimate."))
        }
        return d
    }

    // MARK: JSON

    func json() -> JSON {
        func s(_ x: String?) -> JSON { .optional(x) }
        let phases: [JSON] = orderedPhases.map { p in
            let entries = p.steps.map { (false, $0) } + p.gates.map { (true, $0) }
            return .object([
                ("name", .string(p.name.name)),
                ("for_each", s(p.forEach?.name)),
                ("scope", .string(scopeText(p))),
                ("steps", .array(entries.enumerated().map { i, e in
                    .object([("index", .int(i + 1)), ("gate", .bool(e.0)), ("operation", .string(e.1.operation.name)),
                             ("parameters", .string(ValueText.parameters(e.1.parameters))),
                             ("inverse", .string(inverseText(e.1)))])
                })),
                ("on_failure", .string(contingencyText(p))),
                ("routing", stages(p).map { points, stages in
                    .array(stages.map { st in
                        .object([("state", .string(st.label)),
                                 ("points", .object(points.map { ($0.name.name, s(st.values[$0.name.name])) })),
                                 ("flows", .object(plan.flows.map { ($0.name.name, s(plan.store(reachedBy: $0, values: st.values))) }))])
                    })
                } ?? .null),
            ])
        }
        return .object([
            ("report", .string("plan")),
            ("version", .int(1)),
            ("plan", .object([("name", .string(plan.name)), ("file", .string(input.planPath)),
                              ("summary", s(plan.summary?.trimmingCharacters(in: .whitespacesAndNewlines)))])),
            ("check", .object([("errors", .int(input.check.diagnostics.count { $0.severity == .error })),
                               ("warnings", .int(input.check.diagnostics.count { $0.severity == .warning }))])),
            ("hosts", .array(plan.hosts.map { h in
                .object([("name", .string(h.name.name)), ("address", .string(h.address)), ("role", s(h.role)),
                         ("colour", s(ReportGraph.colours(plan).first { $0.host == h.name.name }?.colour))])
            })),
            ("elements", .array(plan.elements.map { e in
                .object([("name", .string(e.name.name)), ("kind", .string(e.kind.rawValue)), ("host", s(e.host?.name)),
                         ("endpoint", s(endpoint(e))), ("role", s(role(e))), ("parameters", .string(otherParameters(e)))])
            })),
            ("redirects", .array(plan.redirects.map { r in
                .object([("name", .string(r.name.name)), ("at", .string(r.at.name)), ("per", s(r.per?.name)),
                         ("values", .object(r.values.map { ($0.name.name, .string($0.raw)) })),
                         ("routes", .object(r.routes.map { ($0.value.name, .string($0.element.name)) }))])
            })),
            ("flows", .array(plan.flows.map { f in
                .object([("name", .string(f.name.name)), ("access", .string(f.access.rawValue)),
                         ("path", .array(hops(f).map(JSON.string)))])
            })),
            ("phase_order", .array(graph.phaseOrder.map(JSON.string))),
            ("phases", .array(phases)),
            ("lint", .array(lint.findings.map { f in
                .object([("id", .string(f.id)), ("severity", .string(f.severity.rawValue)),
                         ("line", f.range.map { .int($0.start.line) } ?? .null), ("summary", .string(f.summary))])
            })),
            ("estimate", rehearsal.map { r in
                .object([("journal", .string(r.path)), ("seconds", .double(r.end)), ("finished", .bool(r.finished)),
                         ("phases", .array(r.phases.map { p in
                             .object([("name", .string(p.name)), ("seconds", p.seconds.map(JSON.double) ?? .null)])
                         }))])
            } ?? .null),
        ])
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
