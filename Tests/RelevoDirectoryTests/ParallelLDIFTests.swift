import Testing
import RelevoBasics
@testable import RelevoDirectory

/// Records parsed by several threads (a large text) against one thread:
/// the same records with the same lines, and the same first error, on
/// seeded random LDIF with and without broken records.
@Suite struct ParallelLDIFTests {
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// `count` records: content records and change records, folded lines,
    /// base64 values, comments, a version line; `broken` record indexes get
    /// a line the reader refuses.
    func text(count: Int, seed: UInt64, broken: Set<Int>) -> String {
        var random = Random(state: seed)
        var out = random.next(2) == 0 ? "version: 1\n\n" : ""
        for i in 0..<count {
            let uid = "u\(i)x\(random.next(1000))"
            if random.next(5) == 0 { out += "# a comment\n" }
            out += "dn: uid=\(uid),ou=people,dc=example,dc=org\n"
            switch random.next(4) {
            case 0:
                out += "changetype: modify\nreplace: mailHost\nmailHost: h\(random.next(9)).example.org\n-\n"
            case 1:
                out += "changetype: add\nobjectClass: top\nobjectClass: qmailUser\nuid: \(uid)\nmail: \(uid)@example.org\n"
            default:
                out += "objectClass: top\nobjectClass: person\nuid: \(uid)\ncn: Person \(i)\nsn: \(random.next(100))\n"
                if random.next(3) == 0 { out += "description: a long value that is folded\n  onto a second line\n" }
                if random.next(4) == 0 { out += "jpegPhoto:: AAECAwQFBgc=\n" }
                if random.next(3) == 0 { out += "mailQuota: \(random.next(100000))S,\(random.next(1000))C\n" }
            }
            if broken.contains(i) {
                switch random.next(3) {
                case 0: out += "this line has no colon\n"
                case 1: out += "photo:< file:///etc/passwd\n"
                default: out += "dn: uid=again,dc=example,dc=org\n"
                }
            }
            out += "\n"
        }
        return out
    }

    func parse(_ text: String, threads: Int) -> Result<[(line: Int, record: LDIFRecord)], LDIFError> {
        var reader = LDIFReader()
        reader.threads = threads
        reader.parallelMinimum = 1
        do { return .success(try reader.readWithLines(text)) } catch { return .failure(error) }
    }

    func same(_ a: Result<[(line: Int, record: LDIFRecord)], LDIFError>,
              _ b: Result<[(line: Int, record: LDIFRecord)], LDIFError>) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.line == $1.line && $0.record == $1.record }
        case (.failure(let x), .failure(let y)): return x == y
        default: return false
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func severalThreadsReadWhatOneReads(seed: UInt64) {
        var random = Random(state: seed &* 977)
        let count = 1 + random.next(3000)
        // None, one, or two broken records (the first one in order is reported).
        var broken = Set<Int>()
        for _ in 0..<Int(seed % 3) { broken.insert(random.next(count)) }
        let text = text(count: count, seed: seed, broken: broken)
        let one = parse(text, threads: 1)
        for threads in [2, 3, 4, 7] {
            #expect(same(one, parse(text, threads: threads)), "seed \(seed), \(threads) threads")
        }
        if broken.isEmpty {
            guard case .success(let records) = one else { Issue.record("seed \(seed): \(one)"); return }
            #expect(records.count == count)
        } else {
            guard case .failure = one else { Issue.record("seed \(seed): no error"); return }
        }
    }

    /// The default: a large text on every processor, a small one on the caller's thread.
    @Test func aLargeTextIsSplitAmongTheProcessors() {
        #expect(LDIFReader().threads == LDIFReader.processors)
        #expect(LDIFReader.processors >= 1 && LDIFReader.processors <= 4)
        let text = text(count: 5000, seed: 9, broken: [])
        #expect(same(parse(text, threads: 1), .success(try! LDIFReader().readWithLines(text))))
    }
}
