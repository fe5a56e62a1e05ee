import Testing
import RelevoBasics
@testable import RelevoCheck

/// Each case breaks the bundled plan in one place; the checker must report
/// exactly that mistake, as an error, on the line of the change.
struct Mutation: CustomTestStringConvertible, Sendable {
    var name: String
    var old: String
    var new: String
    var id: String
    /// Text the finding must point at: its column is where this text first
    /// occurs on the finding's line.
    var at: String
    var summary: String? = nil
    var testDescription: String { name }
}

@Suite struct ExalumnoMutationTests {
    static let mutations: [Mutation] = [
        Mutation(name: "broken host reference", old: "smtp-xalumno:  { kind: smtp, on: xalumno,",
                 new: "smtp-xalumno:  { kind: smtp, on: xalumnp,", id: "E020", at: "xalumnp",
                 summary: "unknown host 'xalumnp'"),
        Mutation(name: "broken element reference in a redirect", old: "    at: directory\n    attribute: mailHost",
                 new: "    at: directroy\n    attribute: mailHost", id: "E020", at: "directroy"),
        Mutation(name: "broken store reference in a route", old: "routes: { neon: store-neon, xalumno: store-xalumno }",
                 new: "routes: { neon: store-nein, xalumno: store-xalumno }", id: "E020", at: "store-nein"),
        Mutation(name: "broken phase reference", old: "  - name: switch-mx\n    steps:",
                 new: "  - name: switch-mx\n    after: rehersal\n    steps:", id: "E020", at: "rehersal"),
        Mutation(name: "broken set reference", old: "    for-each: users", new: "    for-each: user", id: "E020", at: "user"),
        Mutation(name: "broken notify reference", old: "      notify: ops\n", new: "      notify: opz\n", id: "E020", at: "opz"),
        Mutation(name: "broken redirect value", old: "- redirect: { point: mailhost, to: xalumno }",
                 new: "- redirect: { point: mailhost, to: xalumni }", id: "E020", at: "xalumni"),
        Mutation(name: "broken where value", old: "where: host == neon", new: "where: host == noen", id: "E020", at: "noen"),
        Mutation(name: "phase cycle", old: "  - name: directory\n    steps:",
                 new: "  - name: directory\n    after: users\n    steps:", id: "E040", at: "users"),
        Mutation(name: "literal secret", old: "password: env:LDAP_PASSWORD", new: "password: s3cret", id: "E060", at: "s3cret"),
        Mutation(name: "bad field", old: "- chown:    { path: \"store-xalumno:${store}\" }",
                 new: "- chown:    { path: \"store-xalumno:${stroe}\" }", id: "E030", at: "${stroe}",
                 summary: "set 'users' has no field 'stroe'"),
        Mutation(name: "field of the wrong type", old: "- chown:    { path: \"store-xalumno:${store}\" }",
                 new: "- chown:    { path: \"store-xalumno:${dn}\" }", id: "E031", at: "${dn}"),
        Mutation(name: "path escaping its store", old: "- chown:    { path: \"store-xalumno:${store}\" }",
                 new: "- chown:    { path: \"store-xalumno:${store}/../..\" }", id: "E033", at: ".."),
        Mutation(name: "absolute path outside the store", old: "- chown:    { path: \"store-xalumno:${store}\" }",
                 new: "- chown:    { path: \"store-xalumno:/etc\" }", id: "E033", at: "/etc"),
        // Everything between the redirect and the delta pass moves with the redirect.
        Mutation(name: "copy before redirect", old: """
              - redirect: { point: mailhost, to: xalumno }                                  # new mail now lands on xalumno
              - reload:   { element: smtp-xalumno }                                         # Postfix keeps the old route ~30 s otherwise
              - reload:   { element: smtp-neon }
              - flush-cache: { element: imap-neon, user: "${uid}" }                         # Dovecot's auth cache
              - kick:     { element: imap-neon, user: "${uid}" }                             # sessions opened before the redirect
              - flush-queue: { element: smtp-neon, recipient: "${mail}", within: 60s }       # what neon still holds for the user
              - copy:     { from: "store-neon:${store}", to: "store-xalumno:${store}", until: stable, compare: size-mtime }
        """, new: """
              - reload:   { element: smtp-xalumno }                                         # Postfix keeps the old route ~30 s otherwise
              - reload:   { element: smtp-neon }
              - flush-cache: { element: imap-neon, user: "${uid}" }                         # Dovecot's auth cache
              - kick:     { element: imap-neon, user: "${uid}" }                             # sessions opened before the redirect
              - flush-queue: { element: smtp-neon, recipient: "${mail}", within: 60s }       # what neon still holds for the user
              - copy:     { from: "store-neon:${store}", to: "store-xalumno:${store}", until: stable, compare: size-mtime }
              - redirect: { point: mailhost, to: xalumno }                                  # new mail now lands on xalumno
        """, id: "E050", at: "copy"),
        Mutation(name: "single-pass copy after the redirect", old: "\"store-xalumno:${store}\", until: stable, compare: size-mtime }",
                 new: "\"store-xalumno:${store}\", compare: size-mtime }", id: "E050", at: "copy"),
        Mutation(name: "copy from an smtp element", old: "- copy:     { from: \"store-neon:${store}\", to: \"store-xalumno:${store}\" }",
                 new: "- copy:     { from: \"smtp-neon:${store}\", to: \"store-xalumno:${store}\" }", id: "E021", at: "smtp-neon"),
        Mutation(name: "unknown key", old: "    concurrency: 4\n    steps:", new: "    concurency: 4\n    steps:", id: "E011", at: "concurency"),
        Mutation(name: "unknown element kind", old: "mx-record:     { kind: dns-mx,", new: "mx-record:     { kind: dns-mz,",
                 id: "E015", at: "dns-mz"),
        Mutation(name: "unknown operation", old: "      - chown:    {", new: "      - chwon:    {", id: "E016", at: "chwon"),
        Mutation(name: "gate under steps", old: "      - smtp-send: { via: smtp-xalumno,", new: "      - imap-login: { via: imap-xalumno, user: probe }\n      - smtp-send: { via: smtp-xalumno,",
                 id: "E017", at: "imap-login"),
        Mutation(name: "unterminated placeholder", old: "via: imap-neon, user: \"${uid}\"", new: "via: imap-neon, user: \"${uid\"",
                 id: "E034", at: "${uid"),
        Mutation(name: "undo strands data", old: "- redirect: { point: mailhost, to: xalumno }",
                 new: "- redirect: { point: mailhost, to: xalumno, carry-back: false }", id: "E052", at: "false"),
        Mutation(name: "remove without contingency", old: "    gates:\n      - dns-mx:",
                 new: "      - remove: { path: \"store-neon:probe\" }\n    gates:\n      - dns-mx:", id: "E061", at: "remove"),
        Mutation(name: "wrong kind for a gate", old: "- imap-login:  { via: imap-xalumno,", new: "- imap-login:  { via: pop3-xalumno,",
                 id: "E021", at: "pop3-xalumno"),
        Mutation(name: "where on a global phase", old: "    rehearsal: true\n", new: "    rehearsal: true\n    where: host == neon\n",
                 id: "E032", at: "host"),
        Mutation(name: "placeholder in a global phase", old: "- maildir-has: { path: \"store-xalumno:probe\"",
                 new: "- maildir-has: { path: \"store-xalumno:${uid}\"", id: "E032", at: "${uid}"),
        Mutation(name: "higher plan version", old: "relevo: 1\n", new: "relevo: 2\n", id: "E010", at: "2",
                 summary: "this Relevo reads plans up to version 1; this plan is version 2"),
    ]

    @Test(arguments: mutations)
    func reportsTheMistakeWhereItIs(_ m: Mutation) throws {
        let (text, line) = mutate(try exalumnoText(), m.old, m.new)
        let result = check(text)
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1, "\(describe(result.diagnostics))")
        let e = try #require(errors.first, "no error for \(m.name)")
        #expect(e.id == m.id, "\(describe(errors))")
        // The changed text starts on `line`; the finding is on the line that
        // holds the mistake, which for multi-line edits may be a later one.
        let changedLines = m.new.filter { $0 == "\n" }.count
        let found = e.range?.start.line ?? 0
        #expect((line...(line + changedLines)).contains(found), "at \(e.range?.description ?? "-"), edit on line \(line)")
        let lineText = text.split(separator: "\n", omittingEmptySubsequences: false)[found - 1]
        let expected = try #require(lineText.range(of: m.at), "'\(m.at)' is not on line \(found): \(lineText)")
        let column = lineText.unicodeScalars.distance(from: lineText.startIndex, to: expected.lowerBound) + 1
        #expect(e.range?.start.column == column, "at \(e.range?.description ?? "-"), expected column \(column)")
        if let summary = m.summary { #expect(e.summary == summary) }
    }
}
