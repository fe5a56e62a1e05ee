import Foundation
import RelevoDirectory
import RelevoEngine
import RelevoPlan
import RelevoStore

extension PlanEnvironment {
    public func gate(_ step: BoundStep) async throws -> StepOutcome {
        try applyFault(step)
        func pass(_ evidence: String, _ seconds: Double) -> StepOutcome {
            StepOutcome(status: .done, evidence: evidence, seconds: seconds)
        }
        func fail(_ evidence: String, _ seconds: Double) -> StepOutcome {
            StepOutcome(status: .failed, evidence: evidence, seconds: seconds)
        }
        switch step.operation.name {
        case "maildir-superset":
            let new = try location(step["new"]), old = try location(step["old"])
            guard try new.exists() else { return fail("\(new.relative) does not exist", timing.latency) }
            let oldCensus: MaildirCensus, newCensus: MaildirCensus
            do {
                oldCensus = try old.exists()
                    ? try MaildirCensus.scan(old) : try MaildirCensus.scan(new).emptied()
                newCensus = try MaildirCensus.scan(new)
            } catch {
                return fail("census refused: \(error)", timing.latency)
            }
            return supersetOutcome(old: oldCensus, new: newCensus)
        case "tree-equal":
            let a = try location(step["a"]), b = try location(step["b"])
            let ca = try TreeCensus.scan(a), cb = try TreeCensus.scan(b)
            let ma = Dictionary(ca.files.map { ($0.path, $0.sha256 ?? "") }, uniquingKeysWith: { x, _ in x })
            let mb = Dictionary(cb.files.map { ($0.path, $0.sha256 ?? "") }, uniquingKeysWith: { x, _ in x })
            let seconds = Double(ca.files.count + cb.files.count) * timing.latency
            if ma != mb {
                let differing = Set(ma.keys).union(mb.keys).filter { ma[$0] != mb[$0] }.sorted()
                return fail("\(differing.count) files differ (first: \(differing.first ?? ""))", seconds)
            }
            return pass("\(ca.files.count) files identical (SHA-256)", seconds)
        case "maildir-has":
            let where_ = try location(step["path"])
            let subject = step["subject"]?.string ?? ""
            let within: Double = { if case .duration(let d)? = step["within"] { d } else { 60 } }()
            let deadline = Date().addingTimeInterval(within)
            var seen: Set<String> = []
            while true {
                if try where_.exists(), let census = try? MaildirCensus.scan(where_) {
                    for message in census.messages.values where !seen.contains(message.file.path) {
                        seen.insert(message.file.path)
                        if let bytes = try? where_.readFile(message.file.path, limit: 16384),
                           String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                               .prefix(while: { !$0.isEmpty && $0 != "\r" })
                               .contains(where: { $0 == "Subject: \(subject)" || $0 == "Subject: \(subject)\r" }) {
                            return pass("a message with subject '\(subject)' is in \(where_.relative)", timing.probe)
                        }
                    }
                }
                // A live run waits for the delivery, up to `within`.
                guard let interval = deliveryPollInterval, Date() < deadline else { break }
                try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
            }
            guard try where_.exists() else { return fail("no Maildir at \(where_.relative)", timing.probe) }
            return fail("no message with subject '\(subject)' in \(where_.relative)", timing.probe)
        case "dns-mx":
            let domain = step["at"].flatMap { plan.element($0.string ?? "")?.parameters["domain"]?.string } ?? ""
            let expect = step["expect"]?.string ?? ""
            let answer = mx(domain) ?? "(none)"
            return answer.lowercased() == expect.lowercased()
                ? pass("MX \(domain): \(answer)", timing.probe) : fail("MX \(domain) is \(answer), expected \(expect)", timing.probe)
        case "redirect-is":
            let p = try point(step["point"]?.string)
            let expect = step["is"]?.string ?? ""
            return redirectIsOutcome(p, expect: expect, raw: try currentRaw(p, member: step.member) ?? "")
        case "ldap-compare":
            guard let at = step["at"]?.string, let entryText = step["entry"]?.string,
                  let attribute = step["attribute"]?.string else { return fail("incomplete ldap-compare", 0) }
            let expect = step["expect"]?.string ?? ""
            guard let entry = try directory(at)?.entry(try dn(entryText)) else {
                return fail("no entry \(entryText)", timing.directoryOperation)
            }
            return entry.strings(attribute).contains(expect)
                ? pass("\(attribute): \(expect)", timing.directoryOperation)
                : fail("\(attribute) is \(entry.strings(attribute)), expected \(expect)", timing.directoryOperation)
        case "remote-command":
            return try commandOutcome(step, "run") ?? pass("nothing to check in a dry run", 0)
        default:
            if let outcome = try protocolGate(step) { return outcome }
            return fail("\(step.operation.name) cannot be checked by this environment", 0)
        }
    }

    /// The `redirect-is` verdict on the point's current raw value.
    func redirectIsOutcome(_ p: RedirectPoint, expect: String, raw: String) -> StepOutcome {
        let name = p.values.first { $0.raw.lowercased() == raw.lowercased() }?.name.name ?? raw
        return name == expect
            ? StepOutcome(status: .done, evidence: "\(p.name.name) reads \(raw)", seconds: timing.directoryOperation)
            : StepOutcome(status: .failed, evidence: "\(p.name.name) reads \(raw), expected \(p.raw(expect) ?? expect)",
                          seconds: timing.directoryOperation)
    }

    /// The `maildir-superset` verdict on two censuses.
    func supersetOutcome(old oldCensus: MaildirCensus, new newCensus: MaildirCensus) -> StepOutcome {
        let d = oldCensus.difference(to: newCensus)
        let seconds = Double(oldCensus.messageCount + newCensus.messageCount) * timing.latency
        if !d.missing.isEmpty || !d.differentContent.isEmpty {
            return StepOutcome(status: .failed, evidence: "\(d.missing.count) messages missing, \(d.differentContent.count) differing (first: \((d.missing + d.differentContent).first!))",
                               seconds: seconds)
        }
        return StepOutcome(status: .done, evidence: "\(oldCensus.messageCount) messages of the old Maildir in the new one (SHA-256), \(newCensus.messageCount) there in all",
                           seconds: seconds)
    }

    /// The entry of the user with this address, in the directory of a
    /// per-set redirect point.
    public func user(withAddress address: String) throws -> (RedirectPoint, Entry)? {
        for p in plan.redirects where p.isPerSet {
            guard let directory = try directory(p.at.name),
                  let base = plan.element(p.at.name)?.parameters["base"]?.template?.description else { continue }
            let filter = LDAPFilter.equality("mail", AttributeValue(address))
            if let entry = try? directory.search(base: try dn(base), filter: filter).first { return (p, entry) }
        }
        return nil
    }

    /// Where a user's mailbox is now: the store their redirect value routes
    /// to, and the path relative to its root.
    /// When `uid` is the key of the set member being migrated, its entry is
    /// read by DN: a search per gate would make a run quadratic in users.
    public func mailbox(ofUser uid: String, member: SetMember? = nil) throws -> (String, String)? {
        for p in plan.redirects where p.isPerSet {
            if let member, member.key == uid, let text = member.dn, let directory = try directory(p.at.name),
               let entry = try directory.entry(try dn(text)),
               let set = p.per.flatMap({ plan.set($0.name) }), entry.first(set.key.name) == uid {
                return try mailbox(of: entry, point: p)
            }
            guard let directory = try directory(p.at.name),
                  let base = plan.element(p.at.name)?.parameters["base"]?.template?.description,
                  let set = p.per.flatMap({ plan.set($0.name) }),
                  let entry = try? directory.search(base: try dn(base), filter: .equality(set.key.name, AttributeValue(uid))).first
            else { continue }
            return try mailbox(of: entry, point: p)
        }
        return nil
    }

    public func mailbox(of entry: Entry, point p: RedirectPoint) throws -> (String, String)? {
        guard let set = p.per.flatMap({ plan.set($0.name) }), let attribute = p.attribute,
              let raw = entry.first(attribute),
              let value = p.values.first(where: { $0.raw.lowercased() == raw.lowercased() }),
              let store = p.route(value.name.name)?.name,
              let field = set.fields.first(where: { if case .path = $0.type { true } else { false } }),
              case .path(let under) = field.type,
              let path = entry.first(field.attribute), let relative = relativePath(path, under: under.name)
        else { return nil }
        return (store, relative)
    }

}

extension MaildirCensus {
    /// An empty census (an old Maildir that does not exist holds nothing).
    func emptied() -> MaildirCensus {
        var c = self
        c.messages = [:]
        return c
    }
}
