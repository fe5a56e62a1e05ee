import Foundation
import RelevoSimulation

/// `relevo fixtures synth`: write a synthetic fixture set for a dry run.
enum FixturesCommand {
    static let subcommands = ["synth"]

    static let spec = CommandSpec(
        name: "fixtures", summary: "write fixtures for dry runs: a synthetic directory and Maildirs",
        usage: ["fixtures synth --users N -o DIR [--messages A..B] [--seed S] [--named UID,...] [--no-probe] [--force]"],
        description: [
            """
              Writes what `relevo simulate` uses in place of the live systems of the
              exalumno.unam.mx case: DIR/neon.ldif, the old directory as slapcat would
              export it (the base entry, then one qmailUser entry per user, no
              passwords), and DIR/neon/home1/maildirs/UID/{cur,new}/, each user's
              Maildir of RFC 5322 messages whose file times are their Date headers.
              DIR/xalumno/var/qmail/maildirs/ is the new host's empty store, and
              DIR/README.md records the command that made the set.
            """,
            """
              The named users come first, then generated ones (Spanish names, varied
              quotas and activity); the probe user of the rehearsal is added unless
              --no-probe: it is on xalumno already and has no mail. The same options
              write the same bytes: nothing depends on the clock or the machine.
            """,
            """
              Empty folders are not written (tmp/, new/ without unread mail, the
              probe's Maildir): the dry run creates them. See docs/fixtures.md.
            """,
        ],
        arguments: [("synth", "the subcommand: synthesise a fixture set into DIR")],
        options: [
            OptionSpec(name: "users", valueName: "N", help: "users on the old host, the named ones included (required)"),
            OptionSpec(name: "messages", valueName: "A..B", help: "messages per user, drawn evenly from A to B (default 5..40)"),
            OptionSpec(name: "seed", valueName: "S", help: "seed, 0 to 2^64-1 (default 1): the same seed writes the same bytes"),
            OptionSpec(name: "named", valueName: "UID,...", help: "users always present, first: lowercase letters, digits, . _ -"),
            OptionSpec(name: "no-probe", help: "leave out the rehearsal's probe user"),
            OptionSpec(name: "output", short: "o", valueName: "DIR", help: "folder to write; created when missing, must be empty (required)"),
            OptionSpec(name: "force", help: "write into a non-empty DIR: replace README.md, neon.ldif, neon/ and xalumno/ there"),
            .help,
        ],
        output: [
            "One line on stdout when done:",
            "`examples/exalumno: 20 users + probe, 152 messages (21 unread), 0.54 MB, seed 1`.",
            "Errors go to stderr; a refused DIR is left as it was.",
        ],
        examples: [
            ("relevo fixtures synth --users 20 --messages 3..12 --seed 1 --named ceres,calewiro,icovilla -o examples/exalumno",
             "the set the bundled plan uses (examples/exalumno)"),
            ("relevo fixtures synth --users 10000 --seed 7 -o /tmp/big", "a large set, to measure a dry run"),
            ("relevo fixtures synth --users 50 -o fixtures --force", "write the set again over an earlier one"),
        ],
        exits: [.success, .usage, .unreadable])

    static func run(_ arguments: [String], _ console: inout Console) -> ExitStatus {
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser.parse(arguments, options: spec.options, command: "relevo fixtures") } catch {
            return usage(error.message, help: error.help, &console)
        }
        if parsed.flag("help") { console.out(Help.page(spec)); return .success }
        guard let sub = parsed.positionals.first else {
            return usage("missing subcommand: 'relevo fixtures synth ...'", help: nil, &console)
        }
        guard subcommands.contains(sub) else {
            return usage("unknown subcommand '\(sub)' for 'relevo fixtures'",
                         help: DidYouMean.help(sub, in: subcommands) ?? "subcommands: " + subcommands.joined(separator: ", "),
                         &console)
        }
        guard parsed.positionals.count == 1 else {
            return usage("unexpected argument '\(parsed.positionals[1])'", help: "name the folder with -o DIR", &console)
        }

        // Options.
        guard let usersText = parsed.value("users") else {
            return usage("missing --users N", help: "say how many users to write, e.g. --users 20", &console)
        }
        guard let users = Int(usersText), users >= 0, users <= 1_000_000 else {
            return usage("invalid value '\(usersText)' for '--users'", help: "a whole number from 0 to 1000000", &console)
        }
        var messages = 5...40
        if let text = parsed.value("messages") {
            guard let range = parseRange(text) else {
                return usage("invalid value '\(text)' for '--messages'",
                             help: "A..B with 0 <= A <= B <= 100000, such as 5..40 (or one number)", &console)
            }
            messages = range
        }
        var seed: UInt64 = 1
        if let text = parsed.value("seed") {
            guard let s = UInt64(text) else {
                return usage("invalid value '\(text)' for '--seed'", help: "a whole number from 0 to 18446744073709551615", &console)
            }
            seed = s
        }
        var named: [String] = []
        if let text = parsed.value("named") {
            named = text.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if named.contains(where: \.isEmpty) {
                return usage("invalid value '\(text)' for '--named'", help: "uids separated by commas, such as ceres,calewiro", &console)
            }
        }
        guard let output = parsed.value("output"), !output.isEmpty else {
            return usage("missing -o DIR", help: "name the folder to write, e.g. -o examples/exalumno", &console)
        }

        var synth = FixtureSynth(users: users, messages: messages, seed: seed, named: named,
                                 includeProbe: !parsed.flag("no-probe"))
        synth.users = users
        do throws(FixtureSynthError) { try synth.validate() } catch {
            return usage(error.message, help: error.help, &console)
        }

        // The folder: new, or empty, or --force.
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: output, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                return usage("'\(output)' exists and is not a folder", help: "name a new or empty folder with -o DIR", &console)
            }
            let contents: [String]
            do { contents = try fm.contentsOfDirectory(atPath: output) } catch {
                console.error("cannot read \(output): \(error.localizedDescription)")
                return .unreadable
            }
            if !contents.isEmpty {
                guard parsed.flag("force") else {
                    return usage("output folder '\(output)' is not empty (\(contents.count) item\(contents.count == 1 ? "" : "s"))",
                                 help: "name a new or empty folder, or add --force to replace "
                                     + synth.topLevelItems.joined(separator: ", ") + " in it", &console)
                }
                for item in synth.topLevelItems {
                    let path = (output as NSString).appendingPathComponent(item)
                    // lstat: a symbolic link is removed itself, never followed.
                    if (try? fm.attributesOfItem(atPath: path)) != nil {
                        do { try fm.removeItem(atPath: path) } catch {
                            console.error("cannot remove \(path): \(error.localizedDescription)")
                            return .unreadable
                        }
                    }
                }
            }
        }

        let summary: FixtureSynth.Summary
        do throws(FixtureSynthError) {
            summary = try synth.write(to: output, command: synth.commandLine(output: output))
        } catch {
            console.error(error.message, help: error.help)
            return error.isIO ? .unreadable : .usage
        }
        console.out(line(output, summary, seed: seed))
        return .success
    }

    /// `DIR: 20 users + probe, 152 messages (21 unread), 0.54 MB, seed 1`.
    static func line(_ output: String, _ s: FixtureSynth.Summary, seed: UInt64) -> String {
        "\(output): \(s.users) user\(s.users == 1 ? "" : "s")\(s.probe ? " + probe" : ""), "
            + "\(s.messages) message\(s.messages == 1 ? "" : "s") (\(s.unread) unread), \(s.megabytes) MB, seed \(seed)\n"
    }

    /// `A..B` or `N`, within 0...100000.
    static func parseRange(_ text: String) -> ClosedRange<Int>? {
        let parts = text.components(separatedBy: "..")
        let numbers = parts.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(numbers.count), let a = numbers.first ?? nil, let b = numbers.last ?? nil,
              a >= 0, a <= b, b <= 100_000 else { return nil }
        return a...b
    }

    private static func usage(_ message: String, help: String?, _ console: inout Console) -> ExitStatus {
        console.error(message, help: help)
        console.err(Help.usageHint(spec))
        return .usage
    }
}
