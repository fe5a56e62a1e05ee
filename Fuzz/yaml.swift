// Fuzz target: the YAML loader (RelevoYAML.YAMLParser on libyaml).
// Any input must give a tree or diagnostics, never a trap, a leak or a hang.
import RelevoBasics
import RelevoYAML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // Small limits as well as the default ones, so the fuzzer reaches the
    // limit checks (alias, depth, scalar size) with short inputs.
    let small = YAMLLimits(maxDocumentBytes: 4096, maxDepth: 8, maxAliases: 8, maxExpandedNodes: 64, maxScalarBytes: 64)
    for limits in [YAMLLimits.default, small] {
        let document = YAMLParser.parse(text, file: "fuzz.yaml", limits: limits)
        // Every diagnostic points into the document (line 1 at least).
        for diagnostic in document.diagnostics {
            guard let range = diagnostic.range else { preconditionFailure("diagnostic without a position: \(diagnostic)") }
            precondition(range.start.line >= 1 && range.start.column >= 1, "diagnostic at \(range)")
        }
    }
    return 0
}
