import RelevoBasics
import RelevoPlan

extension CheckPass {
    /// Pass 1: names are unique. YAML already refuses a key twice in one
    /// mapping; here: phases (a list) and elements against redirect points,
    /// which share the namespace of flow paths.
    mutating func declarations() {
        var seen: [String: SourceRange] = [:]
        for p in plan.phases {
            if let first = seen[p.name.name] {
                report(Codes.duplicateName, "a second phase named '\(p.name.name)'", at: p.name.range,
                       notes: [DiagnosticNote(range: first, message: "first phase with that name")])
            } else {
                seen[p.name.name] = p.name.range
            }
        }
        for r in plan.redirects {
            if let e = plan.element(r.name.name) {
                report(Codes.duplicateName, "redirect point '\(r.name.name)' has the name of an element",
                       at: r.name.range, help: "flows name both elements and redirect points; rename one",
                       notes: [DiagnosticNote(range: e.name.range, message: "the element")])
            }
        }
    }
}
