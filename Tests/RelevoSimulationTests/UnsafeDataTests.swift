import RelevoOperations
import Testing

/// What the set listing refuses in directory data, and how it shows a
/// refused value (docs/security.md).
@Suite struct UnsafeDataTests {
    @Test(arguments: [("-rf", "key '-rf' starts with '-'"), ("--help", "key '--help' starts with '-'"),
                      ("..", "key '..' is not a single name"), ("a/b", "key 'a/b' is not a single name"),
                      ("new\nline", "key contains a control character"), ("nul\u{0}", "key contains a control character"),
                      ("del\u{7f}", "key contains a control character"), ("", "no key")])
    func unsafeKeysAreRefused(_ key: String, _ reason: String) {
        #expect(PlanEnvironment.keyProblem(key) == reason)
    }

    @Test(arguments: ["ceres", "$(touch x)", "*)(uid=*", "a,uid=admin", "#hash", "back\\slash", "sp ace", "é"])
    func metacharactersAreData(_ key: String) {
        #expect(PlanEnvironment.keyProblem(key) == nil)
    }

    @Test func controlCharactersAreShownEscapedAndNothingElseChanges() {
        #expect(PlanEnvironment.shown("a\nb\u{0}c\rd\te\u{1b}[31m\u{7f}") == "a\\nb\\0c\\rd\\te\\u{1b}[31m\\u{7f}")
        #expect(PlanEnvironment.shown("plain/é \\ ok") == "plain/é \\ ok")
        #expect(!PlanEnvironment.hasControlCharacter(PlanEnvironment.shown("x\ny\u{0}")))
        #expect(PlanEnvironment.hasControlCharacter("/srv/new\nline/") && !PlanEnvironment.hasControlCharacter("/srv/ceres/"))
    }
}
