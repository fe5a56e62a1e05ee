import RelevoBasics
import RelevoPlan

extension CheckPass {
    /// The phases each phase waits for: its `after:`, or the phase written
    /// before it when `after:` is absent.
    func dependencies(of index: Int) -> [Ref] {
        let p = plan.phases[index]
        if let after = p.after { return after.filter { plan.phase($0.name) != nil } }
        return index > 0 ? [Ref(plan.phases[index - 1].name.name, at: p.name.range)] : []
    }

    /// Pass 4: the dependency graph, built in order: hosts, elements,
    /// redirect points, flows, sets, notify targets, then phases with their
    /// steps; then the phase order, reporting a cycle with its whole path.
    mutating func graph() -> PlanGraph {
        var g = PlanGraph()
        func add(_ id: String, _ kind: PlanGraph.NodeKind, _ label: String, host: String? = nil,
                 detail: String? = nil, line: Int? = nil) {
            g.nodes.append(PlanGraph.Node(id: id, kind: kind, label: label, host: host, detail: detail, line: line))
        }
        func edge(_ from: String, _ to: String, _ kind: PlanGraph.EdgeKind, _ label: String? = nil) {
            guard g.node(to) != nil, g.node(from) != nil else { return }
            g.edges.append(PlanGraph.Edge(from: from, to: to, kind: kind, label: label))
        }
        for h in plan.hosts { add("host:\(h.name.name)", .host, h.name.name, host: h.name.name, detail: h.role, line: h.name.range.start.line) }
        for e in plan.elements {
            add("element:\(e.name.name)", .element, e.name.name, host: e.host?.name, detail: e.kind.rawValue, line: e.name.range.start.line)
            if let h = e.host { edge("element:\(e.name.name)", "host:\(h.name)", .on) }
        }
        for r in plan.redirects {
            add("redirect:\(r.name.name)", .redirect, r.name.name, detail: r.isPerSet ? "per-set" : "global", line: r.name.range.start.line)
            edge("redirect:\(r.name.name)", "element:\(r.at.name)", .at, r.attribute)
            for route in r.routes { edge("redirect:\(r.name.name)", "element:\(route.element.name)", .routes, route.value.name) }
        }
        for f in plan.flows {
            add("flow:\(f.name.name)", .flow, f.name.name, detail: f.access.rawValue, line: f.name.range.start.line)
            for (i, hop) in f.path.enumerated() {
                for name in resolveHop(hop) {
                    let target = plan.redirect(name) != nil ? "redirect:\(name)" : "element:\(name)"
                    edge("flow:\(f.name.name)", target, .through, String(i + 1))
                }
            }
        }
        for s in plan.sets {
            add("set:\(s.name.name)", .set, s.name.name, line: s.name.range.start.line)
            edge("set:\(s.name.name)", "element:\(s.from.name)", .uses)
        }
        for n in plan.notify {
            add("notify:\(n.name.name)", .notify, n.name.name, line: n.name.range.start.line)
            edge("notify:\(n.name.name)", "element:\(n.via.name)", .uses)
        }
        for p in plan.phases where g.node("phase:\(p.name.name)") == nil {
            add("phase:\(p.name.name)", .phase, p.name.name, detail: p.isPerSet ? "per-set" : "global", line: p.name.range.start.line)
        }
        for (index, p) in plan.phases.enumerated() {
            let pid = "phase:\(p.name.name)"
            for d in dependencies(of: index) { edge(pid, "phase:\(d.name)", .after) }
            if let each = p.forEach { edge(pid, "set:\(each.name)", .iterates) }
            for (i, step) in (p.steps + p.gates).enumerated() {
                let isGate = i >= p.steps.count
                let sid = "\(isGate ? "gate" : "step"):\(p.name.name).\(i + 1)"
                add(sid, isGate ? .gate : .step, step.operation.name, detail: step.operation.name, line: step.range.start.line)
                edge(pid, sid, .runs, String(i + 1))
                for (target, name) in uses(step) { edge(sid, target, .uses, name) }
            }
            for n in p.onFailure?.notify ?? [] { edge(pid, "notify:\(n.name)", .uses, "on failure") }
        }
        g.phaseOrder = phaseOrder()
        return g
    }

    /// The nodes a step acts on, by parameter type: elements (and the store
    /// of a STORE:PATH), redirect points, notify targets, sets and hosts.
    /// Redirect values and plain strings are not nodes.
    private func uses(_ step: Step) -> [(String, String)] {
        guard let op = step.spec else { return [] }
        func targets(_ value: Value, _ type: ParamType) -> [String] {
            switch (type, value.content) {
            case (.element, .ref(let r)): ["element:\(r.name)"]
            case (.storePath, .storePath(let store, _)): ["element:\(store.name)"]
            case (.redirect, .ref(let r)): ["redirect:\(r.name)"]
            case (.notify, .ref(let r)): ["notify:\(r.name)"]
            case (.set, .ref(let r)): ["set:\(r.name)"]
            case (.host, .ref(let r)): ["host:\(r.name)"]
            case (.list(let inner), .list(let items)): items.flatMap { targets($0, inner) }
            default: []
            }
        }
        return step.parameters.entries.flatMap { entry in
            op.parameters.first { $0.name == entry.name.name }.map { spec in
                targets(entry.value, spec.type).map { ($0, entry.name.name) }
            } ?? []
        }
    }

    /// A topological order of the phases (stable: declaration order among
    /// ready phases), or [] after reporting the first cycle found.
    private mutating func phaseOrder() -> [String] {
        let names = plan.phases.map(\.name.name)
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
        let deps: [[Int]] = plan.phases.indices.map { i in dependencies(of: i).compactMap { index[$0.name] } }
        // Cycle search: depth first in declaration order, so the report is deterministic.
        var state = [Int](repeating: 0, count: names.count)   // 0 new, 1 on stack, 2 done
        var stack: [Int] = []
        func visit(_ i: Int) -> [Int]? {
            state[i] = 1
            stack.append(i)
            for d in deps[i] {
                if state[d] == 1, let start = stack.firstIndex(of: d) { return Array(stack[start...]) + [d] }
                if state[d] == 0, let cycle = visit(d) { return cycle }
            }
            stack.removeLast()
            state[i] = 2
            return nil
        }
        for i in names.indices where state[i] == 0 {
            if let cycle = visit(i) {
                // cycle: [a, b, ..., a], each waiting for the next. Report it
                // at an explicit `after:` link of the cycle when there is one,
                // as that is what the author wrote and can change.
                let links = (0..<(cycle.count - 1)).map { (cycle[$0], cycle[$0 + 1]) }
                let explicit = links.first { plan.phases[$0.0].after != nil } ?? links[links.count - 1]
                let start = links.firstIndex { $0 == explicit } ?? 0
                let rotated = Array(cycle[start..<(cycle.count - 1)]) + Array(cycle[0..<start]) + [cycle[start]]
                let ref = dependencies(of: explicit.0).first { index[$0.name] == explicit.1 }
                let path = "'\(names[rotated[0]])' " + rotated.dropFirst().map { "waits for '\(names[$0])'" }.joined(separator: ", which ")
                let implicit = plan.phases[explicit.0].after == nil
                report(Codes.phaseCycle, "phases wait for each other in a cycle: \(path)",
                       at: ref?.range ?? plan.phases[explicit.0].name.range,
                       help: implicit ? "a phase without 'after:' waits for the phase written before it; give '\(names[explicit.0])' an explicit 'after:'"
                           : "remove one of the 'after:' links of the cycle")
                return []
            }
        }
        var order: [String] = []
        var done = Set<Int>()
        while done.count < names.count {
            guard let next = names.indices.first(where: { !done.contains($0) && deps[$0].allSatisfy(done.contains) }) else { break }
            done.insert(next)
            order.append(names[next])
        }
        return order
    }
}
