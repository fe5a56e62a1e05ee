import RelevoBasics
import RelevoPlan

extension CheckPass {
    /// Pass 5: flow analysis. For each per-set phase, walk its steps as a set
    /// would, tracking where each writing flow ends (through the per-set
    /// redirect points of that set) and which stores have been copied out of.
    /// Data that can land in a store after the last copy out of it is lost:
    /// a flow still writing there, or deliveries in flight when the set was
    /// redirected away from it and the last copy made a single pass.
    mutating func flows() {
        for phase in plan.phases where phase.isPerSet && !phase.incomplete {
            guard let setName = phase.forEach?.name, plan.set(setName) != nil else { continue }
            for initial in initialStates(phase, set: setName) {
                analyse(phase, set: setName, initial: initial)
            }
            undoAnalysis(phase, set: setName)
        }
    }

    /// The per-set redirect points of `set` that flows pass through.
    private func points(of set: String) -> [RedirectPoint] {
        plan.redirects.filter { $0.per?.name == set }
    }

    /// The possible starting values of each point: the value the phase's
    /// `where:` pins it to, else every value the phase does not redirect to.
    private func initialStates(_ phase: Phase, set: String) -> [[String: String]] {
        var states: [[String: String]] = [[:]]
        let fields = plan.set(set).map { self.fields(of: $0) } ?? []
        for point in points(of: set) {
            var pinned: String?
            for clause in phase.condition?.clauses ?? [] where clause.equals {
                if let f = fields.first(where: { $0.name.name == clause.field.name }),
                   case .redirectValue(let p) = f.type, p.name == point.name.name, point.raw(clause.value.name) != nil {
                    pinned = clause.value.name
                }
            }
            let targets = Set(phase.steps.filter { $0.operation.name == "redirect" && $0.parameters["point"]?.ref?.name == point.name.name }
                .compactMap { $0.parameters["to"]?.ref?.name })
            let candidates = pinned.map { [$0] } ?? point.values.map(\.name.name).filter { !targets.contains($0) }
            states = states.flatMap { s in candidates.map { v in s.merging([point.name.name: v]) { $1 } } }
        }
        return states
    }

    /// The store a writing flow ends in, given the points' current values.
    private func destination(of flow: Flow, _ route: [String: String]) -> String? {
        plan.store(reachedBy: flow, values: route)
    }

    private struct Hazard {
        var flow: String
        var state: String
        var store: String
        var copy: Step
        var inFlight: Bool
    }

    private mutating func analyse(_ phase: Phase, set: String, initial: [String: String]) {
        let writers = plan.flows.filter { $0.access == .write }
        var route = initial
        var inFlight: [String: String] = [:]        // store → flow that was redirected away from it
        var lastCopy: [String: Step] = [:]          // store → last copy out of it
        var hazards: [Hazard] = []
        var state = "not started"

        for step in phase.steps {
            switch step.operation.name {
            case "redirect":
                guard let pointName = step.parameters["point"]?.ref?.name, let point = plan.redirect(pointName),
                      point.per?.name == set, let to = step.parameters["to"]?.ref?.name else { break }
                let before = route
                route[pointName] = to
                for f in writers {
                    if let old = destination(of: f, before), destination(of: f, route) != old { inFlight[old] = f.name.name }
                }
                state = "redirected"
            case "copy":
                guard let from = step.parameters["from"]?.storePath?.store.name else { break }
                let stable = step.parameters["until"]?.string == "stable"
                hazards.removeAll { $0.store == from }
                lastCopy[from] = step
                if let flow = inFlight[from] {
                    if stable {
                        inFlight[from] = nil
                    } else {
                        hazards.append(Hazard(flow: flow, state: "redirected", store: from, copy: step, inFlight: true))
                    }
                }
                state = "copied"
            default:
                break
            }
            for f in writers {
                guard let store = destination(of: f, route), let copy = lastCopy[store] else { continue }
                if !hazards.contains(where: { $0.flow == f.name.name && $0.store == store }) {
                    hazards.append(Hazard(flow: f.name.name, state: state, store: store, copy: copy, inFlight: false))
                }
            }
        }
        for h in hazards where !diagnostics.contains(where: { $0.id == Codes.flowLoss.id && $0.range == h.copy.operation.range }) {
            if h.inFlight {
                report(Codes.flowLoss,
                       "flow '\(h.flow)' can still deliver into '\(h.store)' after this single-pass copy (state: \(h.state), data in flight)",
                       at: h.copy.operation.range,
                       help: "make this copy a delta pass that runs until nothing new appears: add `until: stable`",
                       notes: [DiagnosticNote(range: nil, message: "mail queued or in flight before the redirect lands in the old store after it")])
            } else {
                report(Codes.flowLoss,
                       "flow '\(h.flow)' writes into '\(h.store)' in state '\(h.state)', after it was copied: that data would be lost",
                       at: h.copy.operation.range,
                       help: "redirect the set before the last copy out of '\(h.store)', and make that copy `until: stable`")
            }
        }
    }

    /// Undoing a set switches its flows back; data written on the new side
    /// meanwhile must be carried back by the redirect's inverse.
    private mutating func undoAnalysis(_ phase: Phase, set: String) {
        guard phase.onFailure?.undo ?? true else { return }
        for step in phase.steps where step.operation.name == "redirect" {
            guard step.parameters["carry-back"]?.bool == false,
                  let pointName = step.parameters["point"]?.ref?.name, let point = plan.redirect(pointName),
                  point.per?.name == set else { continue }
            let through = plan.flows.filter { f in f.access == .write && f.path.contains { $0.name == pointName } }
            guard let flow = through.first else { continue }
            let to = step.parameters["to"]?.ref?.name ?? "?"
            report(Codes.undoStrands,
                   "undoing this redirect would strand what flow '\(flow.name.name)' wrote into '\(point.route(to)?.name ?? to)' (state: undone)",
                   at: step.parameters["carry-back"]?.range ?? step.operation.range,
                   help: "remove `carry-back: false`, or set `undo: false` in the phase's on-failure")
        }
    }
}
