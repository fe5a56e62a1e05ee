import Foundation
import RelevoBasics
import RelevoPlan

/// Checks a loaded plan in named passes, each adding diagnostics:
///
/// 1. `declarations`: names are unique where they share a namespace;
/// 2. `references`: every name resolves, to something of the right kind;
/// 3. `parameters`: step and gate parameters, `${field}` types, store paths;
/// 4. `graph`: the dependency graph, its cycles, the phase order;
/// 5. `flows`: where each flow writes in every state of a set's pipeline;
/// 6. `safety`: every live change can be undone or is covered by a contingency;
/// 7. `fixtures`: the files a dry run needs exist.
public enum Checker {
    public static func check(_ loaded: LoadedPlan, baseDirectory: String?) -> CheckResult {
        var result = CheckResult(source: loaded.source, plan: loaded.plan, graph: nil, diagnostics: loaded.diagnostics)
        guard let plan = loaded.plan else {
            result.diagnostics = Self.withoutFollowUpsOfUnsetVariables(result.diagnostics).sortedForOutput()
            return result
        }
        var pass = CheckPass(plan: plan)
        pass.declarations()
        pass.references()
        pass.parameters()
        let graph = pass.graph()
        pass.flows()
        pass.safety()
        if let base = baseDirectory { pass.fixtures(base: base) }
        result.graph = graph
        result.diagnostics = Self.withoutFollowUpsOfUnsetVariables(result.diagnostics + pass.diagnostics).sortedForOutput()
        return result
    }

    /// An unset `${env:NAME}` stays in the text (E062 names it); a template
    /// check meeting it there must not report the same place again (E034).
    static func withoutFollowUpsOfUnsetVariables(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        let unset = Set(diagnostics.filter { $0.id == Codes.unsetVariable.id }.compactMap(\.range))
        return diagnostics.filter { d in
            guard d.id == Codes.badTemplate.id, let range = d.range else { return true }
            return !unset.contains { $0.file == range.file && $0.start == range.start }
        }
    }

    /// Loads and checks the plan at `path`; throws only if it cannot be read.
    public static func check(path: String) throws -> CheckResult {
        let loaded = try PlanLoader.load(path: path)
        let base = (path as NSString).deletingLastPathComponent
        return check(loaded, baseDirectory: base.isEmpty ? "." : base)
    }
}

/// The state shared by the passes.
struct CheckPass {
    let plan: Plan
    var diagnostics: [Diagnostic] = []

    init(plan: Plan) { self.plan = plan }

    mutating func report(_ code: DiagnosticCode, _ summary: String, at range: SourceRange?,
                         help: String? = nil, notes: [DiagnosticNote] = [], fixIt: FixIt? = nil) {
        diagnostics.append(Diagnostic(code, summary, at: range, help: help, fixIt: fixIt, notes: notes))
    }

    /// Reports an unresolved name with a did-you-mean among `candidates`.
    mutating func unknown(_ what: String, _ ref: Ref, among candidates: [String], help extra: String? = nil) {
        if plan.invalidNames.contains(ref.name) { return }
        let suggestion = Suggest.closest(to: ref.name, in: candidates)
        let help = suggestion.map { "did you mean '\($0)'?" }
            ?? extra
            ?? (candidates.isEmpty ? "no \(what) is declared" : "declared: " + candidates.sorted().joined(separator: ", "))
        report(Codes.unknownReference, "unknown \(what) '\(ref.name)'", at: ref.range, help: help,
               fixIt: suggestion.map { FixIt(range: ref.range, replacement: $0) })
    }

    var hostNames: [String] { plan.hosts.map(\.name.name) }
    var elementNames: [String] { plan.elements.map(\.name.name) }
    var redirectNames: [String] { plan.redirects.map(\.name.name) }
    var setNames: [String] { plan.sets.map(\.name.name) }
    var phaseNames: [String] { plan.phases.map(\.name.name) }
    var notifyNames: [String] { plan.notify.map(\.name.name) }

    /// Resolves an element reference, reporting it when unknown.
    @discardableResult
    mutating func element(_ ref: Ref, _ what: String = "element") -> Element? {
        if let e = plan.element(ref.name) { return e }
        unknown(what, ref, among: elementNames)
        return nil
    }

    /// The element a store reference names, if it is a store; reports otherwise.
    mutating func store(_ ref: Ref) -> Element? {
        guard let e = element(ref, "store") else { return nil }
        guard e.kind.isStore else {
            report(Codes.wrongKind, "'\(ref.name)' is an \(e.kind.rawValue) element, not a store",
                   at: ref.range, help: "name a maildir-store or tree-store element")
            return nil
        }
        return e
    }
}
