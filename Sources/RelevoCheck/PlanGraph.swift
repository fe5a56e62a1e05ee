import RelevoBasics
import RelevoPlan

/// The plan's dependency graph: phases and their order, the steps and gates
/// they run, the elements those act on, and the flows through the elements.
public struct PlanGraph: Sendable {
    public enum NodeKind: String, Sendable, Codable, CaseIterable {
        case host, element, redirect, flow, set, phase, step, gate, notify
    }

    public struct Node: Sendable, Codable, Hashable {
        /// Unique and stable: `phase:users`, `step:users.1`, `element:store-neon`...
        public var id: String
        public var kind: NodeKind
        public var label: String
        /// The host an element runs on (for colouring), if any.
        public var host: String?
        /// Element kind, operation name, `per-set`/`global` for redirects and phases.
        public var detail: String?
        public var line: Int?
    }

    public enum EdgeKind: String, Sendable, Codable {
        /// phase → phase it must wait for.
        case after
        /// phase → its step or gate, in order.
        case runs
        /// step/gate → element, redirect, notify target or set it acts on.
        case uses
        /// flow → element or redirect it passes through, in order.
        case through
        /// redirect → element holding the switch.
        case at
        /// redirect → element a value routes to.
        case routes
        /// element → host it runs on.
        case on
        /// phase → set it iterates.
        case iterates
    }

    public struct Edge: Sendable, Codable, Hashable {
        public var from: String
        public var to: String
        public var kind: EdgeKind
        public var label: String?
    }

    public var nodes: [Node] = []
    public var edges: [Edge] = []
    /// Phases in an order that respects every `after` (empty if there is a cycle).
    public var phaseOrder: [String] = []

    public init() {}

    public func node(_ id: String) -> Node? { nodes.first { $0.id == id } }
}

/// The result of checking a plan.
public struct CheckResult: Sendable {
    public var source: SourceFile
    /// The plan, when its structure could be read (it may still have errors).
    public var plan: Plan?
    /// The dependency graph, when references resolve well enough to build it.
    public var graph: PlanGraph?
    /// Every diagnostic, sorted by position. Lint findings are added by RelevoLint.
    public var diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.hasErrors }

    public init(source: SourceFile, plan: Plan?, graph: PlanGraph?, diagnostics: [Diagnostic]) {
        self.source = source
        self.plan = plan
        self.graph = graph
        self.diagnostics = diagnostics
    }
}
