import Foundation
import RelevoCheck
import RelevoEngine
import RelevoPlan

/// A journal in memory, for unit tests of the engine's logic only (the
/// SQLite journal has its own tests and is what runs use).
final class MemoryJournal: JournalStore, @unchecked Sendable {
    private let lock = NSLock()
    var run: RunInfo?
    var steps: [StepKey: StepRecord] = [:]
    var order: [StepKey] = []
    var sets: [String: [(set: String?, state: SetState, detail: String?)]] = [:]
    var log: [EngineEvent] = []
    var approved: [String] = []
    /// The keys of each `recordIntents` / `recordResults` call, in order.
    var intentWrites: [[StepKey]] = []
    var resultWrites: [[StepKey]] = []

    func open(run: RunInfo) throws -> RunInfo { lock.withLock { self.run = self.run ?? run; return self.run! } }
    func close() throws {}
    func recordIntent(_ key: StepKey, detail: String) throws {
        lock.withLock {
            if steps[key] == nil { order.append(key) }
            steps[key] = StepRecord(key: key, detail: detail, outcome: nil)
        }
    }
    func recordResult(_ key: StepKey, outcome: StepOutcome) throws {
        lock.withLock { steps[key]?.outcome = outcome }
    }
    func recordIntents(_ intents: [(key: StepKey, detail: String)]) throws {
        lock.withLock { intentWrites.append(intents.map(\.key)) }
        for intent in intents { try recordIntent(intent.key, detail: intent.detail) }
    }
    func recordResults(_ results: [(key: StepKey, outcome: StepOutcome)]) throws {
        lock.withLock { resultWrites.append(results.map(\.key)) }
        for result in results { try recordResult(result.key, outcome: result.outcome) }
    }
    func records(phase: String, set: String?) throws -> [StepRecord] {
        lock.withLock {
            order.filter { $0.phase == phase && $0.set == set }.compactMap { steps[$0] }
                .sorted { ($0.key.undo ? 1 : 0, $0.key.index) < ($1.key.undo ? 1 : 0, $1.key.index) }
        }
    }
    func setState(phase: String, set: String?, _ state: SetState, detail: String?) throws {
        lock.withLock {
            var list = sets[phase] ?? []
            if let i = list.firstIndex(where: { $0.set == set }) {
                list[i] = (set, state, detail ?? list[i].detail)
            } else {
                list.append((set, state, detail))
            }
            sets[phase] = list
        }
    }
    func setStates(phase: String, _ states: [(set: String, state: SetState, detail: String?)]) throws {
        for entry in states { try setState(phase: phase, set: entry.set, entry.state, detail: entry.detail) }
    }

    func setStates(phase: String) throws -> [(set: String?, state: SetState, detail: String?)] {
        lock.withLock { sets[phase] ?? [] }
    }
    func append(_ event: EngineEvent) throws { lock.withLock { log.append(event) } }
    func events() throws -> [EngineEvent] { lock.withLock { log } }
    func recordApproval(name: String, by: String) throws { lock.withLock { approved.append(name) } }
    func approvals() throws -> [String] { lock.withLock { approved } }
}

/// An environment of plain dictionaries: a redirect value per member, a set
/// of copied members, failures on demand. Each operation takes one second.
final class FakeEnvironment: Environment, @unchecked Sendable {
    private let lock = NSLock()
    var route: [String: String] = [:]          // member → redirect value name
    var copied: Set<String> = []
    var notified: [String] = []
    var failCopy: Set<String> = []
    var failGate: Set<String> = []
    var failPrepare: Set<String> = []
    var performed: [String] = []
    var preparedBatches: [[String]] = []
    let members: [SetMember]

    init(members: [String]) {
        self.members = members.map { SetMember(key: $0, fields: ["store": "\($0)/", "host": "old"]) }
        for m in members { route[m] = "old" }
    }

    func members(of set: SetSource, plan: Plan) async throws -> (members: [SetMember], refused: [(key: String, reason: String)]) {
        (members, [])
    }
    func prepare(_ step: BoundStep) async throws -> [String: String] {
        guard step.operation.name == "redirect", let key = step.member?.key else { return [:] }
        if lock.withLock({ failPrepare.contains(key) }) { throw StepFailure("cannot read \(key)'s route") }
        return lock.withLock { ["previous": route[key] ?? ""] }
    }
    func prepare(batch: [BoundStep]) async -> [Result<[String: String], any Error>] {
        lock.withLock { preparedBatches.append(batch.map { "\($0.operation.name) \($0.member?.key ?? "-")" }) }
        var results: [Result<[String: String], any Error>] = []
        for step in batch {
            do { results.append(.success(try await prepare(step))) } catch { results.append(.failure(error)) }
        }
        return results
    }
    func perform(_ step: BoundStep, prepared: [String: String]) async throws -> StepOutcome {
        let key = step.member?.key ?? "-"
        lock.withLock { performed.append("\(step.operation.name) \(key)") }
        switch step.operation.name {
        case "redirect":
            lock.withLock { route[key] = step["to"]?.string }
        case "copy":
            if lock.withLock({ failCopy.contains(key) }) {
                throw StepFailure("copy failed (injected)", partial: StepOutcome(status: .failed, seconds: 1))
            }
            lock.withLock { _ = copied.insert(key) }
        default: break
        }
        return StepOutcome(status: .done, bytes: 10, messages: 1, seconds: 1)
    }
    func isDone(_ step: BoundStep, prepared: [String: String]) async throws -> Bool {
        let key = step.member?.key ?? "-"
        switch step.operation.name {
        case "redirect": return lock.withLock { route[key] == step["to"]?.string }
        default: return false
        }
    }
    func undo(_ step: BoundStep, outcome: StepOutcome) async throws -> StepOutcome {
        let key = step.member?.key ?? "-"
        lock.withLock {
            performed.append("undo \(step.operation.name) \(key)")
            switch step.operation.name {
            case "redirect": route[key] = outcome.undo["previous"]
            case "copy": copied.remove(key)
            default: break
            }
        }
        return StepOutcome(status: .done, seconds: 1)
    }
    func gate(_ step: BoundStep) async throws -> StepOutcome {
        let key = step.member?.key ?? "-"
        if lock.withLock({ failGate.contains(key) }) { return StepOutcome(status: .failed, evidence: "gate says no", seconds: 1) }
        return StepOutcome(status: .done, evidence: "ok", seconds: 1)
    }
    func notify(_ target: NotifyTarget, message: String) async throws -> Double {
        lock.withLock { notified.append(message) }
        return 0
    }
}

func checkedPlan(_ text: String) throws -> (Plan, PlanGraph) {
    let result = Checker.check(PlanLoader.load(text: text, file: "t.yaml"), baseDirectory: nil)
    guard !result.hasErrors, let plan = result.plan, let graph = result.graph else {
        throw BindError(message: result.diagnostics.map(\.summary).joined(separator: "; "))
    }
    return (plan, graph)
}

func plan(onFailure: String = "{ undo: true, notify: ops, then: halt }", canary: Int = 0, concurrency: Int = 1,
          batch: Int = 1) -> String {
    """
    relevo: 1
    plan: fake
    hosts:
      old: { address: old.example }
      new: { address: new.example }
    elements:
      directory: { kind: ldap, url: "ldap://dir.example", base: "dc=example" }
      store-old: { kind: maildir-store, on: old, root: /srv/mail }
      store-new: { kind: maildir-store, on: new, root: /srv/mail }
      smtp-new: { kind: smtp, on: new, port: 25 }
    redirects:
      mailhost:
        at: directory
        attribute: mailHost
        per: users
        values: { old: old.example, new: new.example }
        routes: { old: store-old, new: store-new }
    flows:
      inbound: [smtp-new, mailhost]
    sets:
      users:
        from: directory
        key: uid
        fields:
          store: { attribute: mailMessageStore, type: path, under: store-old }
          host: { attribute: mailHost, type: redirect, point: mailhost }
    phases:
      - name: switch
        steps:
          - approve: { name: go, message: "go" }
      - name: users
        for-each: users
        where: host == old
        canary: \(canary)
        concurrency: \(concurrency)
        batch: \(batch)
        steps:
          - redirect: { point: mailhost, to: new }
          - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
        gates:
          - maildir-superset: { new: "store-new:${store}", old: "store-old:${store}" }
        on-failure: \(onFailure)
    notify:
      ops: { via: smtp-new, to: ops@example.org }
    """
}
