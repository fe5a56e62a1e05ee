import Foundation
import RelevoBasics
import RelevoPlan
import RelevoYAML

/// The outcome of loading a plan file: the plan when its structure could be
/// read, the source text, and the diagnostics found on the way.
public struct LoadedPlan: Sendable {
    public var source: SourceFile
    public var plan: Plan?
    public var diagnostics: [Diagnostic]

    public init(source: SourceFile, plan: Plan?, diagnostics: [Diagnostic]) {
        self.source = source
        self.plan = plan
        self.diagnostics = diagnostics
    }
}

/// Reads a plan file: YAML → `Plan`, checking every key and the type of every
/// value. References are resolved later, by the checker.
public enum PlanLoader {
    public struct Unreadable: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }

    /// Loads the plan at `path`. Throws only when the file cannot be read.
    /// `environment` fills `${env:NAME}` placeholders (the process
    /// environment unless given).
    public static func load(path: String, limits: YAMLLimits = .default,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LoadedPlan {
        let url = URL(fileURLWithPath: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > limits.maxDocumentBytes {
            let source = SourceFile(path: path, text: "")
            return LoadedPlan(source: source, plan: nil, diagnostics: [Diagnostic(
                YAMLCodes.sizeLimit, "the document is larger than \(limits.maxDocumentBytes) bytes",
                at: SourceRange(file: path, line: 1, column: 1))])
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw Unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Unreadable(path: path, reason: "not UTF-8 text")
        }
        return load(text: text, file: path, limits: limits, environment: environment)
    }

    public static func load(text: String, file: String, limits: YAMLLimits = .default,
                            environment: [String: String] = ProcessInfo.processInfo.environment) -> LoadedPlan {
        let source = SourceFile(path: file, text: text)
        let document = YAMLParser.parse(text, file: file, limits: limits)
        guard let root = document.root else {
            var diagnostics = document.diagnostics
            if diagnostics.isEmpty {
                diagnostics.append(Diagnostic(Codes.planVersion, "the plan is empty", at: SourceRange(file: file, line: 1, column: 1),
                                              help: "a plan starts with `relevo: 1`"))
            }
            return LoadedPlan(source: source, plan: nil, diagnostics: diagnostics)
        }
        var substitution: [Diagnostic] = []
        let substituted = EnvironmentSubstitution.apply(root, environment: environment, diagnostics: &substitution)
        var builder = PlanBuilder(reader: Reader(source: source))
        let plan = builder.build(substituted, file: file)
        return LoadedPlan(source: source, plan: plan,
                          diagnostics: document.diagnostics + substitution + builder.reader.diagnostics)
    }
}

/// Builds the model section by section.
struct PlanBuilder {
    var reader: Reader
    var invalidNames: Set<String> = []

    static let topKeys = ["relevo", "plan", "summary", "hosts", "elements", "redirects", "flows",
                          "sets", "phases", "notify", "fixtures"]

    mutating func build(_ root: YAMLNode, file: String) -> Plan? {
        guard let top = reader.fields(root, in: "the plan", known: Self.topKeys) else { return nil }
        // The version header comes first: a newer plan is refused before its
        // unknown keys are reported one by one.
        guard let versionPair = top["relevo"] else {
            reader.report(Codes.planVersion, "missing the `relevo: 1` version header", at: reader.startRange(root),
                          help: "add `relevo: 1` as the first line")
            return nil
        }
        guard let version = reader.int(versionPair.value, "the plan version", min: 1) else { return nil }
        if version > supportedPlanVersion {
            reader.diagnostics = [Diagnostic(
                Codes.planVersion,
                "this Relevo reads plans up to version \(supportedPlanVersion); this plan is version \(version)",
                at: versionPair.value.range, help: "upgrade Relevo, or write the plan for version \(supportedPlanVersion)")]
            return nil
        }
        var name = "plan"
        if let p = top["plan"] { name = reader.string(p.value, "the plan's name") ?? name } else {
            reader.report(Codes.missingKey, "the plan is missing 'plan' (its name)", at: reader.startRange(root))
        }
        var plan = Plan(file: file, version: version, name: name)
        if let s = top["summary"] { plan.summary = reader.string(s.value, "summary") }
        if let n = top["hosts"] { plan.hosts = named(n.value, "hosts") { $0.host($1, $2) } }
        if let n = top["elements"] { plan.elements = named(n.value, "elements") { $0.element($1, $2) } }
        if let n = top["redirects"] { plan.redirects = named(n.value, "redirects") { $0.redirect($1, $2) } }
        if let n = top["flows"] { plan.flows = named(n.value, "flows") { $0.flow($1, $2) } }
        if let n = top["sets"] { plan.sets = named(n.value, "sets") { $0.set($1, $2) } }
        if let n = top["notify"] { plan.notify = named(n.value, "notify") { $0.notify($1, $2) } }
        if let n = top["phases"] {
            if let items = n.value.items {
                for item in items {
                    if let p = phase(item) { plan.phases.append(p) } else if let n = item["name"]?.scalar { invalidNames.insert(n) }
                }
            } else {
                reader.report(Codes.wrongType, "phases must be a list, not \(n.value.kindDescription)", at: n.value.range)
            }
        } else {
            reader.report(Codes.missingKey, "the plan is missing 'phases'", at: reader.startRange(root))
        }
        if let n = top["fixtures"] { plan.fixtures = fixtures(n.value) }
        plan.invalidNames = invalidNames
        return plan
    }

    /// A section that maps names to definitions.
    mutating func named<T>(_ node: YAMLNode, _ section: String, _ build: (inout PlanBuilder, Ref, YAMLNode) -> T?) -> [T] {
        guard let pairs = node.pairs else {
            if !node.isNull {
                reader.report(Codes.wrongType, "\(section) must be a mapping of names, not \(node.kindDescription)", at: node.range)
            }
            return []
        }
        var out: [T] = []
        for p in pairs {
            if let t = build(&self, Ref(p.name, at: p.key.range), p.value) { out.append(t) } else { invalidNames.insert(p.name) }
        }
        return out
    }

    // MARK: Sections

    mutating func host(_ name: Ref, _ node: YAMLNode) -> PlanHost? {
        let ctx = "host '\(name)'"
        guard let f = reader.fields(node, in: ctx, known: ["address", "role", "ssh", "concurrency"],
                                    required: ["address"]) else { return nil }
        var h = PlanHost(name: name, address: "", range: node.range)
        if let a = f["address"] { h.address = reader.string(a.value, "address of \(ctx)") ?? "" }
        if let r = f["role"] { h.role = reader.value(r.value, .oneOf(["old", "new", "both"]), "role of \(ctx)")?.string }
        if let c = f["concurrency"] { h.concurrency = reader.int(c.value, "concurrency of \(ctx)", min: 1) }
        if let s = f["ssh"], let params = reader.parameters(s.value, specs: [
            ParamSpec("user", .string, required: true, ""),
            ParamSpec("port", .int(min: 1), ""),
            ParamSpec("identity", .secret, ""),
            ParamSpec("known-hosts", .localFile, ""),
        ], context: "ssh of \(ctx)") {
            h.ssh = SSHAccess(user: params["user"]?.string ?? "", port: params["port"]?.int,
                              identity: params["identity"]?.secret, knownHosts: params["known-hosts"]?.string)
        }
        return h
    }

    mutating func element(_ name: Ref, _ node: YAMLNode) -> Element? {
        let ctx = "element '\(name)'"
        guard let pairs = node.pairs else {
            reader.report(Codes.wrongType, "\(ctx) must be a mapping, not \(node.kindDescription)", at: node.range)
            return nil
        }
        guard let kindPair = pairs.first(where: { $0.name == "kind" }) else {
            reader.report(Codes.missingKey, "\(ctx) is missing 'kind'", at: reader.startRange(node),
                          help: "kinds: " + ElementKind.allCases.map(\.rawValue).joined(separator: ", "))
            return nil
        }
        guard let kindName = reader.string(kindPair.value, "kind of \(ctx)") else { return nil }
        guard let kind = ElementKind(rawValue: kindName) else {
            reader.report(Codes.unknownKind, "unknown element kind '\(kindName)'", at: kindPair.value.range,
                          help: Suggest.didYouMean(kindName, in: ElementKind.allCases.map(\.rawValue))
                              ?? "kinds: " + ElementKind.allCases.map(\.rawValue).joined(separator: ", "))
            return nil
        }
        let rest = YAMLNode(content: .mapping(pairs.filter { $0.name != "kind" }), range: node.range)
        guard let params = reader.parameters(rest, specs: kind.parameters, context: "\(ctx) (\(kind.rawValue))") else { return nil }
        return Element(name: name, kind: kind, kindRange: kindPair.value.range, host: params["on"]?.ref,
                       parameters: params, range: node.range)
    }

    mutating func redirect(_ name: Ref, _ node: YAMLNode) -> RedirectPoint? {
        let ctx = "redirect '\(name)'"
        guard let f = reader.fields(node, in: ctx, known: ["at", "attribute", "per", "values", "routes", "honoured-by"],
                                    required: ["at", "values"]) else { return nil }
        guard let at = f["at"].flatMap({ reader.ref($0.value, "'at' of \(ctx)") }) else { return nil }
        var point = RedirectPoint(name: name, at: at, values: [], routes: [], honouredBy: [], range: node.range)
        point.attribute = f["attribute"].flatMap { reader.string($0.value, "'attribute' of \(ctx)") }
        point.per = f["per"].flatMap { reader.ref($0.value, "'per' of \(ctx)") }
        if let v = f["values"], let m = reader.value(v.value, .map(.string), "'values' of \(ctx)")?.map {
            point.values = m.map { (name: $0.key, raw: $0.value.string ?? "") }
        }
        if let v = f["routes"], let m = reader.value(v.value, .map(.element([])), "'routes' of \(ctx)")?.map {
            point.routes = m.compactMap { p in p.value.ref.map { (value: p.key, element: $0) } }
        }
        if let h = f["honoured-by"] { point.honouredBy = reader.refs(h.value, "'honoured-by' of \(ctx)") }
        return point
    }

    mutating func flow(_ name: Ref, _ node: YAMLNode) -> Flow? {
        let ctx = "flow '\(name)'"
        if node.items != nil {
            return Flow(name: name, path: reader.refs(node, "a step of \(ctx)"), access: .write, range: node.range)
        }
        guard let f = reader.fields(node, in: ctx, known: ["path", "access"], required: ["path"]),
              let path = f["path"] else { return nil }
        var access = Flow.Access.write
        if let a = f["access"], let s = reader.value(a.value, .oneOf(["write", "read"]), "'access' of \(ctx)")?.string {
            access = Flow.Access(rawValue: s) ?? .write
        }
        guard path.value.items != nil else {
            reader.report(Codes.wrongType, "'path' of \(ctx) must be a list of elements", at: path.value.range)
            return nil
        }
        return Flow(name: name, path: reader.refs(path.value, "a step of \(ctx)"), access: access, range: node.range)
    }

    mutating func set(_ name: Ref, _ node: YAMLNode) -> SetSource? {
        let ctx = "set '\(name)'"
        guard let f = reader.fields(node, in: ctx, known: ["from", "filter", "key", "fields", "order"],
                                    required: ["from", "key"]),
              let from = f["from"].flatMap({ reader.ref($0.value, "'from' of \(ctx)") }),
              let key = f["key"].flatMap({ reader.ref($0.value, "'key' of \(ctx)") }) else { return nil }
        var s = SetSource(name: name, from: from, key: key, fields: [], range: node.range)
        if let fl = f["filter"] { s.filter = reader.value(fl.value, .filter, "'filter' of \(ctx)")?.string }
        if let fs = f["fields"] {
            if let pairs = fs.value.pairs {
                s.fields = pairs.compactMap { field(Ref($0.name, at: $0.key.range), $0.value, ctx) }
            } else {
                reader.report(Codes.wrongType, "'fields' of \(ctx) must be a mapping", at: fs.value.range)
            }
        }
        if let o = f["order"], let of = reader.fields(o.value, in: "'order' of \(ctx)", known: ["by", "ascending"], required: ["by"]),
           let by = of["by"].flatMap({ reader.ref($0.value, "'by' of the order") }) {
            let ascending = of["ascending"].flatMap { reader.bool($0.value, "'ascending'") } ?? true
            s.order = SetOrder(by: by, ascending: ascending, range: o.value.range)
        }
        return s
    }

    mutating func field(_ name: Ref, _ node: YAMLNode, _ ctx: String) -> SetField? {
        if let attribute = node.scalar, !node.isNull {
            return SetField(name: name, attribute: attribute, type: .string)
        }
        let fctx = "field '\(name)' of \(ctx)"
        guard let f = reader.fields(node, in: fctx, known: ["attribute", "type", "under", "point"],
                                    required: ["attribute"]),
              let attribute = f["attribute"].flatMap({ reader.string($0.value, "'attribute' of \(fctx)") }) else { return nil }
        var typeName = "string"
        if let t = f["type"], let v = reader.value(t.value, .oneOf(["string", "int", "dn", "email", "path", "redirect"]),
                                                    "'type' of \(fctx)")?.string {
            typeName = v
        }
        let type: SetField.FieldType
        switch typeName {
        case "int": type = .int
        case "dn": type = .dn
        case "email": type = .email
        case "path":
            guard let under = f["under"].flatMap({ reader.ref($0.value, "'under' of \(fctx)") }) else {
                reader.report(Codes.missingKey, "\(fctx) has type path but no 'under' (the store whose root it is under)",
                              at: f["type"]?.value.range ?? name.range)
                return nil
            }
            type = .path(under: under)
        case "redirect":
            guard let point = f["point"].flatMap({ reader.ref($0.value, "'point' of \(fctx)") }) else {
                reader.report(Codes.missingKey, "\(fctx) has type redirect but no 'point'",
                              at: f["type"]?.value.range ?? name.range)
                return nil
            }
            type = .redirectValue(point: point)
        default: type = .string
        }
        return SetField(name: name, attribute: attribute, type: type)
    }

    mutating func notify(_ name: Ref, _ node: YAMLNode) -> NotifyTarget? {
        let ctx = "notify target '\(name)'"
        guard let p = reader.parameters(node, specs: [
            ParamSpec("via", .element([.smtp]), required: true, ""),
            ParamSpec("to", .email, required: true, ""),
        ], context: ctx), let via = p["via"]?.ref else { return nil }
        return NotifyTarget(name: name, via: via, to: p["to"]?.template?.description ?? "", range: node.range)
    }

    mutating func fixtures(_ node: YAMLNode) -> Fixtures? {
        guard let f = reader.fields(node, in: "fixtures", known: ["folder", "directory", "directories", "hosts", "dns", "timing"])
        else { return nil }
        var fx = Fixtures(hosts: [], range: node.range)
        if let d = f["folder"], let s = reader.string(d.value, "'folder' of fixtures") { fx.folder = (s, d.value.range) }
        if let d = f["directory"], let s = reader.string(d.value, "'directory' of fixtures") { fx.directory = (s, d.value.range) }
        if let d = f["directories"], let m = reader.value(d.value, .map(.localFile), "'directories' of fixtures")?.map {
            fx.directories = m.compactMap { p in p.value.string.map { (element: p.key, path: $0) } }
        }
        if let h = f["hosts"], let m = reader.value(h.value, .map(.localFile), "'hosts' of fixtures")?.map {
            fx.hosts = m.compactMap { p in p.value.string.map { (host: p.key, path: $0) } }
        }
        if let d = f["dns"], let m = reader.value(d.value, .map(.string), "'dns' of fixtures")?.map {
            fx.dns = m.compactMap { p in p.value.string.map { (domain: p.key, mx: $0) } }
        }
        if let t = f["timing"], let tf = reader.fields(t.value, in: "'timing' of fixtures",
                                                       known: ["bandwidth", "latency", "directory-operation", "probe"]) {
            if let b = tf["bandwidth"] {
                if let s = b.value.scalar, let v = Self.parseBandwidth(s) { fx.timing.bandwidth = v } else {
                    reader.report(Codes.invalidValue, "'bandwidth' must be a rate such as 50MB/s", at: b.value.range,
                                  help: "units: B/s, KB/s, MB/s, GB/s (powers of 1000)")
                }
            }
            if let l = tf["latency"], let v = reader.duration(l.value, "'latency'") { fx.timing.latency = v }
            if let d = tf["directory-operation"], let v = reader.duration(d.value, "'directory-operation'") {
                fx.timing.directoryOperation = v
            }
            if let p = tf["probe"], let v = reader.duration(p.value, "'probe'") { fx.timing.probe = v }
        }
        return fx
    }

    /// `50MB/s` → 5e7 bytes per second.
    static func parseBandwidth(_ s: String) -> Double? {
        let units: [(String, Double)] = [("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3), ("B/s", 1)]
        for (unit, factor) in units where s.hasSuffix(unit) {
            if let n = Double(s.dropLast(unit.count).trimmingCharacters(in: .whitespaces)), n > 0, n.isFinite {
                return n * factor
            }
        }
        return nil
    }

    // MARK: Phases

    static let phaseKeys = ["name", "after", "for-each", "where", "canary", "concurrency", "batch",
                            "rehearsal", "steps", "gates", "on-failure"]

    mutating func phase(_ node: YAMLNode) -> Phase? {
        guard let f = reader.fields(node, in: "a phase", known: Self.phaseKeys, required: ["name"]),
              let name = f["name"].flatMap({ reader.ref($0.value, "a phase's name") }) else { return nil }
        let ctx = "phase '\(name)'"
        var p = Phase(name: name, rehearsal: false, steps: [], gates: [], range: node.range)
        if let a = f["after"] { p.after = reader.refs(a.value, "'after' of \(ctx)") }
        if let e = f["for-each"] { p.forEach = reader.ref(e.value, "'for-each' of \(ctx)") }
        if let w = f["where"] { p.condition = condition(w.value, ctx) }
        if let c = f["canary"] { p.canary = reader.int(c.value, "'canary' of \(ctx)", min: 0) }
        if let c = f["concurrency"] { p.concurrency = reader.int(c.value, "'concurrency' of \(ctx)", min: 1) }
        if let b = f["batch"] { p.batch = reader.int(b.value, "'batch' of \(ctx)", min: 1) }
        if let r = f["rehearsal"] { p.rehearsal = reader.bool(r.value, "'rehearsal' of \(ctx)") ?? false }
        let before = reader.diagnostics.count
        if let s = f["steps"] { p.steps = steps(s.value, gates: false, ctx) }
        if let g = f["gates"] { p.gates = steps(g.value, gates: true, ctx) }
        p.incomplete = reader.diagnostics.count > before
        if f["steps"] == nil && f["gates"] == nil {
            reader.report(Codes.missingKey, "\(ctx) has neither 'steps' nor 'gates'", at: name.range)
        }
        if let o = f["on-failure"] { p.onFailure = contingency(o.value, ctx) }
        return p
    }

    mutating func steps(_ node: YAMLNode, gates: Bool, _ ctx: String) -> [Step] {
        let section = gates ? "gates" : "steps"
        guard let items = node.items else {
            reader.report(Codes.wrongType, "'\(section)' of \(ctx) must be a list", at: node.range)
            return []
        }
        var out: [Step] = []
        for item in items {
            guard let pairs = item.pairs, pairs.count == 1, let pair = pairs.first else {
                reader.report(Codes.wrongType, "a step is a mapping with one key, the operation (`- copy: {...}`)",
                              at: item.range)
                continue
            }
            let opName = pair.name
            let opRef = Ref(opName, at: pair.key.range)
            guard let op = Operations.named(opName) else {
                let candidates = (gates ? Operations.gates : Operations.steps).map(\.name)
                reader.report(Codes.unknownOperation, "unknown \(gates ? "gate" : "step") '\(opName)'",
                              at: pair.key.range,
                              help: Suggest.didYouMean(opName, in: candidates) ?? "known: " + candidates.joined(separator: ", "))
                continue
            }
            if op.isGate != gates {
                reader.report(Codes.misplaced, "'\(opName)' is a \(op.isGate ? "gate" : "step"), listed under '\(section)'",
                              at: pair.key.range, help: "move it under '\(op.isGate ? "gates" : "steps")'")
                continue
            }
            var paramsNode = pair.value
            if paramsNode.scalar != nil, !paramsNode.isNull, let shorthand = op.shorthand {
                let key = YAMLNode(content: .scalar(shorthand, .plain), range: pair.key.range)
                paramsNode = YAMLNode(content: .mapping([YAMLPair(key: key, value: paramsNode)]), range: paramsNode.range)
            }
            if paramsNode.isNull { paramsNode = YAMLNode(content: .mapping([]), range: pair.key.range) }
            guard let params = reader.parameters(paramsNode, specs: op.parameters, context: "'\(opName)' in \(ctx)") else { continue }
            out.append(Step(operation: opRef, parameters: params, range: item.range))
        }
        return out
    }

    mutating func condition(_ node: YAMLNode, _ ctx: String) -> Condition? {
        guard let text = reader.string(node, "'where' of \(ctx)") else { return nil }
        let quote = (node.style == .singleQuoted || node.style == .doubleQuoted) ? 1 : 0
        var clauses: [Condition.Clause] = []
        // Tokens with their scalar offsets.
        var tokens: [(String, Int)] = []
        var current = "", start = 0, index = 0
        for ch in text.unicodeScalars {
            if ch == " " {
                if !current.isEmpty { tokens.append((current, start)) }
                current = ""
            } else {
                if current.isEmpty { start = index }
                current.unicodeScalars.append(ch)
            }
            index += 1
        }
        if !current.isEmpty { tokens.append((current, start)) }
        var i = 0
        while i < tokens.count {
            guard i + 2 < tokens.count, ["==", "!="].contains(tokens[i + 1].0) else {
                reader.report(Codes.invalidValue, "'where' of \(ctx): expected FIELD == VALUE or FIELD != VALUE",
                              at: node.range, help: "e.g. where: host == neon (clauses joined by 'and')")
                return nil
            }
            let (f, fo) = tokens[i], (v, vo) = tokens[i + 2]
            clauses.append(Condition.Clause(
                field: Ref(f, at: node.range.subrange(columnOffset: fo + quote, length: f.unicodeScalars.count)),
                equals: tokens[i + 1].0 == "==",
                value: Ref(v, at: node.range.subrange(columnOffset: vo + quote, length: v.unicodeScalars.count))))
            i += 3
            if i < tokens.count {
                guard tokens[i].0 == "and" else {
                    reader.report(Codes.invalidValue, "'where' of \(ctx): clauses are joined by 'and', not '\(tokens[i].0)'",
                                  at: node.range.subrange(columnOffset: tokens[i].1 + quote, length: tokens[i].0.count))
                    return nil
                }
                i += 1
            }
        }
        return Condition(clauses: clauses, range: node.range)
    }

    mutating func contingency(_ node: YAMLNode, _ ctx: String) -> Contingency? {
        guard let f = reader.fields(node, in: "'on-failure' of \(ctx)", known: ["undo", "notify", "then"]) else { return nil }
        var c = Contingency(undo: true, notify: [], then: .halt, range: node.range)
        if let u = f["undo"] { c.undo = reader.bool(u.value, "'undo'") ?? true }
        if let n = f["notify"] { c.notify = reader.refs(n.value, "'notify'") }
        if let t = f["then"] {
            if let s = t.value.scalar, !t.value.isNull {
                if s != "halt" {
                    reader.report(Codes.invalidValue, "'then' must be 'halt' or { continue: true, budget: ... }, not '\(s)'",
                                  at: t.value.range, help: Suggest.didYouMean(s, in: ["halt"]))
                }
            } else if let tf = reader.fields(t.value, in: "'then'", known: ["continue", "budget"], required: ["continue", "budget"]) {
                if let b = tf["budget"], let budget = self.budget(b.value) { c.then = .continue(budget: budget) }
                if let cont = tf["continue"], reader.bool(cont.value, "'continue'") == false { c.then = .halt }
            }
        }
        return c
    }

    mutating func budget(_ node: YAMLNode) -> Contingency.Budget? {
        guard let s = node.scalar, !node.isNull else {
            reader.report(Codes.wrongType, "a budget is a count (3) or a percentage (\"1%\")", at: node.range)
            return nil
        }
        if s.hasSuffix("%"), let p = Double(s.dropLast()), p >= 0, p <= 100 { return .percent(p) }
        if let n = Int(s), n >= 0 { return .count(n) }
        reader.report(Codes.invalidValue, "'\(s)' is not a budget", at: node.range,
                      help: "a count of failed sets (3) or a percentage of them (\"1%\")")
        return nil
    }
}
