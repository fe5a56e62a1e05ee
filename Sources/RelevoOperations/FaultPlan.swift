import RelevoEngine

/// Faults injected into a dry run with `--inject SPEC` (repeatable).
///
/// Grammar (docs/simulation.md):
///
///     SPEC   = TARGET [ "@" SETS ] "=" FAULT
///     TARGET = OPERATION | PHASE "." OPERATION        copy, users.copy, dns-mx
///     SETS   = KEY | "#" INDEX | PERCENT "%"          ceres, #5 (run order, from 0), 10%
///     FAULT  = "fail" | "timeout" | "partial" | "crash"
///
/// `fail` makes the step or gate fail; `timeout` fails it after its
/// timeout has been charged on the virtual clock; `partial` makes a copy
/// stop half way (then fail); `crash` kills the process with SIGKILL right
/// after the step's effect, before its result is journaled. A percentage
/// picks sets by a hash of the seed and the set's key: the same seed picks
/// the same sets.
public struct FaultPlan: Sendable, Equatable {
    public enum Fault: String, Sendable, CaseIterable { case fail, timeout, partial, crash }
    public enum Sets: Sendable, Equatable {
        case all
        case key(String)
        case index(Int)
        case percent(Double)
    }
    public struct Rule: Sendable, Equatable {
        public var phase: String?
        public var operation: String
        public var sets: Sets
        public var fault: Fault
    }

    public var rules: [Rule] = []
    public var seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var spec: String
        public var message: String
        public var description: String { "--inject '\(spec)': \(message)" }
    }

    /// Parses one `--inject` value.
    public mutating func add(_ spec: String) throws {
        guard let eq = spec.lastIndex(of: "=") else {
            throw ParseError(spec: spec, message: "expected TARGET[@SETS]=FAULT, e.g. copy@ceres=fail")
        }
        let faultText = String(spec[spec.index(after: eq)...])
        guard let fault = Fault(rawValue: faultText) else {
            throw ParseError(spec: spec, message: "unknown fault '\(faultText)'; faults: "
                             + Fault.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var target = String(spec[..<eq])
        var sets = Sets.all
        if let at = target.firstIndex(of: "@") {
            let s = String(target[target.index(after: at)...])
            target = String(target[..<at])
            if s.hasPrefix("#") {
                guard let i = Int(s.dropFirst()), i >= 0 else { throw ParseError(spec: spec, message: "'\(s)' is not #INDEX") }
                sets = .index(i)
            } else if s.hasSuffix("%") {
                guard let p = Double(s.dropLast()), p >= 0, p <= 100 else {
                    throw ParseError(spec: spec, message: "'\(s)' is not a percentage from 0% to 100%")
                }
                sets = .percent(p)
            } else {
                guard !s.isEmpty, !s.contains(where: { $0.isWhitespace || $0 == "=" || $0 == "@" }) else {
                    throw ParseError(spec: spec, message: "'\(s)' is not a set key")
                }
                sets = .key(s)
            }
        }
        var phase: String?
        if let dot = target.firstIndex(of: ".") {
            phase = String(target[..<dot])
            target = String(target[target.index(after: dot)...])
        }
        guard !target.isEmpty, phase.map({ !$0.isEmpty }) ?? true else {
            throw ParseError(spec: spec, message: "name a step or gate: OPERATION or PHASE.OPERATION")
        }
        if fault == .partial && target != "copy" {
            throw ParseError(spec: spec, message: "'partial' applies to copy steps only")
        }
        rules.append(Rule(phase: phase, operation: target, sets: sets, fault: fault))
    }

    /// The fault, if any, for this step of this member.
    public func fault(for key: StepKey, memberIndex: Int) -> Fault? {
        for rule in rules where rule.operation == key.operation && (rule.phase == nil || rule.phase == key.phase) {
            switch rule.sets {
            case .all: return rule.fault
            case .key(let k) where k == key.set: return rule.fault
            case .index(let i) where i == memberIndex && key.set != nil: return rule.fault
            case .percent(let p) where key.set != nil:
                if Double(Self.hash(seed, key.set!) % 10_000) < p * 100 { return rule.fault }
            default: continue
            }
        }
        return nil
    }

    /// FNV-1a of the seed and the key: stable across runs and platforms.
    static func hash(_ seed: UInt64, _ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for b in key.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
