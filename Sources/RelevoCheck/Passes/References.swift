import RelevoBasics
import RelevoPlan

extension CheckPass {
    /// Pass 2: every name outside step parameters resolves, to something of
    /// the right kind.
    mutating func references() {
        for e in plan.elements {
            if let h = e.host, plan.host(h.name) == nil { unknown("host", h, among: hostNames) }
        }
        for r in plan.redirects { redirectPoint(r) }
        for f in plan.flows { flowPath(f) }
        for s in plan.sets { setSource(s) }
        for n in plan.notify {
            if let e = element(n.via), e.kind != .smtp {
                report(Codes.wrongKind, "notify target '\(n.name.name)' sends through '\(n.via.name)', an \(e.kind.rawValue) element",
                       at: n.via.range, help: "name an smtp element")
            }
        }
        for p in plan.phases { phaseReferences(p) }
        if let fx = plan.fixtures {
            for (h, _) in fx.hosts where plan.host(h.name) == nil { unknown("host", h, among: hostNames) }
            for (e, _) in fx.directories {
                if let element = element(e), element.kind != .ldap {
                    report(Codes.wrongKind, "fixture directory for '\(e.name)', an \(element.kind.rawValue) element",
                           at: e.range, help: "directory fixtures are LDIF files for ldap elements")
                }
            }
        }
    }

    private mutating func redirectPoint(_ r: RedirectPoint) {
        let at = element(r.at)
        if let per = r.per, plan.set(per.name) == nil { unknown("set", per, among: setNames) }
        if let at {
            if r.isPerSet {
                if !at.kind.capabilities.contains(.redirectAttribute) {
                    report(Codes.wrongKind, "a per-set redirect point needs a directory, and '\(at.name.name)' is \(at.kind.rawValue)",
                           at: r.at.range, help: "name an ldap element: each member's switch is an attribute of its entry")
                } else if r.attribute == nil {
                    report(Codes.missingKey, "redirect '\(r.name.name)' is missing 'attribute' (the switch in each entry)",
                           at: r.name.range)
                }
            } else if !at.kind.capabilities.contains(.redirectRecord) && !at.kind.capabilities.contains(.redirectAttribute) {
                report(Codes.wrongKind, "'\(at.name.name)' (\(at.kind.rawValue)) holds no switchable record",
                       at: r.at.range, help: "a global redirect point is a dns-mx element or a directory attribute")
            }
        }
        if r.values.count < 2 {
            report(Codes.invalidValue, "redirect '\(r.name.name)' needs at least two values (old and new)", at: r.name.range)
        }
        let valueNames = r.values.map(\.name.name)
        for route in r.routes {
            if !valueNames.contains(route.value.name) {
                unknown("value of redirect '\(r.name.name)'", route.value, among: valueNames)
            }
            guard let target = element(route.element) else { continue }
            if r.isPerSet && !target.kind.isStore {
                report(Codes.wrongKind, "a per-set redirect routes to stores; '\(target.name.name)' is \(target.kind.rawValue)",
                       at: route.element.range)
            }
        }
        if r.isPerSet {
            for v in r.values where r.route(v.name.name) == nil {
                report(Codes.flowUnresolved, "value '\(v.name.name)' of redirect '\(r.name.name)' routes to no store",
                       at: v.name.range, help: "add it under 'routes', e.g. \(v.name.name): store-\(v.name.name)")
            }
        }
        for h in r.honouredBy { element(h) }
    }

    /// The elements a flow hop names: one element, a redirect point, or a glob.
    func resolveHop(_ hop: Ref) -> [String] {
        if hop.name.contains("*") {
            return elementNames.filter { Plan.glob(hop.name, matches: $0) }
        }
        if plan.element(hop.name) != nil || plan.redirect(hop.name) != nil { return [hop.name] }
        return []
    }

    private mutating func flowPath(_ f: Flow) {
        if f.path.isEmpty { report(Codes.invalidValue, "flow '\(f.name.name)' has an empty path", at: f.name.range) }
        for hop in f.path where resolveHop(hop).isEmpty {
            if hop.name.contains("*") {
                report(Codes.unknownReference, "'\(hop.name)' in flow '\(f.name.name)' matches no element", at: hop.range)
            } else {
                unknown("element or redirect point", hop, among: elementNames + redirectNames)
            }
        }
    }

    private mutating func setSource(_ s: SetSource) {
        if let from = element(s.from), !from.kind.capabilities.contains(.enumerate) {
            report(Codes.wrongKind, "set '\(s.name.name)' cannot be listed from '\(from.name.name)', an \(from.kind.rawValue) element",
                   at: s.from.range, help: "sets are read from an ldap element (entries) or a store (top-level folders)")
        }
        for field in s.fields {
            switch field.type {
            case .path(let under): _ = store(under)
            case .redirectValue(let point):
                if plan.redirect(point.name) == nil { unknown("redirect point", point, among: redirectNames) }
            default: break
            }
        }
        if let order = s.order, order.by.name != "activity" {
            let names = s.allFields(fromDirectory: true).map(\.name.name)
            if !names.contains(order.by.name) {
                unknown("order", order.by, among: ["activity"] + names)
            }
        }
    }

    private mutating func phaseReferences(_ p: Phase) {
        for a in p.after ?? [] where plan.phase(a.name) == nil { unknown("phase", a, among: phaseNames) }
        var set: SetSource?
        if let each = p.forEach {
            set = plan.set(each.name)
            if set == nil { unknown("set", each, among: setNames) }
        }
        if let c = p.condition {
            if p.forEach == nil {
                report(Codes.fieldOutsideSet, "phase '\(p.name.name)' has 'where' but iterates no set",
                       at: c.range, help: "add 'for-each:' or remove 'where:'")
            } else if let set {
                let fields = fields(of: set)
                for clause in c.clauses {
                    guard let field = fields.first(where: { $0.name.name == clause.field.name }) else {
                        report(Codes.unknownField, "set '\(set.name.name)' has no field '\(clause.field.name)'",
                               at: clause.field.range, help: Suggest.didYouMean(clause.field.name, in: fields.map(\.name.name)))
                        continue
                    }
                    if case .redirectValue(let point) = field.type, let r = plan.redirect(point.name),
                       r.raw(clause.value.name) == nil {
                        unknown("value of redirect '\(r.name.name)'", clause.value, among: r.values.map(\.name.name))
                    }
                }
            }
        }
        if let c = p.onFailure {
            for n in c.notify where plan.notifyTarget(n.name) == nil { unknown("notify target", n, among: notifyNames) }
        }
    }

    /// The fields `${...}` may name in a phase iterating `set`.
    func fields(of set: SetSource) -> [SetField] {
        set.allFields(fromDirectory: plan.element(set.from.name)?.kind == .ldap)
    }
}
