import RelevoDirectory
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
        if batch.count > 1, batch.allSatisfy({ $0.step.operation.name == "redirect" }),
           let results = redirectBatch(batch.map(\.step)) {
            return results
        }
        var results: [Result<StepOutcome, any Error>] = []
        for (step, prepared) in batch {
            do { results.append(.success(try await perform(step, prepared: prepared))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    /// A batch's per-set redirects of one point read their entries'
    /// current values together (`DirectoryAccess.entries`); anything else
    /// is prepared step by step.
    public func prepare(batch: [BoundStep]) async -> [Result<[String: String], any Error>] {
        if batch.count > 1, batch.allSatisfy({ $0.operation.name == "redirect" }),
           let values = pointValues(batch) {
            return values.map { $0.map { ["previous": $0 ?? ""] } }
        }
        var results: [Result<[String: String], any Error>] = []
        for step in batch {
            do { results.append(.success(try await prepare(step))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    public func gate(batch: [BoundStep]) async -> [Result<StepOutcome, any Error>] {
        if batch.count > 1, batch.allSatisfy({ $0.operation.name == "maildir-superset" }) {
            return supersetBatch(batch)
        }
        if batch.count > 1, batch.allSatisfy({ $0.operation.name == "redirect-is" }),
           let p = try? point(batch[0]["point"]?.string) {
            // Each gate's fault first, as its own gate meets it; then the
            // values of those still to read, together.
            let faults = batch.map { step in Result { try applyFault(step) } }
            let reading = batch.indices.filter { (try? faults[$0].get()) != nil }
            let values = reading.isEmpty ? [] : pointValues(reading.map { batch[$0] })
            if let values {
                var results = faults.map { $0.map { StepOutcome(status: .failed) } }
                for (i, value) in zip(reading, values) {
                    results[i] = value.map { redirectIsOutcome(p, expect: batch[i]["is"]?.string ?? "", raw: $0 ?? "") }
                }
                return results
            }
        }
        if batch.count > 1, batch.allSatisfy({ $0.operation.name == "remote-command" }),
           let results = remoteCommandBatch(batch) {
            return results
        }
        var results: [Result<StepOutcome, any Error>] = []
        for step in batch {
            do { results.append(.success(try await gate(step))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    /// A batch's per-set redirects of one point, applied together
    /// (`DirectoryAccess.applyMany`: on a live LDAP server one transaction
    /// for the batch, so one write instead of one per member); each
    /// member's outcome is the one its own redirect gives. nil when the
    /// steps switch different points or a global one.
    private func redirectBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>]? {
        guard let name = steps.first?["point"]?.string, steps.allSatisfy({ $0["point"]?.string == name }),
              let p = try? point(name), p.isPerSet, let attribute = p.attribute,
              let directory = try? directory(p.at.name) else { return nil }
        var results: [Result<StepOutcome, any Error>?] = Array(repeating: nil, count: steps.count)
        var changes: [(index: Int, record: LDIFChangeRecord, raw: String)] = []
        for (i, step) in steps.enumerated() {
            do {
                try applyFault(step)
                let value = step["to"]?.string ?? ""
                guard let raw = p.raw(value) else { throw StepFailure("'\(value)' is not a value of \(p.name.name)") }
                guard let dnText = step.member?.dn else { throw StepFailure("no entry to switch") }
                changes.append((i, LDIFChangeRecord(dn: try dn(dnText), change: .modify([.replace(attribute, [AttributeValue(raw)])])), raw))
            } catch {
                results[i] = .failure(error)
            }
        }
        for (change, applied) in zip(changes, directory.applyMany(changes.map(\.record))) {
            results[change.index] = applied.map {
                StepOutcome(status: .done, evidence: "\(attribute): \(change.raw)", seconds: timing.directoryOperation)
            }
        }
        return results.map { $0! }
    }

    /// The current raw values of one per-set redirect point for a batch's
    /// steps (each member's entry, read together): per step, the value
    /// (nil when the entry or the attribute is absent) or the read's
    /// error. nil when the steps name different points or a global one.
    private func pointValues(_ steps: [BoundStep]) -> [Result<String?, any Error>]? {
        guard let name = steps.first?["point"]?.string, steps.allSatisfy({ $0["point"]?.string == name }),
              let p = try? point(name), p.isPerSet, let attribute = p.attribute,
              let directory = try? directory(p.at.name) else { return nil }
        var results: [Result<String?, any Error>?] = Array(repeating: nil, count: steps.count)
        var reads: [(index: Int, dn: DistinguishedName)] = []
        for (i, step) in steps.enumerated() {
            guard let dnText = step.member?.dn else {
                results[i] = .success(nil)
                continue
            }
            do { reads.append((i, try dn(dnText))) } catch { results[i] = .failure(error) }
        }
        for (read, entry) in zip(reads, directory.entries(reads.map(\.dn))) {
            results[read.index] = entry.map { $0?.first(attribute) }
        }
        return results.map { $0! }
    }

    /// A batch's `remote-command` gates on one host in one request
    /// (`runCommands`), each judged as its own gate judges it; nil when they
    /// are on several hosts or the environment runs each alone.
    private func remoteCommandBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>]? {
        guard let host = steps.first?["on"]?.string, steps.allSatisfy({ $0["on"]?.string == host }) else { return nil }
        var results: [Result<StepOutcome, any Error>?] = Array(repeating: nil, count: steps.count)
        var runs: [(index: Int, argv: [String])] = []
        for (i, step) in steps.enumerated() {
            do {
                try applyFault(step)
                guard case .list(let items)? = step["run"] else {
                    results[i] = .success(StepOutcome(status: .failed, evidence: "incomplete \(step.operation.name)"))
                    continue
                }
                runs.append((i, items.compactMap(\.string)))
            } catch {
                results[i] = .failure(error)
            }
        }
        let answers: [HostCommandResult]
        do {
            guard let ran = try runCommands(runs.map(\.argv), on: host), ran.count == runs.count else { return nil }
            answers = ran
        } catch {
            for run in runs { results[run.index] = .failure(error) }
            return results.map { $0! }
        }
        for (run, answer) in zip(runs, answers) {
            results[run.index] = .success(commandOutcome(host: host, shown: run.argv.joined(separator: " "),
                                                         expected: expectedExit(steps[run.index], "run"), answer))
        }
        return results.map { $0! }
    }

    private func supersetBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>] {
        struct Pair { var new, old: StoreLocation; var oldExists: Bool }
        // What each member's own gate checks first, in the same order.
        var results: [Result<StepOutcome, any Error>?] = Array(repeating: nil, count: steps.count)
        var pairs: [Int: Pair] = [:]
        let faults = steps.map { step in Result { try applyFault(step) } }
        // Each side's path check lists its trees too, for the census below.
        let news = locationsExisting(steps.map { $0["new"] }, thenListed: true)
        let olds = locationsExisting(steps.map { $0["old"] }, thenListed: true)
        for i in steps.indices {
            do {
                try faults[i].get()
                let (new, newExists) = try news[i].get()
                let (old, oldExists) = try olds[i].get()
                guard newExists else {
                    results[i] = .success(StepOutcome(status: .failed, evidence: "\(new.relative) does not exist", seconds: timing.latency))
                    continue
                }
                pairs[i] = Pair(new: new, old: old, oldExists: oldExists)
            } catch {
                results[i] = .failure(error)
            }
        }
        let order = pairs.keys.sorted()
        let newCensuses = MaildirCensus.scanMany(order.map { pairs[$0]!.new })
        let withOld = order.filter { pairs[$0]!.oldExists }
        let oldCensuses = Dictionary(uniqueKeysWithValues: zip(withOld, MaildirCensus.scanMany(withOld.map { pairs[$0]!.old })))
        for (i, newResult) in zip(order, newCensuses) {
            do {
                let newCensus = try newResult.get()
                let oldCensus = try oldCensuses[i].map { try $0.get() } ?? newCensus.emptied()
                results[i] = .success(supersetOutcome(old: oldCensus, new: newCensus))
            } catch {
                results[i] = .success(StepOutcome(status: .failed, evidence: "census refused: \(error)", seconds: timing.latency))
            }
        }
        return results.map { $0! }
    }

    /// Maildir copies share their requests: single passes (a first copy)
    /// one listing of their sources and one read and one write of the first
    /// copies (`MaildirCopier.copyMany`), copies `until: stable` one listing
    /// of each side per pass (`MaildirCopier.copyManyUntilStable`); other
    /// copies run as they would alone.
    private func copyBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>] {
        let faults = steps.map { step in Result { try applyFault(step) } }
        // Each side's path check lists its trees too, for the copies' first pass.
        let froms = locationsExisting(steps.map { $0["from"] }, thenListed: true)
        let tos = locationsExisting(steps.map { $0["to"] }, thenListed: true)
        let plans: [Result<CopyPlan, any Error>] = steps.indices.map { i in
            Result {
                try faults[i].get()
                let (from, fromExists) = try froms[i].get()
                return try copyPlan(steps[i], from: from, to: try tos[i].get().location, fromExists: fromExists)
            }
        }
        func copier(_ i: Int) -> MaildirCopier {
            let plan = try! plans[i].get()
            return MaildirCopier(from: plan.from, to: plan.to, options: plan.options)
        }
        let maildirs = plans.indices.filter { (try? plans[$0].get())?.maildir == true }
        let single = maildirs.filter { try! !plans[$0].get().stable }
        var byIndex: [Int: Result<[CopyReport], any Error>] = [:]
        let exist = single.map { (try? tos[$0].get().exists) ?? true }
        for (i, result) in zip(single, MaildirCopier.copyMany(single.map(copier), destinationsExist: exist)) {
            byIndex[i] = result.map { [$0] }
        }
        // Copies until stable, together for those of the same pass limit.
        let stable = Dictionary(grouping: maildirs.filter { try! plans[$0].get().stable }) { try! plans[$0].get().maxPasses }
        for (maxPasses, indices) in stable {
            for (i, result) in zip(indices, MaildirCopier.copyManyUntilStable(indices.map(copier), maxPasses: maxPasses)) {
                byIndex[i] = result
            }
        }
        return zip(steps, plans).enumerated().map { i, item in
            let (step, planned) = item
            return Result {
                let plan = try planned.get()
                if let result = byIndex[i] { return try copyOutcome(step, plan) { try result.get() } }
                return try copyOutcome(step, plan, passes: plan.run)
            }
        }
    }

    private func chownBatch(_ steps: [BoundStep]) -> [Result<StepOutcome, any Error>] {
        var results: [Result<StepOutcome, any Error>?] = Array(repeating: nil, count: steps.count)
        var items: [(index: Int, location: StoreLocation, owner: Owner, text: String)] = []
        let faults = steps.map { step in Result { try applyFault(step) } }
        let paths = locationsExisting(steps.map { $0["path"] }, thenListed: true)
        for (i, step) in steps.enumerated() {
            do {
                try faults[i].get()
                let (location, exists) = try paths[i].get()
                guard exists else { throw StepFailure("\(location.relative) does not exist") }
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
