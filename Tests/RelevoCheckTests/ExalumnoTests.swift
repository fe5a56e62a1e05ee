import Testing
import RelevoBasics
@testable import RelevoCheck

@Suite struct ExalumnoTests {
    @Test func bundledPlanChecksClean() throws {
        let result = check(try exalumnoText())
        #expect(result.diagnostics.isEmpty, "\(describe(result.diagnostics))")
        #expect(result.graph?.phaseOrder == ["directory", "rehearsal", "switch-mx", "users"])
    }
}
