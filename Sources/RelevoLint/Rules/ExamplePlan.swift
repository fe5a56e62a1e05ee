/// Builds the complete example plans of the rule descriptions from a small
/// base (two hosts, a directory, two Maildir stores, an SMTP server and the
/// per-user `mailhost` redirect point), so that each rule file only writes
/// the sections its examples are about. The output is a whole plan, version
/// header included, and must load and check without errors (tested).
enum ExamplePlan {
    static let hosts = """
      old: { address: old.example }
      new: { address: new.example }
    """

    static let elements = """
      directory: { kind: ldap, url: "ldap://dir.example", base: "dc=example" }
      store-old: { kind: maildir-store, on: old, root: /srv/mail }
      store-new: { kind: maildir-store, on: new, root: /srv/mail }
      smtp-new: { kind: smtp, on: new, port: 25 }
    """

    static let redirects = """
      mailhost:
        at: directory
        attribute: mailHost
        per: users
        values: { old: old.example, new: new.example }
        routes: { old: store-old, new: store-new }
    """

    static let sets = """
      users:
        from: directory
        key: uid
        fields:
          store: { attribute: mailMessageStore, type: path, under: store-old }
          host: { attribute: mailHost, type: redirect, point: mailhost }
    """

    /// The usual per-user phase: canary, redirect then copy, a gate, undo.
    static let usersPhase = """
      - name: users
        for-each: users
        where: host == old
        canary: 2
        steps:
          - redirect: { point: mailhost, to: new }
          - copy: { from: "store-old:${store}", to: "store-new:${store}", until: stable }
        gates:
          - maildir-superset: { new: "store-new:${store}", old: "store-old:${store}" }
        on-failure: { undo: true, then: halt }
    """

    /// A whole plan; every section is given as its indented body.
    static func make(_ name: String, hosts: String = hosts, elements: String = elements,
                     redirects: String = redirects, sets: String = sets, phases: String = usersPhase,
                     notify: String? = nil) -> String {
        var text = """
        relevo: 1
        plan: \(name)
        hosts:
        \(hosts)
        elements:
        \(elements)
        redirects:
        \(redirects)
        sets:
        \(sets)
        phases:
        \(phases)

        """
        if let notify { text += "notify:\n\(notify)\n" }
        return text
    }
}
