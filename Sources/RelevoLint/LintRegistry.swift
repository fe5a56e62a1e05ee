/// Every lint rule Relevo knows, sorted by ID. IDs and names are stable and
/// unique (tested); a new rule takes the next free ID.
public enum LintRegistry {
    public static let rules: [any LintRule.Type] = [
        NoCanary.self,                     // L001
        NoFinalGate.self,                  // L002
        GlobalSwitchBeforeRehearsal.self,  // L003
        UnusedNotify.self,                 // L004
        MostActiveFirst.self,              // L005
        ConcurrencyAboveHostLimit.self,    // L006
        GateCannotFail.self,               // L007
        ShallowCompareUnproven.self,       // L008
        MailCutoverOrder.self,             // L009
    ]

    /// The rule with this ID (`L001`) or name (`no-canary`), case-insensitively.
    public static func rule(named text: String) -> (any LintRule.Type)? {
        let key = text.lowercased()
        return rules.first { $0.description.id.lowercased() == key || $0.description.name == key }
    }

    /// Every ID and name, for "did you mean" hints.
    public static var allNames: [String] { rules.flatMap { [$0.description.id, $0.description.name] } }
}
