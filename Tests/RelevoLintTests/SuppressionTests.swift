import RelevoBasics
import RelevoLint
import Testing

/// `# relevo:allow` comments, on a plan whose per-set phase has no canary
/// (L001 at the phase's name, line 26) and no gate (L002, same place).
@Suite struct SuppressionTests {
    /// The base plan with `name` (the phase's name line) replaced.
    static func plan(nameLine: String = "  - name: users", before: String = "") -> String {
        """
        relevo: 1
        plan: tiny
        hosts:
          old: { address: old.example }
          new: { address: new.example }
        elements:
          directory: { kind: ldap, url: "ldap://dir.example", base: "dc=example" }
          store-old: { kind: maildir-store, on: old, root: /srv/mail }
          store-new: { kind: maildir-store, on: new, root: /srv/mail }
          smtp-new: { kind: smtp, on: new, port: 25 }
        redirects:
          mailhost:
            at: directory
            attribute: mailHost
            per: users
            values: { old: old.example, new: new.example }
            routes: { old: store-old, new: store-new }
        sets:
          users:
            from: directory
            key: uid
            fields:
              store: { attribute: mailMessageStore, type: path, under: store-old }
              host: { attribute: mailHost, type: redirect, point: mailhost }
        phases:
        \(before)\(nameLine)
            for-each: users
            steps:
              - redirect: { point: mailhost, to: new }
              - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
            on-failure: { undo: true, then: halt }

        """
    }

    @Test func baseline() {
        let linted = Linted(Self.plan())
        #expect(linted.errors.isEmpty, "\(describe(linted.errors))")
        #expect(linted.ids() == ["L001", "L002"])
        #expect(linted.suppressed.isEmpty)
    }

    @Test func trailingCommentSilences() throws {
        let linted = Linted(Self.plan(nameLine: "  - name: users   # relevo:allow L001 two users only"))
        #expect(linted.ids() == ["L002"])
        let s = try #require(linted.suppressed.first)
        #expect(linted.suppressed.count == 1)
        #expect(s.rule == "L001" && s.name == "no-canary")
        #expect(s.reason == "two users only")
        #expect(s.line == 26 && s.targetLine == 26)
        #expect(s.range.start == Position(line: 26, column: 19))
        #expect(s.silenced.map(\.id) == ["L001"])
    }

    @Test func standaloneCommentSilencesNextContentLine() throws {
        let before = "  # relevo:allow no-canary  the rehearsal showed it is safe\n\n  # another comment\n"
        let linted = Linted(Self.plan(before: before))
        #expect(linted.ids() == ["L002"])
        let s = try #require(linted.suppressed.first)
        #expect(s.rule == "L001")
        #expect(s.reason == "the rehearsal showed it is safe")
        #expect(s.line == 26 && s.targetLine == 29)
    }

    @Test func severalRulesInOneComment() {
        let linted = Linted(Self.plan(nameLine: "  - name: users # relevo:allow L001, no-final-gate,L003 a throwaway test plan"))
        #expect(linted.ids().isEmpty, "\(describe(linted.findings))")
        #expect(Set(linted.suppressed.map(\.rule)) == ["L001", "L002"])
    }

    @Test func otherRuleIsNotSilenced() {
        let linted = Linted(Self.plan(nameLine: "  - name: users # relevo:allow L004 nothing to notify"))
        #expect(linted.ids() == ["L001", "L002"])
        #expect(linted.suppressed.isEmpty)
    }

    @Test func commentOnAnotherLineDoesNotSilence() {
        let linted = Linted(Self.plan(nameLine: "  - name: users\n    # relevo:allow L001 too late: the next line is for-each"))
        #expect(linted.ids() == ["L001", "L002"])
    }

    @Test func missingReasonIsW002AndSilencesNothing() throws {
        let linted = Linted(Self.plan(nameLine: "  - name: users # relevo:allow L001"))
        #expect(linted.ids() == ["L001", "L002", "W002"])
        let w = try #require(linted.findings("W002").first)
        #expect(w.name == "bad-suppression" && w.severity == .warning)
        #expect(w.range?.start == Position(line: 26, column: 17))
        #expect(w.summary.contains("no reason"))
        #expect(linted.suppressed.isEmpty)
    }

    @Test func unknownRuleIsW002() throws {
        let linted = Linted(Self.plan(nameLine: "  - name: users # relevo:allow no-canery,L002 short run"))
        #expect(linted.ids() == ["L001", "W002"])
        let w = try #require(linted.findings("W002").first)
        #expect(w.summary.contains("'no-canery'"))
        #expect(w.help == "did you mean 'no-canary'?")
        #expect(w.range?.start == Position(line: 26, column: 17))
    }

    @Test func noRuleIsW002() {
        let linted = Linted(Self.plan(before: "  # relevo:allow\n"))
        #expect(linted.ids() == ["W002", "L001", "L002"])
        #expect(linted.findings("W002").first?.range?.start == Position(line: 26, column: 3))
    }

    @Test func planWithErrorsIsNotLinted() {
        let broken = Self.plan().replacing("for-each: users", with: "for-each: userz")
        let linted = Linted(broken)
        #expect(!linted.errors.isEmpty)
        #expect(linted.findings.isEmpty)
    }
}
