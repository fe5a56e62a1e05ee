// Fuzz target: the plan loader and the checker (RelevoCheck). Any text must
// give a plan and/or diagnostics, never a trap. No file is read: the
// fixtures pass (the only one touching the file system) is not run.
import RelevoBasics
import RelevoCheck

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let loaded = PlanLoader.load(text: text, file: "fuzz.yaml", environment: ["RELEVO_FUZZ": "value"])
    let result = Checker.check(loaded, baseDirectory: nil)
    // The renderer quotes the source line of each diagnostic: a range past
    // the end of the text must not make it trap.
    _ = DiagnosticRenderer(sources: [loaded.source]).render(result.diagnostics)
    return 0
}
