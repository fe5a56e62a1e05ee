import RelevoBasics
import RelevoStore
import Testing

/// A relative path's components are split on bytes when it is ASCII: the
/// same components and refusals as the split on characters, on chosen and
/// random paths; other text is split on characters as before.
@Suite struct RelativeComponentsTests {
    static func characterSplit(_ relative: String) -> [String] {
        relative.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    @Test func asciiPathsSplitAsCharactersDo() {
        var rng = SplitMix64(seed: 21)
        let pieces = ["a", "b", "/", "//", ".", "..", "ceres", "cur", "\r", "\n", "\r\n", " ", "-", ".x"]
        var samples = ["ceres/", "./ceres", "a/./b//c/", "a/../b", "/abs", "", ".", "./", "x\r\n/y"]
        for _ in 0..<3000 {
            samples.append((0..<Int(rng.next() % 8)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined())
        }
        for relative in samples {
            let expected = Self.characterSplit(relative)
            do {
                let components = try StoreRoot.components(ofRelative: relative)
                #expect(components == expected, "\(relative)")
            } catch {
                #expect(relative.hasPrefix("/") || expected.isEmpty || expected.contains(".."), "\(relative): \(error)")
            }
        }
    }

    @Test func otherTextSplitsOnCharacters() throws {
        // A combining mark after '/' makes one character that is not '/'.
        #expect(try StoreRoot.components(ofRelative: "a/\u{301}b") == Self.characterSplit("a/\u{301}b"))
        #expect(try StoreRoot.components(ofRelative: "ñandú/cur") == ["ñandú", "cur"])
    }
}
