import Foundation
import RelevoBasics
import RelevoPlan

extension CheckPass {
    /// Pass 6: a step that changes live state has an inverse, or its phase
    /// says what happens on failure.
    mutating func safety() {
        for phase in plan.phases where phase.onFailure == nil {
            for step in phase.steps {
                guard let op = step.spec, op.changesLiveState, op.inverse == nil else { continue }
                report(Codes.noInverse, "'\(op.name)' cannot be undone and phase '\(phase.name.name)' has no 'on-failure'",
                       at: step.operation.range,
                       help: "add `on-failure: { undo: true, notify: ..., then: halt }` to the phase")
            }
        }
    }

    /// Pass 7: the fixture files a dry run reads exist.
    mutating func fixtures(base planFolder: String) {
        guard let fx = plan.fixtures else { return }
        var base = planFolder
        if let folder = fx.folder {
            base = folder.path.hasPrefix("/") ? folder.path : (planFolder as NSString).appendingPathComponent(folder.path)
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory) || !isDirectory.boolValue {
                report(Codes.fixtureMissing, "fixture folder '\(folder.path)' does not exist", at: folder.range,
                       help: "'folder' is relative to the plan's folder; write one with `relevo fixtures synth -o DIR`")
                return
            }
        }
        var paths: [(String, SourceRange)] = []
        if let d = fx.directory { paths.append((d.path, d.range)) }
        for (host, path) in fx.hosts { paths.append((path, host.range)) }
        for (element, path) in fx.directories { paths.append((path, element.range)) }
        for (path, range) in paths {
            let full = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
            if !FileManager.default.fileExists(atPath: full) {
                report(Codes.fixtureMissing, "fixture '\(path)' does not exist", at: range,
                       help: fx.folder == nil ? "paths are relative to the plan's folder"
                           : "paths are relative to the fixtures' 'folder'")
            }
        }
    }
}
