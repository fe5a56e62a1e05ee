/// Every step and gate the language knows, with typed parameters.
public enum Operations {
    public static let all: [Operation] = steps + gates

    public static func named(_ name: String) -> Operation? { all.first { $0.name == name } }

    public static let steps: [Operation] = [
        Operation("ldap-export", scope: .global, "Export a directory to an LDIF file (cold copy).", [
            ParamSpec("from", .element([.ldap]), required: true, "the directory to export"),
            ParamSpec("to", .localFile, required: true, "the LDIF file written"),
            ParamSpec("filter", .filter, "entries to export (default: all)"),
            ParamSpec("quiesce", .bool, "refuse directory changes while exporting"),
        ]),
        Operation("ldif-transform", scope: .global, "Rewrite an LDIF file attribute by attribute.", [
            ParamSpec("in", .localFile, required: true, "the LDIF file read"),
            ParamSpec("out", .localFile, required: true, "the LDIF file written"),
            ParamSpec("split", .map(.record([
                ParamSpec("pattern", .string, required: true, "e.g. \"{size}S,{count}C\""),
                ParamSpec("into", .map(.string), required: true, "new attribute: capture name"),
            ])), "split one attribute into several"),
            ParamSpec("rename", .map(.string), "old attribute name: new name"),
            ParamSpec("drop", .list(.string), "attributes removed"),
        ]),
        Operation("ldap-import", scope: .global, changes: true, inverse: "delete the entries it added",
                  "Add the entries of an LDIF file to a directory.", [
            ParamSpec("to", .element([.ldap]), required: true, "the directory written"),
            ParamSpec("from", .localFile, required: true, "the LDIF file read"),
        ]),
        Operation("ldap-modify", scope: .either, changes: true, inverse: "restore the values read before",
                  "Replace attribute values of one entry.", [
            ParamSpec("at", .element([.ldap]), required: true, "the directory"),
            ParamSpec("entry", .dn, required: true, "the entry's DN (may use ${dn})"),
            ParamSpec("replace", .map(.template), required: true, "attribute: new value"),
        ]),
        Operation("redirect", scope: .either, changes: true,
                  inverse: "switch back to the value read before, then carry back what flowed to the other side",
                  "Switch a redirect point (per set or global) to one of its values.", [
            ParamSpec("point", .redirect, required: true, "the redirect point"),
            ParamSpec("to", .redirectValue(pointParameter: "point"), required: true, "the value switched to"),
            ParamSpec("carry-back", .bool, "on undo, copy back data written on the new side (default true)"),
        ]),
        Operation("copy", scope: .either, changes: true, inverse: "remove from the destination the files this copy created",
                  "Copy a tree between stores (Maildir-aware: no duplicates, times kept).", [
            ParamSpec("from", .storePath, required: true, "source STORE:PATH"),
            ParamSpec("to", .storePath, required: true, "destination STORE:PATH"),
            ParamSpec("until", .oneOf(["once", "stable"]),
                      "`stable`: delta passes until one finds nothing new (catches mail in flight)"),
            ParamSpec("max-passes", .int(min: 1), "bound on delta passes with until: stable (default 5)"),
            ParamSpec("compare", .oneOf(["sha256", "size-mtime"]),
                      "a message on both sides: `sha256` reads both (default); `size-mtime` trusts equal size and time, as rsync does, leaving the proof to a maildir-superset gate"),
        ]),
        Operation("chown", scope: .either, changes: true, inverse: "restore the owners recorded before",
                  "Give a tree to the store's owner (or another).", [
            ParamSpec("path", .storePath, required: true, "STORE:PATH"),
            ParamSpec("owner", .owner, "user:group (default: the store's owner)"),
        ]),
        Operation("remove", scope: .either, changes: true,
                  "Delete a tree from a store (no inverse: needs an on-failure contingency).", [
            ParamSpec("path", .storePath, required: true, "STORE:PATH"),
        ]),
        Operation("run-command", scope: .either, changes: true,
                  inverse: "run the `undo` argument vector, when one is given (a command without one has nothing to reverse, e.g. `doveadm kick`)",
                  "Run a command on a host over SSH, e.g. `postfix reload` or `doveadm kick ${uid}` after a redirect. An argument vector, never parsed by a shell: values from the plan or the directory stay single arguments. An exit status other than `expect-exit` fails the step. A dry run records it without running it.", [
            ParamSpec("on", .host, required: true, "the host"),
            ParamSpec("run", .list(.template), required: true, "the argument vector, e.g. [doveadm, kick, \"${uid}\"]"),
            ParamSpec("expect-exit", .int(min: 0), "the expected exit status (default 0)"),
            ParamSpec("undo", .list(.template), "the argument vector that reverses it, run by undo (default: none)"),
        ]),
        Operation("reload", scope: .either,
                  "Make a mail server read its configuration and lookup tables again, dropping what it cached (Postfix: `postfix -c DIR reload`, whose queue manager otherwise keeps routing by a user's former mailHost for about 30 s; Dovecot: `doveadm -c FILE reload`). Run on the element's host over SSH; a dry run records it.", [
            ParamSpec("element", .element([.smtp, .imap, .pop3]), required: true, "the mail server"),
        ]),
        Operation("flush-cache", scope: .either,
                  "Forget what a mail server's authentication cache holds for a user, so that the next login is routed by the directory again (Dovecot: `doveadm -c FILE auth cache flush USER`). Run on the element's host over SSH; a dry run records it.", [
            ParamSpec("element", .element([.imap, .pop3]), required: true, "the IMAP or POP3 server"),
            ParamSpec("user", .template, required: true, "the user (may use ${field})"),
        ]),
        Operation("kick", scope: .either,
                  "End a user's open sessions on a mail server, so that the client reconnects and follows the redirect (Dovecot: `doveadm -c FILE kick USER`). Run on the element's host over SSH; a dry run records it.", [
            ParamSpec("element", .element([.imap, .pop3]), required: true, "the IMAP or POP3 server"),
            ParamSpec("user", .template, required: true, "the user (may use ${field})"),
        ]),
        Operation("flush-queue", scope: .either,
                  "Retry a mail server's deferred mail now, then wait until its queue holds nothing for the recipient (Postfix: `postqueue -c DIR -f`, then `postqueue -c DIR -j` every half second). Fails when mail for the recipient is still queued after `within`. Run on the element's host over SSH; a dry run records it.", [
            ParamSpec("element", .element([.smtp]), required: true, "the MTA whose queue is flushed"),
            ParamSpec("recipient", .email, "wait for mail to this address (default: for the whole queue)"),
            ParamSpec("within", .duration, "how long to wait (default 60s)"),
        ]),
        Operation("smtp-send", scope: .either, "Send a probe message through an SMTP element.", [
            ParamSpec("via", .element([.smtp]), required: true, "the SMTP element"),
            ParamSpec("to", .email, required: true, "recipient"),
            ParamSpec("subject", .template, "subject (default: a unique probe subject)"),
        ]),
        Operation("approve", scope: .either, shorthand: "message",
                  "Wait for an operator's approval (`--approve NAME` in a dry run).", [
            ParamSpec("message", .template, required: true, "what the operator approves"),
            ParamSpec("name", .string, "the name `--approve` answers (default: the phase's name)"),
        ]),
        Operation("wait", scope: .either, shorthand: "for", "Let time pass (e.g. a DNS TTL).", [
            ParamSpec("for", .duration, required: true, "how long"),
        ]),
        Operation("notify", scope: .either, "Send a message to a notify target.", [
            ParamSpec("to", .notify, required: true, "the notify target"),
            ParamSpec("message", .template, required: true, "the text"),
        ]),
    ]

    public static let gates: [Operation] = [
        Operation("maildir-superset", gate: true, scope: .either,
                  "Every message of the old Maildir is in the new one (by name and SHA-256).", [
            ParamSpec("new", .storePath, required: true, "STORE:PATH that must hold everything"),
            ParamSpec("old", .storePath, required: true, "STORE:PATH it is compared with"),
        ]),
        Operation("tree-equal", gate: true, scope: .either, "Two trees hold the same files (by SHA-256).", [
            ParamSpec("a", .storePath, required: true, "STORE:PATH"),
            ParamSpec("b", .storePath, required: true, "STORE:PATH"),
        ]),
        Operation("maildir-has", gate: true, scope: .either, "A message with this subject arrived in a Maildir.", [
            ParamSpec("path", .storePath, required: true, "STORE:PATH of the Maildir"),
            ParamSpec("subject", .template, required: true, "the subject looked for"),
            ParamSpec("within", .duration, "how long to wait for it (default 60s)"),
        ]),
        Operation("imap-login", gate: true, scope: .either, "Log in over IMAP and open INBOX.", [
            ParamSpec("via", .element([.imap]), required: true, "the IMAP element"),
            ParamSpec("user", .template, required: true, "the user (may use ${field})"),
            ParamSpec("auth", .oneOf(["master", "login"]), "master user or the element's login (default master)"),
        ]),
        Operation("pop3-login", gate: true, scope: .either, "Log in over POP3 and STAT.", [
            ParamSpec("via", .element([.pop3]), required: true, "the POP3 element"),
            ParamSpec("user", .template, required: true, "the user"),
            ParamSpec("auth", .oneOf(["master", "login"]), "master user or the element's login"),
        ]),
        Operation("smtp-accept", gate: true, scope: .either, "The SMTP element accepts mail for a recipient.", [
            ParamSpec("via", .element([.smtp]), required: true, "the SMTP element"),
            ParamSpec("to", .email, required: true, "recipient"),
        ]),
        Operation("dns-mx", gate: true, scope: .either, "The MX record resolves to the expected host.", [
            ParamSpec("at", .element([.dnsMX]), required: true, "the dns-mx element"),
            ParamSpec("expect", .string, required: true, "the host name the MX must name"),
        ]),
        Operation("redirect-is", gate: true, scope: .either, "A redirect point reads back the expected value.", [
            ParamSpec("point", .redirect, required: true, "the redirect point"),
            ParamSpec("is", .redirectValue(pointParameter: "point"), required: true, "the expected value"),
        ]),
        Operation("ldap-compare", gate: true, scope: .either, "An attribute of an entry has the expected value.", [
            ParamSpec("at", .element([.ldap]), required: true, "the directory"),
            ParamSpec("entry", .dn, required: true, "the entry's DN"),
            ParamSpec("attribute", .string, required: true, "the attribute"),
            ParamSpec("expect", .template, required: true, "the expected value"),
        ]),
        Operation("remote-command", gate: true, scope: .either,
                  "A command run on a host over SSH exits with the expected status. The command is an argument vector, never parsed by a shell: values from the plan or the directory stay single arguments.", [
            ParamSpec("on", .host, required: true, "the host"),
            ParamSpec("run", .list(.template), required: true, "the argument vector, e.g. [test, -d, \"/srv/mail/${uid}\"]"),
            ParamSpec("expect-exit", .int(min: 0), "the expected exit status (default 0)"),
        ]),
        Operation("http-get", gate: true, scope: .either, "An HTTP element answers a path with a status.", [
            ParamSpec("via", .element([.http]), required: true, "the HTTP element"),
            ParamSpec("path", .template, "the path (default: the element's)"),
            ParamSpec("expect-status", .int(min: 100), "expected status (default 200)"),
        ]),
    ]
}
