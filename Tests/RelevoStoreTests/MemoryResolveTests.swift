import Testing
import Glibc
@testable import RelevoStore

/// A memory file system's path walk: the fast walk in place (which now
/// also answers "not there" itself) against the general walk, on seeded
/// random trees with files, links (relative, absolute, dangling, looping)
/// and paths with `.`, `..`, `//` and missing names.
@Suite struct MemoryResolveTests {
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 20261204] as [UInt64])
    func theFastWalkAnswersAsTheGeneralOne(seed: UInt64) throws {
        var random = Random(state: seed)
        let fs = try MemoryFileSystem(name: "walk")
        let names = ["a", "b", "c", "cur", "new"]
        var directories = ["/"]
        func pick() -> String { directories[random.next(directories.count)] }
        func join(_ parent: String, _ name: String) -> String { parent == "/" ? "/" + name : parent + "/" + name }
        for _ in 0..<60 {
            let parent = pick()
            let path = join(parent, names[random.next(names.count)])
            guard try fs.linkStatus(path) == nil else { continue }
            switch random.next(6) {
            case 0, 1, 2:
                try fs.makeDirectories(path)
                directories.append(path)
            case 3:
                let file = try fs.openDirectory(absolute: parent, display: "").createExclusive(String(path.split(separator: "/").last!), mode: 0o644)
                try file.close()
            case 4:
                try fs.makeSpecial(path, kind: .symbolicLink, target: random.next(2) == 0 ? pick() : "../" + names[random.next(names.count)])
            default:
                try fs.makeSpecial(path, kind: .symbolicLink, target: random.next(2) == 0 ? path : "missing/x")
            }
        }
        let parts = names + [".", "..", "", "zz"]
        var compared = 0, found = 0, missing = 0
        for _ in 0..<3000 {
            var path = random.next(3) == 0 ? "/" : pick()
            for _ in 0..<random.next(4) { path += "/" + parts[random.next(parts.count)] }
            for followLast in [false, true] {
                let (fast, general) = fs.locked {
                    (fs.resolve(path, followLast: followLast), fs.resolve(path, followLast: followLast, fast: false))
                }
                #expect(fast?.node === general?.node, "\(path)")
                #expect(fast?.path == general?.path, "\(path)")
                compared += 1
                if general == nil { missing += 1 } else { found += 1 }
            }
        }
        #expect(found > 300 && missing > 300, "both answers are met (\(found) found, \(missing) missing)")
    }
}
