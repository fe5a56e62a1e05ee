// relevo-realtime: the load generator and the census of the real-time test
// (scripts/realtime-test, docs/mail.md). The work is RelevoRealtime's.
import Foundation
import RelevoBasics
import RelevoMail
import RelevoPlan
import RelevoRealtime

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("relevo-realtime: \(message)\n".utf8))
    exit(2)
}

/// `--name value` pairs; a name given again adds a value.
func options(_ arguments: ArraySlice<String>) -> [String: [String]] {
    var out: [String: [String]] = [:]
    var i = arguments.startIndex
    while i < arguments.endIndex {
        let name = arguments[i]
        guard name.hasPrefix("--"), i + 1 < arguments.endIndex else { fail("expected --NAME VALUE at '\(name)'") }
        out[String(name.dropFirst(2)), default: []].append(arguments[i + 1])
        i += 2
    }
    return out
}

func endpoint(_ text: String) -> MailEndpoint {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { fail("not HOST:PORT: \(text)") }
    return MailEndpoint(host: String(parts[0]), port: port)
}

func lines(_ path: String) -> [Substring] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read \(path)") }
    return text.split(separator: "\n")
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fail("usage: relevo-realtime load|census --NAME VALUE...") }
let o = options(arguments.dropFirst(2))
func one(_ name: String) -> String {
    guard let v = o[name]?.last else { fail("--\(name) is required") }
    return v
}
func number(_ name: String, _ fallback: Double) -> Double {
    guard let v = o[name]?.last else { return fallback }
    guard let n = Double(v) else { fail("--\(name) must be a number") }
    return n
}

switch arguments[1] {
case "load":
    guard let reference = SecretRef(parsing: one("master-password")) else { fail("--master-password must be env:NAME or file:PATH") }
    let password: Secret
    do { password = try reference.resolve(environment: ProcessInfo.processInfo.environment) } catch { fail("\(error)") }
    let users = lines(one("users")).map(String.init)
    guard !users.isEmpty else { fail("no users in \(one("users"))") }
    let configuration = LoadGenerator.Configuration(
        mx: endpoint(one("mx")), imap: endpoint(one("imap")), domain: one("domain"), users: users,
        masterUser: one("master-user"), masterPassword: password, senders: Int(number("senders", 4)),
        readers: Int(number("readers", 2)), writers: Int(number("writers", 2)), writerUsers: Int(number("writer-users", 40)),
        appendRate: number("append-rate", 10), rate: o["rate"] == nil ? nil : number("rate", 0), seed: UInt64(number("seed", 1)))
    let stopFile = one("stop-file")
    let generator: LoadGenerator
    do { generator = try LoadGenerator(configuration, acceptedLog: URL(fileURLWithPath: one("accepted")),
                                   appendedLog: URL(fileURLWithPath: one("appended"))) } catch { fail("\(error)") }
    let summary = generator.run { FileManager.default.fileExists(atPath: stopFile) }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do { try encoder.encode(summary).write(to: URL(fileURLWithPath: one("summary"))) } catch { fail("\(error)") }
    print("load: accepted=\(summary.accepted) refused=\(summary.refused) appended=\(summary.appended) "
          + "append_errors=\(summary.appendErrors) reads=\(summary.reads) read_errors=\(summary.readErrors)")
case "census":
    let messages = lines(one("accepted")).compactMap(AcceptedMessage.init(line:))
    var mailHost: [String: String] = [:]
    for line in lines(one("mailhosts")) {
        let parts = line.split(separator: "\t").map(String.init)
        if parts.count == 2 { mailHost[parts[0]] = parts[1] }
    }
    var stores: [String: String] = [:]
    for pair in o["store"] ?? [] {
        guard let eq = pair.firstIndex(of: "=") else { fail("--store MAILHOST=ROOT, not \(pair)") }
        stores[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    let run = number("run-start", 0)...number("run-end", 0)
    let census: Census
    do {
        census = try Census.take(messages: messages, mailHost: mailHost, stores: stores, run: run)
        if let path = o["appended"]?.last {
            // Messages the IMAP writers stored: the same census, its own line.
            let saved = try Census.take(messages: lines(path).compactMap(AcceptedMessage.init(line:)),
                                        mailHost: mailHost, stores: stores, run: run)
            for example in saved.examples { print("lost (appended): \(example)") }
            print("imap-append: accepted=\(saved.accepted) present=\(saved.present) lost=\(saved.lost) "
                  + "duplicated=\(saved.duplicated) during_run=\(saved.duringRun) stranded=\(saved.stranded)")
        }
    } catch { fail("\(error)") }
    for example in census.examples { print("lost: \(example)") }
    if let path = o["load-summary"]?.last, let data = FileManager.default.contents(atPath: path),
       let load = try? JSONDecoder().decode(LoadSummary.self, from: data) {
        for error in load.firstErrors { print("load error: \(error)") }
        print(String(format: "imap: reads=%d read_errors=%d users_lacking_old_mail=%d longest_window=%.1fs",
                     load.reads, load.readErrors, load.usersLacking, load.longestWindow))
    }
    print("stranded=\(census.stranded) altered=\(census.altered)")
    print(census.line)
default:
    fail("unknown subcommand '\(arguments[1])': load or census")
}
