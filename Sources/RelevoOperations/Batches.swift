import RelevoEngine
import RelevoStore

/// Steps and gates done for a whole batch of sets at once (a phase's
/// `batch:`), where one operation can serve many members: the census of
/// `maildir-superset` (one listing and one hashing request per side for all
/// the batch's Maildirs), `chown` (one listing, one ownership request per
/// owner) and a first `copy` (one listing of the sources, one read of
/// their messages). Each member's
/// outcome is the one its own step would give; everything else is done
/// member by member.
extension PlanEnvironment {
    public func perform(batch: [(step: BoundStep, prepared: [String: String])]) async -> [Result<StepOutcome, any Error>] {
        if appliesOwnership, batch.count > 1, batch.allSatisfy({ $0.step.operation.name == "chown" }) {
            return chownBatch(batch.map(\.step))
        }
        if batch.count > 1, batch.allSatisfy({ $0.step.operation.name == "copy" }) {
            return copyBatch(batch.map(\.step))
        }
        var results: [Result<StepOutcome, any Error>] = []
        for (step, prepared) in batch {
            do { results.append(.success(try await perform(step, prepared: prepared))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    public func gate(batch: [BoundStep]) async -> [Result<StepOutcome, any Error>] {
        if batch.count > 1, batch.allSatisfy({ $0.operation.name == "maildir-superset" }) {
            return supersetBatch(batch)
        }
        var results: [Result<StepOutcome, any Error>] = []
        for step in batch {
            do { results.append(.success(try await gate(step))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    private func supersetBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>] {
        struct Pair { var new, old: StoreLocation; var oldExists: Bool }
        // What each member's own gate checks first, in the same order.
        var results: [Result<StepOutcome, any Error>?] = Array(repeating: nil, count: steps.count)
        var pairs: [Int: Pair] = [:]
        for (i, step) in steps.enumerated() {
            do {
                try applyFault(step)
                let new = try location(step["new"]), old = try location(step["old"])
                guard try new.exists() else {
                    results[i] = .success(StepOutcome(status: .failed, evidence: "\(new.relative) does not exist", seconds: timing.latency))
                    continue
                }
                pairs[i] = Pair(new: new, old: old, oldExists: try old.exists())
            } catch {
                results[i] = .failure(error)
            }
        }
        let order = pairs.keys.sorted()
        let news = MaildirCensus.scanMany(order.map { pairs[$0]!.new })
        let withOld = order.filter { pairs[$0]!.oldExists }
        let olds = Dictionary(uniqueKeysWithValues: zip(withOld, MaildirCensus.scanMany(withOld.map { pairs[$0]!.old })))
        for (i, newResult) in zip(order, news) {
            do {
                let newCensus = try newResult.get()
                let oldCensus = try olds[i].map { try $0.get() } ?? newCensus.emptied()
                results[i] = .success(supersetOutcome(old: oldCensus, new: newCensus))
            } catch {
                results[i] = .success(StepOutcome(status: .failed, evidence: "census refused: \(error)", seconds: timing.latency))
            }
        }
        return results.map { $0! }
    }

    /// Single-pass Maildir copies (a first copy; not `until: stable`, whose
    /// every pass must see the stores as they are then) share one listing
    /// of their sources and one read of a first copy's messages
    /// (`MaildirCopier.copyMany`); every other copy runs as it would alone.
    private func copyBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>] {
        var plans: [Result<CopyPlan, any Error>] = []
        for step in steps {
            plans.append(Result { try applyFault(step); return try copyPlan(step) })
        }
        let shared = plans.indices.filter { i in
            guard case .success(let plan) = plans[i] else { return false }
            return plan.maildir && !plan.stable
        }
        let copied = MaildirCopier.copyMany(shared.map { i in
            let plan = try! plans[i].get()
            return MaildirCopier(from: plan.from, to: plan.to, options: plan.options)
        })
        let byIndex = Dictionary(uniqueKeysWithValues: zip(shared, copied))
        return zip(steps, plans).enumerated().map { i, item in
            let (step, planned) = item
            return Result {
                let plan = try planned.get()
                if let result = byIndex[i] { return try copyOutcome(step, plan) { [try result.get()] } }
                return try copyOutcome(step, plan, passes: plan.run)
            }
        }
    }

    private func chownBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>] {
        var results: [Result<StepOutcome, any Error>?] = Array(repeating: nil, count: steps.count)
        var items: [(index: Int, location: StoreLocation, owner: Owner, text: String)] = []
        for (i, step) in steps.enumerated() {
            do {
                try applyFault(step)
                let location = try location(step["path"])
                guard try location.exists() else { throw StepFailure("\(location.relative) does not exist") }
                let text = chownOwnerText(step)
                items.append((i, location, try chownOwner(location, text), text))
            } catch {
                results[i] = .failure(error)
            }
        }
        for (item, report) in zip(items, Ownership.changeMany(items.map { ($0.location, $0.owner) })) {
            switch report {
            case .success(let report): results[item.index] = .success(chownOutcome(report, item.text))
            case .failure(let error as StoreError): results[item.index] = .failure(StepFailure("chown \(item.location.relative): \(error)"))
            case .failure(let error): results[item.index] = .failure(error)
            }
        }
        return results.map { $0! }
    }
}
