import Foundation
import Testing
@testable import RelevoOperations

/// `ldif-transform`'s patterns: the ASCII search finds the literal where
/// Foundation's `range(of:)` finds it, and the captures are the same.
@Suite struct LDIFTransformTests {
    @Test func capturesTheQuotaParts() {
        #expect(LDIFTransform.match("{size}S,{count}C", "10000000S,5000000C") == ["size": "10000000", "count": "5000000"])
        #expect(LDIFTransform.match("{size}S,{count}C", "10000000S5000000C") == nil)
        #expect(LDIFTransform.match("{size}S,{count}C", "S,5C") == nil)
        #expect(LDIFTransform.match("{a}-{b}", "x-y-z") == ["a": "x", "b": "y-z"])
        #expect(LDIFTransform.match("{a}ñ{b}", "camión ñandú") == ["a": "camión ", "b": "andú"])
    }

    @Test func theASCIISearchFindsWhatRangeOfFinds() {
        let texts: [Substring] = ["", "a", "abcabc", "S,5C", "10S,20C", "xx--yy", "aaaab", "ñandú", "a\u{301}b"]
        let literals: [Substring] = ["a", "b", "bc", "S,", "C", "--", "aab", "z", "ñ", "ú"]
        for text in texts {
            for literal in literals {
                if let found = LDIFTransform.firstASCII(literal, in: text) {
                    #expect(found == text.range(of: literal)?.lowerBound, "\(literal) in \(text)")
                } else if literal.utf8.allSatisfy({ $0 < 0x80 }) && text.utf8.allSatisfy({ $0 < 0x80 }) {
                    #expect(text.range(of: literal) == nil, "\(literal) in \(text)")
                }
            }
        }
    }
}
