// Fuzz target: the --inject grammar (RelevoOperations.FaultPlan). Any spec
// must be added as one rule or refused with a ParseError, never trap.
import RelevoEngine
import RelevoOperations

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var plan = FaultPlan(seed: 42)
    do {
        try plan.add(text)
    } catch {
        precondition(plan.rules.isEmpty, "a refused spec added a rule")
        return 0
    }
    precondition(plan.rules.count == 1)
    let rule = plan.rules[0]
    for set in [nil, "ceres", "", text] as [String?] {
        let key = StepKey(phase: rule.phase ?? "users", set: set, index: 0, operation: rule.operation)
        for index in [0, 5, Int.max] { _ = plan.fault(for: key, memberIndex: index) }
    }
    return 0
}
