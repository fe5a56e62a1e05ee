import RelevoBasics
import RelevoPlan

extension CheckPass {
    /// Pass 3: step and gate parameters: references of the right kind,
    /// `${field}` placeholders that exist and fit the parameter's type, store
    /// paths that stay under their root, operations in a phase of the right scope.
    mutating func parameters() {
        for element in plan.elements {
            for (_, value) in element.parameters.entries { noPlaceholders(value, where: "element '\(element.name.name)'") }
        }
        for phase in plan.phases where !phase.isPerSet {
            var perSetKeys: [String] = []
            if phase.canary != nil { perSetKeys.append("canary") }
            if phase.concurrency != nil { perSetKeys.append("concurrency") }
            if phase.batch != nil { perSetKeys.append("batch") }
            if case .continue = phase.onFailure?.then { perSetKeys.append("an error budget") }
            if !perSetKeys.isEmpty {
                report(Codes.invalidValue, "phase '\(phase.name.name)' iterates no set: \(perSetKeys.joined(separator: ", ")) has no meaning there",
                       at: phase.name.range, help: "add 'for-each:' or remove \(perSetKeys.joined(separator: ", "))")
            }
        }
        for phase in plan.phases {
            let set = phase.forEach.flatMap { plan.set($0.name) }
            for step in phase.steps + phase.gates {
                guard let op = step.spec else { continue }
                scope(op, step, in: phase)
                for (name, value) in step.parameters.entries {
                    guard let spec = op.parameters.first(where: { $0.name == name.name }) else { continue }
                    check(value, spec.type, step: step, phase: phase, set: set)
                }
                credentials(op, step)
            }
        }
    }

    private mutating func scope(_ op: Operation, _ step: Step, in phase: Phase) {
        switch op.scope {
        case .global where phase.isPerSet:
            report(Codes.misplaced, "'\(op.name)' runs once, in a global phase; '\(phase.name.name)' runs per set",
                   at: step.operation.range, help: "move it to a phase without 'for-each'")
        case .perSet where !phase.isPerSet:
            report(Codes.misplaced, "'\(op.name)' runs per set; '\(phase.name.name)' iterates no set",
                   at: step.operation.range, help: "add 'for-each:' to the phase")
        default: break
        }
        if op.name == "redirect" || op.name == "redirect-is", let point = step.parameters["point"]?.ref,
           let r = plan.redirect(point.name) {
            if r.isPerSet && !phase.isPerSet {
                report(Codes.misplaced, "'\(r.name.name)' is switched per member of '\(r.per!.name)', but phase '\(phase.name.name)' iterates no set",
                       at: point.range, help: "switch it in a phase with 'for-each: \(r.per!.name)'")
            } else if let per = r.per, let each = phase.forEach, per.name != each.name, plan.set(each.name) != nil {
                report(Codes.misplaced, "'\(r.name.name)' is switched per member of '\(per.name)', but phase '\(phase.name.name)' iterates '\(each.name)'",
                       at: point.range)
            } else if !r.isPerSet && phase.isPerSet && op.name == "redirect" {
                report(Codes.misplaced, "'\(r.name.name)' is a global redirect point: switching it in per-set phase '\(phase.name.name)' would switch it once per member",
                       at: point.range, help: "switch it in a global phase")
            }
        }
    }

    private mutating func check(_ value: Value, _ type: ParamType, step: Step, phase: Phase, set: SetSource?) {
        switch (type, value.content) {
        case (.host, .ref(let r)):
            if plan.host(r.name) == nil { unknown("host", r, among: hostNames) }
        case (.element(let kinds), .ref(let r)):
            guard let e = element(r) else { return }
            if !kinds.isEmpty && !kinds.contains(e.kind) {
                let wanted = kinds.map(\.rawValue).joined(separator: " or ")
                let candidates = plan.elements.filter { kinds.contains($0.kind) }.map(\.name.name)
                report(Codes.wrongKind, "'\(step.operation.name)' needs \(wanted) here; '\(r.name)' is \(e.kind.rawValue)",
                       at: r.range, help: candidates.isEmpty ? nil : "\(wanted) elements: " + candidates.joined(separator: ", "))
            }
        case (.redirect, .ref(let r)):
            if plan.redirect(r.name) == nil { unknown("redirect point", r, among: redirectNames) }
        case (.redirectValue(let pointParameter), .ref(let r)):
            guard let point = step.parameters[pointParameter]?.ref, let p = plan.redirect(point.name) else { return }
            if p.raw(r.name) == nil { unknown("value of redirect '\(p.name.name)'", r, among: p.values.map(\.name.name)) }
        case (.set, .ref(let r)):
            if plan.set(r.name) == nil { unknown("set", r, among: setNames) }
        case (.notify, .ref(let r)):
            if plan.notifyTarget(r.name) == nil { unknown("notify target", r, among: notifyNames) }
        case (.string, .string(let s)) where s.contains("${"):
            report(Codes.badTemplate, "placeholders are not filled in here: '\(s)' is taken literally",
                   at: value.range, help: "this parameter is a plain string; only templates, addresses, DNs and paths take ${field}")
        case (.storePath, .storePath(let storeRef, let path)):
            let store = self.store(storeRef)
            placeholders(path, in: value, type: type, phase: phase, set: set)
            if let store { containment(path, in: value, store: store) }
        case (.template, .template(let t)), (.email, .template(let t)), (.dn, .template(let t)), (.owner, .template(let t)):
            placeholders(t, in: value, type: type, phase: phase, set: set)
        case (.list(let inner), .list(let items)):
            for item in items { check(item, inner, step: step, phase: phase, set: set) }
        case (.map(let inner), .map(let entries)):
            for entry in entries { check(entry.value, inner, step: step, phase: phase, set: set) }
        case (.record(let specs), .map(let entries)):
            for entry in entries {
                if let spec = specs.first(where: { $0.name == entry.key.name }) {
                    check(entry.value, spec.type, step: step, phase: phase, set: set)
                }
            }
        default:
            break
        }
    }

    /// Element parameters are fixed: no member is being iterated there.
    private mutating func noPlaceholders(_ value: Value, where place: String) {
        switch value.content {
        case .template(let t):
            for case .field(let name, let offset) in t.parts {
                report(Codes.fieldOutsideSet, "'${\(name)}' in \(place): only steps and gates of a per-set phase have a member",
                       at: value.range.subrange(columnOffset: offset, length: name.unicodeScalars.count + 3))
            }
        case .list(let items): items.forEach { noPlaceholders($0, where: place) }
        case .map(let entries): entries.forEach { noPlaceholders($0.value, where: place) }
        default: break
        }
    }

    /// Login gates need the credentials they use: `auth: master` (the
    /// default) the element's `master:`, `auth: login` its `login:`.
    private mutating func credentials(_ op: Operation, _ step: Step) {
        guard op.name == "imap-login" || op.name == "pop3-login", let via = step.parameters["via"]?.ref,
              let element = plan.element(via.name), [.imap, .pop3].contains(element.kind) else { return }
        let auth = step.parameters["auth"]?.string ?? "master"
        if element.parameters[auth] == nil {
            report(Codes.missingKey, "'\(op.name)' with auth: \(auth) needs '\(auth):' credentials on element '\(via.name)'",
                   at: via.range, help: "add `\(auth): { user: ..., password: env:NAME }` to '\(via.name)'")
        }
    }

    /// `${field}` names a field of the set, of a type the parameter accepts.
    private mutating func placeholders(_ t: Template, in value: Value, type: ParamType, phase: Phase, set: SetSource?) {
        for part in t.parts {
            guard case .field(let name, let offset) = part else { continue }
            let range = value.range.subrange(columnOffset: offset, length: name.unicodeScalars.count + 3)
            guard phase.isPerSet else {
                report(Codes.fieldOutsideSet, "'${\(name)}' in phase '\(phase.name.name)', which iterates no set",
                       at: range, help: "placeholders name fields of the set a phase iterates with 'for-each:'")
                continue
            }
            guard let set else { continue }
            let fields = fields(of: set)
            guard let field = fields.first(where: { $0.name.name == name }) else {
                let suggestion = Suggest.closest(to: name, in: fields.map(\.name.name))
                report(Codes.unknownField, "set '\(set.name.name)' has no field '\(name)'", at: range,
                       help: suggestion.map { "did you mean '${\($0)}'?" }
                           ?? "fields: " + fields.map(\.name.name).joined(separator: ", "),
                       fixIt: suggestion.map { FixIt(range: range, replacement: "${\($0)}") })
                continue
            }
            if !Self.accepts(type, field.type) {
                report(Codes.fieldType, "'${\(name)}' is a \(field.typeDescription) field; this parameter takes \(type)",
                       at: range, help: Self.hint(for: type))
            }
        }
    }

    static func accepts(_ type: ParamType, _ field: SetField.FieldType) -> Bool {
        switch type {
        case .storePath:
            switch field {
            case .path, .string, .int: return true
            default: return false
            }
        case .dn:
            return field == .dn || field == .string
        case .email:
            return field == .email || field == .string
        default:
            return true
        }
    }

    static func hint(for type: ParamType) -> String? {
        switch type {
        case .storePath: "a path takes path fields, or a string field as one path segment"
        case .dn: "a DN takes a dn field (such as ${dn}) or a string field (escaped per RFC 4514)"
        case .email: "an address takes an email or string field"
        default: nil
        }
    }

    /// A store path must stay under the store's root: no `..` segment, and an
    /// absolute path only when it starts with the root.
    private mutating func containment(_ path: Template, in value: Value, store: Element) {
        let root = store.parameters["root"]?.string ?? "/"
        guard let storeRef = value.storePath?.store else { return }
        // Column offset of the path's first character: after the opening
        // quote (if any), the store name and the colon.
        var column = storeRef.range.start.column - value.range.start.column + storeRef.name.unicodeScalars.count + 1
        // The path with each placeholder as one opaque character, and the
        // column offset of each of its characters.
        var flat: [Unicode.Scalar] = []
        var offsets: [Int] = []
        for part in path.parts {
            switch part {
            case .literal(let s):
                for ch in s.unicodeScalars {
                    flat.append(ch)
                    offsets.append(column)
                    column += 1
                }
            case .field(let name, let offset):
                flat.append("\u{1}")
                offsets.append(offset)
                column = offset + name.unicodeScalars.count + 3
            }
        }
        var start = 0
        for i in 0...flat.count where i == flat.count || flat[i] == "/" {
            if i - start == 2, flat[start] == ".", flat[start + 1] == "." {
                report(Codes.pathEscape, "'..' in a path of store '\(store.name.name)' could leave its root \(root)",
                       at: value.range.subrange(columnOffset: offsets[start], length: 2),
                       help: "name the path under the store's root without '..'")
                return
            }
            start = i + 1
        }
        if flat.isEmpty || flat.allSatisfy({ $0 == "/" || $0 == "." }) {
            report(Codes.pathEscape, "the path names the whole of store '\(store.name.name)' (\(root))",
                   at: value.range, help: "name a path under the root, e.g. '\(store.name.name):${store}'")
            return
        }
        guard flat.first == "/" else { return }
        let prefix = String(String.UnicodeScalarView(flat.prefix { $0 != "\u{1}" }))
        let under = root.hasSuffix("/") ? root : root + "/"
        let complete = !flat.contains("\u{1}")
        if !(prefix.hasPrefix(under) || complete && prefix == root) {
            report(Codes.pathEscape, "'\(path)' is outside the root \(root) of store '\(store.name.name)'",
                   at: value.range.subrange(columnOffset: offsets[0], length: path.description.unicodeScalars.count), help: "write the path relative to the store's root, e.g. '\(store.name.name):${store}'")
        }
    }
}
