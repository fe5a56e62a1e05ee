import RelevoBasics

/// "Did you mean" for the command line: `Suggest.closest` (edit distance),
/// then a swap of two neighbouring letters (`grahp` → `graph`, which edit
/// distance counts as two edits), then a unique prefix (`expl` → `explain`).
enum DidYouMean {
    static func closest(to name: String, in candidates: [String]) -> String? {
        if let c = Suggest.closest(to: name, in: candidates) { return c }
        let lowered = name.lowercased()
        if let c = candidates.sorted().first(where: { isOneSwap(lowered, $0.lowercased()) }) { return c }
        let prefixed = candidates.filter { lowered.count >= 2 && $0.lowercased().hasPrefix(lowered) }
        return prefixed.count == 1 ? prefixed[0] : nil
    }

    /// `did you mean 'x'?`, with `decorate` applied to the candidate (`--x`).
    static func help(_ name: String, in candidates: [String], decorate: (String) -> String = { $0 }) -> String? {
        closest(to: name, in: candidates).map { "did you mean '\(decorate($0))'?" }
    }

    /// Whether `a` becomes `b` by swapping two neighbouring characters.
    static func isOneSwap(_ a: String, _ b: String) -> Bool {
        let x = Array(a), y = Array(b)
        guard x.count == y.count, x != y else { return false }
        let differing = x.indices.filter { x[$0] != y[$0] }
        guard differing.count == 2, differing[1] == differing[0] + 1 else { return false }
        return x[differing[0]] == y[differing[1]] && x[differing[1]] == y[differing[0]]
    }
}
