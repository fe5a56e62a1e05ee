import RelevoBasics
import Testing
@testable import RelevoDirectory

/// SplitMix64 from RelevoBasics: seeded, the same on every machine.
typealias SeededGenerator = SplitMix64

@Suite struct RobustnessTests {
    static let corpus: [String] = [
        Fixtures.directoryLDIF,
        """
        version: 1

        dn: uid=ana,dc=exalumno,dc=unam,dc=mx
        changetype: modify
        replace: mailHost
        mailHost: xalumno.servidores.unam.mx
        -
        add: jpegPhoto
        jpegPhoto:: /9j/4AAQSkZJRgABAQ==
        -

        dn: uid=beto,dc=exalumno,dc=unam,dc=mx
        control: 1.2.840.113556.1.4.805 true:: AAE=
        changetype: modrdn
        newrdn: uid=roberto
        deleteoldrdn: 1
        newsuperior: ou=people,dc=exalumno,dc=unam,dc=mx

        dn: uid=dario,dc=exalumno,dc=unam,dc=mx
        changetype: delete

        """,
        "# c\r\ndn:: dWlkPWpvc8OpLGRjPW14\r\nuid:: am9zw6k=\r\ndescription: folded\r\n  value with \\, and + and # and =\r\ncn;lang-es: Ñandú\r\n",
    ]

    static let interesting: [[UInt8]] = [":", "::", ":<", " ", "\n", "\r\n", "\n\n", "-", "\\", "\\2C", "#", "=", ",", "+",
                                        "\u{0}", "dn: ", "changetype: ", "modify", "é", "\u{FF}", "==", "/", "\"", ";"]
        .map { Array($0.utf8) } + [[0xFF], [0xC3], [0x80]]

    static func mutate(_ text: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = text
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes = Array(bytes.prefix(position)) // truncate
            case 1 where !bytes.isEmpty: bytes.remove(at: position)
            case 2: bytes.insert(contentsOf: interesting.randomElement(using: &rng)!, at: position)
            case 3 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &rng)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...40, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            default:
                if let i = bytes[position...].firstIndex(of: 0x0A) { bytes.insert(0x20, at: i + 1) } // fold
            }
        }
        return bytes
    }

    @Test func mutatedLDIFGivesRecordsOrAPositionedError() {
        var rng = SeededGenerator(seed: 0x5EED_2849)
        var accepted = 0
        var refused = 0
        for iteration in 0..<600 {
            let source = Array(Self.corpus[iteration % Self.corpus.count].utf8)
            let input = Self.mutate(source, &rng)
            do {
                let records = try LDIFReader().read(bytes: input)
                accepted += 1
                // Whatever was read writes back and reads back the same.
                let text = LDIFWriter().write(records)
                let again = try LDIFReader().read(text)
                #expect(again == records, "iteration \(iteration)")
                var directory = MemoryDirectory()
                for record in records { try? directory.apply(record) }
                _ = directory.export()
            } catch {
                refused += 1
                #expect(error.line >= 1 && error.column >= 1, "iteration \(iteration): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(accepted + refused == 600)
        #expect(accepted > 0 && refused > 0)
    }

    @Test func everyTruncationOfTheFixtureIsHandled() {
        let bytes = Array(Fixtures.directoryLDIF.utf8)
        for length in 0...bytes.count {
            do {
                _ = try LDIFReader().read(bytes: Array(bytes.prefix(length)))
            } catch {
                #expect(error.line >= 1)
            }
        }
    }

    @Test func mutatedDNsAndFiltersNeverTrap() throws {
        var rng = SeededGenerator(seed: 4514_4515)
        let dns = ["uid=ceres,dc=eXalumno,dc=unam,dc=mx", "cn=a\\,b+sn=c\\2Bd,ou=x\\00y,dc=mx", "uid=\\#x\\ ,dc=mx"]
        let filters = ["(&(objectClass=qmailUser)(mailHost=neon.servidores.unam.mx))",
                       "(|(cn=a*b\\2a*c)(!(uid>=10))(sn~=x)(mail=*))", "(&(|(!(a=\\28\\29\\5c\\00)))(b<=z))"]
        for iteration in 0..<300 {
            let dnText = String(decoding: Self.mutate(Array(dns[iteration % 3].utf8), &rng), as: UTF8.self)
            if let dn = try? DistinguishedName(dnText) {
                #expect(try DistinguishedName(dn.description) == dn, "\(dnText)")
            }
            let filterText = String(decoding: Self.mutate(Array(filters[iteration % 3].utf8), &rng), as: UTF8.self)
            do {
                let filter = try LDAPFilter(filterText)
                #expect(try LDAPFilter(filter.description) == filter, "\(filterText)")
            } catch {
                #expect(error.offset >= 0 && error.offset <= filterText.unicodeScalars.count, "\(filterText): \(error)")
            }
        }
    }
}
