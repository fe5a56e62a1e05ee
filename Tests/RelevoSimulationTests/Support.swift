import Foundation
import RelevoCheck
import RelevoEngine
import RelevoJournal
import RelevoPlan
import RelevoOperations
import RelevoSimulation

let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let bundledPlan = repositoryRoot.appendingPathComponent("plans/exalumno.yaml")

/// A temporary folder, removed when the value goes away.
final class TempFolder {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-sim-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

struct SimulationRun {
    var summary: RunSummary
    var journal: String
    var scratch: URL
}

/// Runs the bundled plan in-process with the simulation environment.
func simulate(journal: String, inject: [String] = [], seed: UInt64 = 1, approvals: ApprovalPolicy = .all,
              planText: String? = nil) async throws -> SimulationRun {
    let text = try planText ?? String(contentsOf: bundledPlan, encoding: .utf8)
    let loaded = PlanLoader.load(text: text, file: bundledPlan.path)
    let result = Checker.check(loaded, baseDirectory: bundledPlan.deletingLastPathComponent().path)
    guard let plan = result.plan, let graph = result.graph, !result.hasErrors else {
        throw BindError(message: "plan has errors: \(result.diagnostics.map(\.summary))")
    }
    var faults = FaultPlan(seed: seed)
    for spec in inject { try faults.add(spec) }
    let scratch = URL(fileURLWithPath: journal + ".scratch")
    let env = try SimulatedEnvironment(plan: plan, scratch: scratch, fixtureBase: repositoryRoot.appendingPathComponent("examples/exalumno"),
                                       faults: faults)
    let store = try SQLiteJournal(path: journal)
    _ = try store.open(run: RunInfo(mode: "simulate", planName: plan.name, planDigest: "test", startedAt: Date(),
                                    seed: seed, holder: "test:\(getpid())"))
    let engine = Engine(plan: plan, graph: graph, environment: env, journal: store,
                        options: EngineOptions(approvals: approvals, hooks: env.hooks))
    let summary = try await engine.run()
    try store.close()
    return SimulationRun(summary: summary, journal: journal, scratch: scratch)
}

/// `relevo` built next to the tests (scripts/test builds it first).
func relevoBinary() -> String {
    repositoryRoot.appendingPathComponent(".build/debug/relevo").path
}

@discardableResult
func runRelevo(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: relevoBinary())
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// The directory attribute `attribute` of every entry, from the scratch
/// directory (base LDIF plus change log), by uid.
func attributes(_ attribute: String, scratch: URL, element: String = "directory") throws -> [String: String] {
    let base = try String(contentsOf: scratch.appendingPathComponent("directories/\(element).ldif"), encoding: .utf8)
    let changes = try String(contentsOf: scratch.appendingPathComponent("directories/\(element).changes.ldif"), encoding: .utf8)
    var values: [String: String] = [:]
    var uid: String?
    for line in (base + "\n" + changes).split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("dn: uid=") {
            uid = String(line.dropFirst(8).prefix { $0 != "," })
        } else if line.hasPrefix("dn:") {
            uid = nil
        } else if let u = uid, line.hasPrefix("\(attribute): ") {
            values[u] = String(line.dropFirst(attribute.count + 2))
        }
    }
    return values
}

/// Every file under `folder`, relative path → bytes.
func tree(_ folder: URL) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let e = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return out }
    for case let url as URL in e where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
        out[String(url.path.dropFirst(folder.path.count + 1))] = try? Data(contentsOf: url)
    }
    return out
}

/// Opens a journal written by `simulate` again, to read it.
func reopen(_ path: String) throws -> SQLiteJournal {
    let j = try SQLiteJournal(path: path)
    _ = try j.open(run: RunInfo(mode: "simulate", planName: "", planDigest: "test", startedAt: Date(), seed: 0,
                                holder: "reader:\(getpid())"))
    return j
}
