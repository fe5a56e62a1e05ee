import Foundation
import Testing
import RelevoBasics
import RelevoCheck
import RelevoLint

/// Every plan under examples/ says, in `# expect: ID[, ID]` comments, which
/// diagnostics it must produce on that line; the checker and the linter must
/// produce exactly those (a plan with no such comment must be clean). The
/// bundled plans under plans/ must be clean too.
@Suite struct ExamplesTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(in folder: String) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
    }

    struct Expectation: Hashable, CustomStringConvertible {
        var line: Int
        var id: String
        var description: String { "\(line): \(id)" }
    }

    /// `# expect: E020` or `# expect: E050, L001` anywhere on a line.
    static func expectations(_ text: String) -> Set<Expectation> {
        var out = Set<Expectation>()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let r = line.range(of: "# expect:") else { continue }
            for id in line[r.upperBound...].split(separator: ",") {
                out.insert(Expectation(line: i + 1, id: id.trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }

    static func findings(_ relative: String) throws -> (text: String, found: Set<Expectation>, rendered: String) {
        let path = root.appendingPathComponent(relative).path
        let loaded = try PlanLoader.load(path: path)
        let result = Checker.check(loaded, baseDirectory: (path as NSString).deletingLastPathComponent)
        let all = result.diagnostics + Linter.lint(result)
        let found = Set(all.map { Expectation(line: $0.range?.start.line ?? 0, id: $0.id) })
        let rendered = DiagnosticRenderer(sources: [result.source]).render(all)
        return (loaded.source.text, found, rendered)
    }

    @Test func thereAreExamples() {
        #expect(Self.files(in: "examples").count >= 8)
    }

    @Test(arguments: files(in: "examples"))
    func exampleProducesWhatItsCommentsSay(_ file: String) throws {
        let (text, found, rendered) = try Self.findings(file)
        let expected = Self.expectations(text)
        #expect(found == expected, "\(file):\n\(rendered)")
    }

    @Test(arguments: files(in: "plans"))
    func bundledPlansAreClean(_ file: String) throws {
        let (_, found, rendered) = try Self.findings(file)
        #expect(found.isEmpty, "\(file):\n\(rendered)")
    }
}

/// A live example plan and the testbed variables it reads.
struct LivePlan: Sendable, CustomStringConvertible {
    var file: String
    /// Variables beyond live.yaml's, with the values a testbed gives them.
    var extra: [String: String]
    var path: String { ExamplesTests.root.appendingPathComponent("examples/exalumno/\(file)").path }
    var variables: Set<String> { Set(LivePlanTests.variables).union(extra.keys) }
    var environment: [String: String] { LivePlanTests.testbed.merging(extra) { $1 } }
    var description: String { file }
}

/// examples/exalumno/live.yaml (and live-mail.yaml, with the mail hosts of
/// `scripts/testbed up --mail`) read the testbed's variables: clean with
/// them (and lint-clean), E062 at each placeholder without them.
@Suite struct LivePlanTests {
    static let plans = [
        LivePlan(file: "live.yaml", extra: [:]),
        LivePlan(file: "live-mail.yaml", extra: mail),
        LivePlan(file: "realtime.yaml", extra: mail),
    ]
    /// What `scripts/testbed up --mail` adds.
    static let mail = ["RELEVO_MAIL_MASTER_USER": "relevo", "RELEVO_MAIL_MASTER_PASSWORD_FILE": "/tmp/master.pw",
                       "RELEVO_OLD_POSTFIX_CONFIG": "/tmp/postfix-neon", "RELEVO_NEW_POSTFIX_CONFIG": "/tmp/postfix-xalumno",
                       "RELEVO_OLD_DOVECOT_CONFIG": "/tmp/dovecot-neon.conf", "RELEVO_NEW_DOVECOT_CONFIG": "/tmp/dovecot-xalumno.conf"]
    static let variables = [
        "RELEVO_OLD_SSH", "RELEVO_NEW_SSH", "RELEVO_SSH_USER", "RELEVO_KNOWN_HOSTS", "RELEVO_OLD_LDAP_URI",
        "RELEVO_LDAP_URI", "RELEVO_LDAP_CA_FILE", "RELEVO_OLD_LDAP_BASE", "RELEVO_LDAP_BASE",
        "RELEVO_OLD_LDAP_BIND_DN", "RELEVO_LDAP_BIND_DN", "RELEVO_OLD_LDAP_PASSWORD_FILE", "RELEVO_LDAP_PASSWORD_FILE",
        "RELEVO_OLD_ROOT", "RELEVO_NEW_ROOT", "RELEVO_STORE_OWNER", "RELEVO_OLD_MAILHOST", "RELEVO_NEW_MAILHOST",
    ]
    static let testbed: [String: String] = {
        var v: [String: String] = [:]
        for name in variables { v[name] = "x" }
        v["RELEVO_OLD_SSH"] = "127.0.0.2:2222"; v["RELEVO_NEW_SSH"] = "127.0.0.3:2222"; v["RELEVO_SSH_USER"] = "root"
        v["RELEVO_OLD_LDAP_URI"] = "ldap://127.0.0.2:3389"; v["RELEVO_LDAP_URI"] = "ldap://127.0.0.3:3389"
        v["RELEVO_OLD_LDAP_BASE"] = "dc=exalumno,dc=unam,dc=mx"; v["RELEVO_LDAP_BASE"] = "dc=exalumno,dc=unam,dc=mx"
        v["RELEVO_OLD_LDAP_BIND_DN"] = "cn=Siteadmin,dc=mx"; v["RELEVO_LDAP_BIND_DN"] = "cn=Siteadmin,dc=mx"
        v["RELEVO_OLD_LDAP_PASSWORD_FILE"] = "/tmp/pw"; v["RELEVO_LDAP_PASSWORD_FILE"] = "/tmp/pw"
        v["RELEVO_OLD_ROOT"] = "/srv/neon/maildirs"; v["RELEVO_NEW_ROOT"] = "/srv/xalumno/maildirs"
        v["RELEVO_STORE_OWNER"] = "vmail:vmail"
        v["RELEVO_OLD_MAILHOST"] = "neon.servidores.unam.mx"; v["RELEVO_NEW_MAILHOST"] = "xalumno.servidores.unam.mx"
        return v
    }()

    @Test(arguments: plans) func checksCleanWithTheTestbedsVariables(_ plan: LivePlan) throws {
        let loaded = try PlanLoader.load(path: plan.path, environment: plan.environment)
        let result = Checker.check(loaded, baseDirectory: (plan.path as NSString).deletingLastPathComponent)
        let all = result.diagnostics + Linter.lint(result)
        #expect(all.isEmpty, "\(DiagnosticRenderer(sources: [result.source]).render(all))")
    }

    /// The broken variants of realtime.yaml (scripts/realtime-test
    /// --variant): L009 warns on the one without the reload, flush and
    /// kick; the checker refuses the one without the delta pass (E050, and
    /// lint rules only read plans without errors).
    @Test(arguments: [("realtime-no-flush.yaml", ["L009"]), ("realtime-no-delta.yaml", ["E050"])])
    func brokenRealtimeVariantsAreFlagged(_ file: String, _ ids: [String]) throws {
        let plan = LivePlan(file: file, extra: Self.mail)
        let loaded = try PlanLoader.load(path: plan.path, environment: plan.environment)
        let result = Checker.check(loaded, baseDirectory: (plan.path as NSString).deletingLastPathComponent)
        let all = result.diagnostics + Linter.lint(result)
        #expect(Set(all.map(\.id)) == Set(ids), "\(DiagnosticRenderer(sources: [result.source]).render(all))")
    }

    @Test(arguments: plans) func namesEveryVariableItLacks(_ plan: LivePlan) throws {
        let loaded = try PlanLoader.load(path: plan.path, environment: [:])
        let unset = Set(loaded.diagnostics.filter { $0.id == "E062" }.compactMap {
            $0.summary.split(separator: " ").first { $0.hasPrefix("RELEVO_") }.map(String.init)
        })
        #expect(unset == plan.variables)
    }
}
