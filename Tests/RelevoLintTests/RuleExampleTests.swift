import RelevoBasics
import RelevoLint
import Testing

/// The examples of every rule's description are complete plans that check
/// cleanly, and the rule reports on exactly the triggering ones.
@Suite struct RuleExampleTests {
    @Test(arguments: allRuleIDs)
    func examplesCheckWithoutErrors(_ id: String) {
        let d = rule(id).description
        #expect(!d.triggering.isEmpty && !d.nonTriggering.isEmpty)
        for example in d.triggering + d.nonTriggering {
            let linted = Linted(example)
            #expect(linted.result.plan != nil)
            #expect(linted.errors.isEmpty, "\(id) example has errors:\n\(describe(linted.errors))\n\(example)")
            #expect(example.hasPrefix("relevo: 1\n"))
        }
    }

    @Test(arguments: allRuleIDs)
    func triggeringExamplesTrigger(_ id: String) {
        for example in rule(id).description.triggering {
            let found = Linted(example).findings(id)
            #expect(!found.isEmpty, "\(id) reports nothing on:\n\(example)")
            for f in found {
                #expect(f.severity == .warning)
                #expect(f.name == rule(id).description.name)
                #expect(f.help != nil)
                #expect(f.range != nil)
            }
        }
    }

    @Test(arguments: allRuleIDs)
    func nonTriggeringExamplesDoNot(_ id: String) {
        for example in rule(id).description.nonTriggering {
            let found = Linted(example).findings(id)
            #expect(found.isEmpty, "\(id) reports on its non-triggering example:\n\(describe(found))\n\(example)")
        }
    }

    /// The first non-triggering example is the one docs/rules.md shows as
    /// the good plan: no rule at all reports on it.
    @Test(arguments: allRuleIDs)
    func firstNonTriggeringExampleIsClean(_ id: String) throws {
        let example = try #require(rule(id).description.nonTriggering.first)
        let linted = Linted(example)
        #expect(linted.findings.isEmpty, "\(id): \(describe(linted.findings))")
    }
}

@Suite struct RegistryTests {
    @Test func sortedByID() {
        #expect(allRuleIDs == allRuleIDs.sorted())
    }

    @Test func idsAndNamesAreUnique() {
        let names = LintRegistry.rules.map { $0.description.name }
        #expect(Set(allRuleIDs).count == allRuleIDs.count)
        #expect(Set(names).count == names.count)
        #expect(Set(allRuleIDs).isDisjoint(with: names))
    }

    @Test func idsAndNamesAreWellFormed() {
        for r in LintRegistry.rules {
            let d = r.description
            #expect(d.id.count == 4 && d.id.hasPrefix("L") && d.id.dropFirst().allSatisfy(\.isNumber), "\(d.id)")
            #expect(d.name.allSatisfy { $0.isLowercase || $0 == "-" }, "\(d.name)")
            #expect(d.severity == .warning)
        }
    }

    @Test func lookupByIDOrName() {
        #expect(LintRegistry.rule(named: "L001")?.description.name == "no-canary")
        #expect(LintRegistry.rule(named: "l001")?.description.name == "no-canary")
        #expect(LintRegistry.rule(named: "no-canary")?.description.id == "L001")
        #expect(LintRegistry.rule(named: "E020") == nil)
    }
}
