import Foundation
import RelevoDirectory
import RelevoEngine
import RelevoPlan
import RelevoStore

extension PlanEnvironment {
    public func prepare(_ step: BoundStep) async throws -> [String: String] {
        switch step.operation.name {
        case "redirect":
            let p = try point(step["point"]?.string)
            if p.isPerSet {
                guard let attribute = p.attribute, let dnText = step.member?.dn,
                      let entry = try directory(p.at.name)?.entry(try dn(dnText)) else { return [:] }
                return ["previous": entry.first(attribute) ?? ""]
            }
            let domain = plan.element(p.at.name)?.parameters["domain"]?.string ?? ""
            return ["previous": mx(domain) ?? ""]
        case "ldap-modify":
            guard let at = step["at"]?.string, let entryText = step["entry"]?.string,
                  let entry = try directory(at)?.entry(try dn(entryText)),
                  case .map(let replace)? = step["replace"] else { return [:] }
            var previous: [String: String] = [:]
            for attribute in replace.keys { previous[attribute] = json(entry.strings(attribute)) }
            return previous
        default:
            return [:]
        }
    }

    public func perform(_ step: BoundStep, prepared: [String: String]) async throws -> StepOutcome {
        try applyFault(step)
        switch step.operation.name {
        case "redirect": return try redirect(step, to: step["to"]?.string ?? "")
        case "copy": return try copy(step)
        case "chown": return try chown(step)
        case "remove":
            let location = try location(step["path"])
            let removed = try location.removeTree()
            return StepOutcome(status: .done, evidence: "removed \(location.relative) (\(removed) entries)",
                               seconds: Double(max(1, removed)) * timing.latency)
        case "ldap-export": return try ldapExport(step)
        case "ldif-transform": return try ldifTransform(step)
        case "ldap-import": return try ldapImport(step)
        case "ldap-modify": return try ldapModify(step)
        case "smtp-send": return try smtpSend(step)
        case "run-command": return try runCommandStep(step, "run")
        case "reload", "flush-cache", "kick": return try mailServerStep(step)
        case "flush-queue": return try flushQueue(step)
        case "wait":
            if case .duration(let d)? = step["for"] { return StepOutcome(status: .done, seconds: d) }
            return StepOutcome(status: .done)
        case "notify":
            let target = step["to"]?.string ?? ""
            if let known = plan.notifyTarget(target) {
                try sendNotification(known, message: step["message"]?.string ?? "")
            } else {
                try recordNotification("\(target): \(step["message"]?.string ?? "")")
            }
            return StepOutcome(status: .done, evidence: "sent to \(target)", seconds: timing.probe)
        default:
            return StepOutcome(status: .done, evidence: "nothing to do in a dry run")
        }
    }

    public func isDone(_ step: BoundStep, prepared: [String: String]) async throws -> Bool {
        switch step.operation.name {
        case "redirect":
            let p = try point(step["point"]?.string)
            guard let raw = p.raw(step["to"]?.string ?? "") else { return false }
            return try currentRaw(p, member: step.member)?.lowercased() == raw.lowercased()
        case "ldap-modify":
            guard let at = step["at"]?.string, let entryText = step["entry"]?.string,
                  let entry = try directory(at)?.entry(try dn(entryText)),
                  case .map(let replace)? = step["replace"] else { return false }
            return replace.allSatisfy { entry.strings($0.key) == [$0.value.string ?? ""] }
        default:
            // Copies, chowns and imports are idempotent: they run again.
            return false
        }
    }

    public func undo(_ step: BoundStep, outcome: StepOutcome) async throws -> StepOutcome {
        switch step.operation.name {
        case "redirect":
            let p = try point(step["point"]?.string)
            guard let previous = outcome.undo["previous"],
                  let name = p.values.first(where: { $0.raw.lowercased() == previous.lowercased() })?.name.name else {
                throw Failure("no previous value recorded for \(p.name.name)")
            }
            var result = try redirect(step, to: name)
            // Carry back what flowed to the other side while redirected.
            if case .bool(false)? = step["carry-back"] { return result }
            if p.isPerSet, let from = p.route(step["to"]?.string ?? "")?.name, let to = p.route(name)?.name,
               let pathField = pathField(for: p), let relative = step.member?.fields[pathField] {
                let source = try storeRoot(from).location(relative)
                if try source.exists() {
                    let target = try storeRoot(to).location(relative)
                    let reports = try MaildirCopier(from: source, to: target,
                                                    options: CopyOptions(flagPolicy: .merge, syncFiles: false)).copyUntilStable()
                    let carried = reports.reduce(0) { $0 + $1.copied.count }
                    result.evidence += carried > 0 ? "; carried back \(carried) messages" : ""
                    result.messages = carried
                }
            }
            return result
        case "copy":
            guard let report = decode([CopyReport].self, outcome.undo["copied"]) else {
                return StepOutcome(status: .done, evidence: "nothing was copied")
            }
            let from = try location(step["from"]), to = try location(step["to"])
            let removal: RemovalReport
            if isMaildir(step["to"]) {
                removal = try MaildirCopier(from: from, to: to).removeCopied(reports: report)
            } else {
                removal = try TreeCopier(from: from, to: to).removeCopied(reports: report)
            }
            let removed = removal.removed.count
            return StepOutcome(status: .done, evidence: "removed \(removed) copied files", seconds: Double(removed) * timing.latency)
        case "chown":
            guard appliesOwnership, let report = decode(OwnershipReport.self, outcome.undo["owners"]), report.applied else {
                return StepOutcome(status: .done, evidence: "owners restored (recorded only in a dry run)")
            }
            try Ownership.restore(report, in: try location(step["path"]))
            return StepOutcome(status: .done, evidence: "owners of \(report.changes.count) entries restored",
                               seconds: Double(report.changes.count) * timing.latency / 10)
        case "ldap-import":
            guard let element = step["to"]?.string, let added = decode([String].self, outcome.undo["added"]) else {
                return StepOutcome(status: .done)
            }
            for text in added.reversed() {
                try? change(element, LDIFChangeRecord(dn: try dn(text), change: .delete))
            }
            return StepOutcome(status: .done, evidence: "deleted \(added.count) entries",
                               seconds: Double(added.count) * timing.directoryOperation)
        case "run-command":
            guard case .list? = step["undo"] else { return StepOutcome(status: .done, evidence: "nothing to reverse (no undo command)") }
            return try runCommandStep(step, "undo")
        case "ldap-modify":
            guard let at = step["at"]?.string, let entryText = step["entry"]?.string else { return StepOutcome(status: .done) }
            var mods: [Modification] = []
            for (attribute, text) in outcome.undo {
                guard let values = decode([String].self, text) else { continue }
                mods.append(Modification.replace(attribute, values.map { AttributeValue($0) }))
            }
            try change(at, LDIFChangeRecord(dn: try dn(entryText), change: .modify(mods)))
            return StepOutcome(status: .done, evidence: "restored \(mods.count) attributes", seconds: timing.directoryOperation)
        default:
            return StepOutcome(status: .done)
        }
    }

    public func notify(_ target: NotifyTarget, message: String) async throws -> Double {
        try sendNotification(target, message: message)
        return timing.probe
    }

    // MARK: - Steps

    /// Reads a redirect point's current raw value for a member (per set) or
    /// the DNS answer (global).
    func currentRaw(_ p: RedirectPoint, member: SetMember?) throws -> String? {
        if p.isPerSet {
            guard let attribute = p.attribute, let dnText = member?.dn else { return nil }
            return try directory(p.at.name)?.entry(try dn(dnText))?.first(attribute)
        }
        return mx(plan.element(p.at.name)?.parameters["domain"]?.string ?? "")
    }

    func redirect(_ step: BoundStep, to value: String) throws -> StepOutcome {
        let p = try point(step["point"]?.string)
        guard let raw = p.raw(value) else { throw StepFailure("'\(value)' is not a value of \(p.name.name)") }
        if p.isPerSet {
            guard let attribute = p.attribute, let dnText = step.member?.dn else { throw StepFailure("no entry to switch") }
            try change(p.at.name, LDIFChangeRecord(dn: try dn(dnText),
                                                           change: .modify([.replace(attribute, [AttributeValue(raw)])])))
            return StepOutcome(status: .done, evidence: "\(attribute): \(raw)", seconds: timing.directoryOperation)
        }
        let domain = plan.element(p.at.name)?.parameters["domain"]?.string ?? ""
        try setMX(domain, raw)
        return StepOutcome(status: .done, evidence: "MX \(domain): \(raw)", seconds: timing.probe)
    }

    /// The field of the point's set that holds each member's path.
    func pathField(for p: RedirectPoint) -> String? {
        guard let set = p.per.flatMap({ plan.set($0.name) }) else { return nil }
        return set.fields.first { if case .path = $0.type { true } else { false } }?.name.name
    }

    /// What a `copy` step copies and how, as its parameters say; a missing
    /// source is made (empty) first.
    struct CopyPlan {
        var from, to: StoreLocation
        var options: CopyOptions
        var stable: Bool
        var maxPasses: Int
        var maildir: Bool

        /// The step's passes, the ordinary way.
        func run() throws -> [CopyReport] {
            if maildir {
                let copier = MaildirCopier(from: from, to: to, options: options)
                return stable ? try copier.copyUntilStable(maxPasses: maxPasses) : [try copier.copy()]
            }
            let copier = TreeCopier(from: from, to: to, options: options)
            return stable ? try copier.copyUntilStable(maxPasses: maxPasses) : [try copier.copy()]
        }
    }

    func copyPlan(_ step: BoundStep) throws -> CopyPlan {
        let from = try location(step["from"]), to = try location(step["to"])
        return try copyPlan(step, from: from, to: to, fromExists: try from.exists())
    }

    /// `copyPlan(_:)` with the step's locations checked and whether its
    /// source exists asked already (for a batch, all at once).
    func copyPlan(_ step: BoundStep, from: StoreLocation, to: StoreLocation, fromExists: Bool) throws -> CopyPlan {
        // `compare: size-mtime`: a message already on both sides with the same
        // size and time is taken as copied without reading it twice; the
        // phase's maildir-superset gate proves the contents (L008 warns
        // when there is none).
        let comparison: ContentComparison = step["compare"]?.string == "size-mtime" ? .sizeAndModificationTime : .sha256
        let maxPasses: Int = { if case .int(let n)? = step["max-passes"] { return n } else { return 5 } }()
        if !fromExists {
            try from.create()
        }
        return CopyPlan(from: from, to: to, options: CopyOptions(flagPolicy: .merge, comparison: comparison, syncFiles: false),
                        stable: step["until"]?.string == "stable", maxPasses: maxPasses, maildir: isMaildir(step["from"]))
    }

    func copy(_ step: BoundStep) throws -> StepOutcome {
        let plan = try copyPlan(step)
        return try copyOutcome(step, plan, passes: plan.run)
    }

    /// The outcome of a `copy` step whose passes `passes` makes.
    func copyOutcome(_ step: BoundStep, _ plan: CopyPlan, passes: () throws -> [CopyReport]) throws -> StepOutcome {
        let (from, to, maildir) = (plan.from, plan.to, plan.maildir)
        var reports: [CopyReport]
        do {
            reports = try passes()
        } catch let error as StoreError {
            // An error after files were placed (a message swapped for a link
            // during the copy) carries what was placed: the undo removes it.
            if case .interrupted(let partial, _) = error, !partial.copied.isEmpty {
                throw StepFailure("copy \(from.relative): \(error)",
                                  partial: StepOutcome(status: .failed, undo: ["copied": CopyReport.json([partial])]))
            }
            throw StepFailure("copy \(from.relative): \(error)")
        }
        let files = reports.reduce(0) { $0 + $1.copied.count + $1.skipped }
        let bytes = reports.reduce(UInt64(0)) { $0 + $1.bytesCopied }
        let copied = reports.reduce(0) { $0 + $1.copied.count }
        let conflicts = reports.flatMap(\.conflicts).filter(\.isMessage)
        var outcome = StepOutcome(status: .done, undo: ["copied": CopyReport.json(reports)],
                                  evidence: "\(copied) files, \(bytes) bytes in \(reports.count) pass\(reports.count == 1 ? "" : "es")",
                                  bytes: Int64(bytes), messages: copied,
                                  seconds: copySeconds(files: files, bytes: bytes, passes: reports.count))
        if !conflicts.isEmpty {
            throw StepFailure("\(conflicts.count) messages differ between the stores: \(conflicts.first!)", partial: outcome)
        }
        if injected(step) == .partial {
            // Stop half way: keep the first half of what was copied, then fail.
            let all = reports.flatMap(\.copied)
            var kept = CopyReport(source: reports.first?.source ?? "", destination: reports.first?.destination ?? "")
            var dropped = kept
            for (i, file) in all.enumerated() {
                if i < all.count / 2 { kept.copied.append(file) } else { dropped.copied.append(file) }
            }
            if maildir { _ = try MaildirCopier(from: from, to: to).removeCopied(report: dropped) } else {
                _ = try TreeCopier(from: from, to: to).removeCopied(report: dropped)
            }
            outcome.undo["copied"] = CopyReport.json([kept])
            outcome.seconds /= 2
            throw StepFailure("copy stopped half way (injected): \(kept.copied.count) of \(all.count) files", partial: outcome)
        }
        return outcome
    }

    /// A `run-command` step's `run` (or, on undo, its `undo`) vector on its host.
    func runCommandStep(_ step: BoundStep, _ field: String) throws -> StepOutcome {
        guard let outcome = try commandOutcome(step, field) else {
            var shown = ""
            if case .list(let items)? = step[field] { shown = items.compactMap(\.string).joined(separator: " ") }
            return StepOutcome(status: .done, evidence: "\(step["on"]?.string ?? ""): `\(shown)` (recorded, not run, in a dry run)",
                               seconds: timing.probe)
        }
        if outcome.status != .done { throw StepFailure(outcome.evidence) }
        return outcome
    }

    /// The argument vector `field` of a `run-command` step or a
    /// `remote-command` gate, run on the host `on`: done when it exits with
    /// `expect-exit` (0 by default; an undo vector must exit 0), failed
    /// otherwise, nil where commands are not run.
    func commandOutcome(_ step: BoundStep, _ field: String) throws -> StepOutcome? {
        guard let host = step["on"]?.string, case .list(let items)? = step[field] else {
            return StepOutcome(status: .failed, evidence: "incomplete \(step.operation.name)")
        }
        let argv = items.compactMap(\.string)
        let shown = argv.joined(separator: " ")
        let expected = expectedExit(step, field)
        guard let result = try runCommand(argv, on: host) else { return nil }
        return commandOutcome(host: host, shown: shown, expected: expected, result)
    }

    /// The exit status the vector `field` must end with: the step's
    /// `expect-exit` for its `run` (0 by default), 0 for an undo vector.
    func expectedExit(_ step: BoundStep, _ field: String) -> Int32 {
        if case .int(let n)? = step["expect-exit"], field == "run" { return Int32(n) }
        return 0
    }

    /// The outcome of a command that exited as `result` says.
    func commandOutcome(host: String, shown: String, expected: Int32, _ result: HostCommandResult) -> StepOutcome {
        if result.exitStatus == expected {
            return StepOutcome(status: .done, evidence: "\(host): `\(shown)` exited \(expected)", seconds: timing.probe)
        }
        let ended = result.exitStatus.map { "exited \($0)" } ?? "ended by \(result.signal ?? "a signal")"
        return StepOutcome(status: .failed, evidence: "\(host): `\(shown)` \(ended), expected \(expected)"
                               + (result.firstError.isEmpty ? "" : ": " + result.firstError), seconds: timing.probe)
    }

    func chown(_ step: BoundStep) throws -> StepOutcome {
        let location = try location(step["path"])
        guard try location.exists() else {
            throw StepFailure("\(location.relative) does not exist")
        }
        let ownerText = chownOwnerText(step)
        guard appliesOwnership else {
            let entries = try Ownership.currentOwners(of: location, allowHardLinks: true).count
            return StepOutcome(status: .done, evidence: "\(entries) entries to \(ownerText.isEmpty ? "the store's owner" : ownerText) (recorded, not applied, in a dry run)",
                               seconds: Double(entries) * timing.latency / 10)
        }
        let owner = try chownOwner(location, ownerText)
        let report: OwnershipReport
        do {
            report = try Ownership.change(location, to: owner, allowHardLinks: false)
        } catch let error as StoreError {
            throw StepFailure("chown \(location.relative): \(error)")
        }
        return chownOutcome(report, ownerText)
    }

    /// The owner a chown step gives (its `owner`, else its store's).
    func chownOwnerText(_ step: BoundStep) -> String {
        if let o = step["owner"]?.string { return o }
        if case .storePath(let store, _)? = step["path"] { return plan.element(store)?.parameters["owner"]?.string ?? "" }
        return ""
    }

    func chownOwner(_ location: StoreLocation, _ ownerText: String) throws -> Owner {
        let parts = ownerText.split(separator: ":", maxSplits: 1).map(String.init)
        guard let user = parts.first, !user.isEmpty else { throw StepFailure("no owner for \(location.relative): give chown an owner or the store an owner") }
        return try location.root.fileSystem.owner(user: user, group: parts.count > 1 ? parts[1] : user)
    }

    func chownOutcome(_ report: OwnershipReport, _ ownerText: String) -> StepOutcome {
        StepOutcome(status: .done, undo: ["owners": report.json],
                    evidence: "\(report.changes.count) entries given to \(ownerText), \(report.unchanged) already were",
                    seconds: Double(report.changes.count + report.unchanged) * timing.latency / 10)
    }

    func ldapExport(_ step: BoundStep) throws -> StepOutcome {
        guard let element = step["from"]?.string, let directory = try directory(element) else {
            throw StepFailure("no directory to export")
        }
        let file = try workFile(step["to"]?.string ?? "")
        let (text, count) = try directory.exportLDIF()
        try Data(text.utf8).write(to: file, options: .atomic)
        return StepOutcome(status: .done, evidence: "\(count) entries to \(step["to"]?.string ?? "")",
                           bytes: Int64(text.utf8.count), seconds: Double(count) * timing.directoryOperation / 10)
    }

    func ldifTransform(_ step: BoundStep) throws -> StepOutcome {
        let input = try String(contentsOf: try workFile(step["in"]?.string ?? ""), encoding: .utf8)
        var records = try LDIFReader().read(input)
        var changed = 0
        for i in records.indices {
            guard case .content(var entry) = records[i] else { continue }
            if case .map(let splits)? = step["split"] {
                for (attribute, spec) in splits {
                    guard case .map(let s) = spec, let pattern = s["pattern"]?.string,
                          case .map(let into)? = s["into"] else { continue }
                    let values = entry.strings(attribute)
                    guard !values.isEmpty else { continue }
                    for value in values {
                        guard let captures = LDIFTransform.match(pattern, value) else {
                            throw StepFailure("\(entry.dn): \(attribute) '\(value)' does not match \(pattern)")
                        }
                        for (newAttribute, capture) in into.sorted(by: { $0.key < $1.key }) {
                            if let v = captures[capture.string ?? ""] { entry.set(newAttribute, [AttributeValue(v)]) }
                        }
                    }
                    entry.remove(attribute)
                    changed += 1
                }
            }
            if case .map(let renames)? = step["rename"] {
                for (old, new) in renames {
                    let values = entry[old]
                    if !values.isEmpty, let n = new.string {
                        entry.remove(old)
                        entry.set(n, values)
                    }
                }
            }
            if case .list(let drops)? = step["drop"] {
                for d in drops { if let name = d.string { entry.remove(name) } }
            }
            records[i] = .content(entry)
        }
        let text = LDIFWriter().write(records)
        try Data(text.utf8).write(to: try workFile(step["out"]?.string ?? ""), options: .atomic)
        return StepOutcome(status: .done, evidence: "\(records.count) records, \(changed) rewritten",
                           bytes: Int64(text.utf8.count), seconds: 0.001 * Double(records.count))
    }

    func ldapImport(_ step: BoundStep) throws -> StepOutcome {
        guard let element = step["to"]?.string, let directory = try directory(element) else {
            throw StepFailure("no directory to import into")
        }
        let text = try String(contentsOf: try workFile(step["from"]?.string ?? ""), encoding: .utf8)
        var added: [String] = []
        let entries = try LDIFReader().read(text).compactMap { record -> Entry? in
            guard case .content(let entry) = record else { return nil }
            return entry
        }
        // Which entries are there already, read together (a live server: the
        // reads in flight at once); an entry there is left as it is.
        let present = directory.entries(entries.map(\.dn))
        var seen: Set<DistinguishedName> = []
        for (entry, found) in zip(entries, present) {
            if try found.get() != nil || !seen.insert(entry.dn).inserted { continue }
            do {
                try change(element, LDIFChangeRecord(dn: entry.dn, change: .add(entry.attributes)))
                added.append(entry.dn.description)
            } catch {
                throw StepFailure("adding \(entry.dn): \(error)",
                                  partial: StepOutcome(status: .failed, undo: ["added": json(added)]))
            }
        }
        return StepOutcome(status: .done, undo: ["added": json(added)], evidence: "\(added.count) entries added",
                           seconds: Double(added.count) * timing.directoryOperation)
    }

    func ldapModify(_ step: BoundStep) throws -> StepOutcome {
        guard let at = step["at"]?.string, let entryText = step["entry"]?.string,
              case .map(let replace)? = step["replace"] else { throw StepFailure("incomplete ldap-modify") }
        let mods = replace.keys.sorted().map { Modification.replace($0, [AttributeValue(replace[$0]?.string ?? "")]) }
        do {
            try change(at, LDIFChangeRecord(dn: try dn(entryText), change: .modify(mods)))
        } catch {
            throw StepFailure("\(entryText): \(error)")
        }
        return StepOutcome(status: .done, evidence: "\(mods.count) attributes replaced", seconds: timing.directoryOperation)
    }
}

/// `{size}S,{count}C`-style patterns: literal text and named captures.
enum LDIFTransform {
    /// Where `literal` first starts in `text` when both are ASCII (byte for
    /// byte, as Foundation's `range(of:)` finds it there), else nil.
    static func firstASCII(_ literal: Substring, in text: Substring) -> Substring.Index? {
        let needle = Array(literal.utf8), haystack = Array(text.utf8)
        guard !needle.isEmpty, needle.allSatisfy({ $0 < 0x80 }), haystack.allSatisfy({ $0 < 0x80 }) else { return nil }
        guard haystack.count >= needle.count else { return nil }
        for offset in 0...(haystack.count - needle.count)
        where haystack[offset] == needle[0] && haystack[offset..<(offset + needle.count)].elementsEqual(needle) {
            return text.utf8.index(text.utf8.startIndex, offsetBy: offset)
        }
        return nil
    }

    static func match(_ pattern: String, _ value: String) -> [String: String]? {
        var captures: [String: String] = [:]
        var p = Substring(pattern), v = Substring(value)
        while !p.isEmpty {
            if p.first == "{", let close = p.firstIndex(of: "}") {
                let name = String(p[p.index(after: p.startIndex)..<close])
                p = p[p.index(after: close)...]
                // A capture runs to the next literal of the pattern (or the end).
                let literal = p.prefix { $0 != "{" }
                if literal.isEmpty {
                    captures[name] = String(v)
                    v = ""
                } else if let start = firstASCII(literal, in: v) ?? v.range(of: literal)?.lowerBound {
                    captures[name] = String(v[..<start])
                    v = v[start...]
                } else {
                    return nil
                }
                if captures[name]?.isEmpty ?? true { return nil }
            } else {
                guard v.first == p.first else { return nil }
                p = p.dropFirst()
                v = v.dropFirst()
            }
        }
        return v.isEmpty ? captures : nil
    }
}
