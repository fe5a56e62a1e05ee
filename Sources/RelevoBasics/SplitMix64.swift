/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast generator that gives
/// the same sequence for a seed on every machine, for everything Relevo
/// draws at random and must repeat: fixture synthesis, fault percentages,
/// seeded tests (mutation corpora, kill points).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0 ..< n (n > 0), without modulo bias (Lemire).
    public mutating func below(_ n: UInt64) -> UInt64 {
        precondition(n > 0)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[Int(below(UInt64(items.count)))] }

    /// `count` different indices of 0 ..< n (at most n), in drawn order.
    public mutating func distinct(_ count: Int, of n: Int) -> [Int] {
        var pool = Array(0..<n)
        var out: [Int] = []
        for i in 0..<min(count, n) {
            let j = i + Int(below(UInt64(n - i)))
            pool.swapAt(i, j)
            out.append(pool[i])
        }
        return out
    }
}
