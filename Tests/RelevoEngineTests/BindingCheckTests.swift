import Testing
@testable import RelevoEngine

/// A path field's value and a bound store path are refused for the same
/// characters as before their check read bytes: NUL and LF anywhere, even
/// inside a CR LF pair or next to non-ASCII text.
@Suite struct BindingCheckTests {
    @Test(arguments: ["a\u{0}b", "a\nb", "a\r\nb", "\n", "é\n", "ñandú\u{0}", "x/\n/y"])
    func controlCharactersAreRefused(_ value: String) {
        #expect(throws: BindError.self) { try Binder.checkSegmentValue(value, field: "store") }
    }

    @Test(arguments: ["ceres", "ceres/", "a.b", "ñandú", "a\rb", "a\tb"])
    func otherValuesPass(_ value: String) throws {
        try Binder.checkSegmentValue(value, field: "store")
    }

    @Test func storePathsWithNULAreRefused() throws {
        #expect(throws: BindError.self) { try Binder.checkRelative("ceres\u{0}") }
        #expect(throws: BindError.self) { try Binder.checkRelative("a\r\n\u{0}") }
        try Binder.checkRelative("ceres/cur")
    }
}
