import Foundation
import Testing
@testable import RelevoCLI

@Suite("relevo check --format sarif")
struct SARIFTests {
    private func sarif(_ arguments: [String]) throws -> (status: Int32, log: [String: Any]) {
        let run = relevo(["check", "--format", "sarif"] + arguments)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        return (run.status, log)
    }

    @Test("a SARIF 2.1.0 log with rules, results, locations and fixes")
    func requiredFields() throws {
        let folder = PlanFolder()
        let plan = folder.write("broken.yaml", Plans.broken)
        let (status, log) = try sarif([plan])
        #expect(status == 1)
        #expect((log["$schema"] as? String)?.contains("sarif-schema-2.1.0") == true)
        #expect(log["version"] as? String == "2.1.0")
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "relevo")
        #expect(driver["version"] as? String == RelevoVersion.version)
        #expect((driver["informationUri"] as? String).flatMap(URL.init(string:))?.scheme == "https")

        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.count == 1)
        let rule = rules[0]
        #expect(rule["id"] as? String == "E020")
        #expect(rule["name"] as? String == "unknown-reference")
        #expect((rule["shortDescription"] as? [String: Any])?["text"] as? String != nil)
        #expect((rule["fullDescription"] as? [String: Any])?["text"] as? String != nil)
        #expect((rule["defaultConfiguration"] as? [String: Any])?["level"] as? String == "error")

        let results = try #require(runs[0]["results"] as? [[String: Any]])
        #expect(results.count == 1)
        let result = results[0]
        #expect(result["ruleId"] as? String == "E020")
        #expect(result["ruleIndex"] as? Int == 0)
        #expect(result["level"] as? String == "error")
        #expect(((result["message"] as? [String: Any])?["text"] as? String)?.hasPrefix("unknown element 'directroy'") == true)
        let location = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        let uri = try #require((location["artifactLocation"] as? [String: Any])?["uri"] as? String)
        #expect(uri.hasPrefix("file://") && uri.hasSuffix("/broken.yaml"))
        let region = try #require(location["region"] as? [String: Int])
        #expect(region == ["startLine": 12, "startColumn": 9, "endLine": 12, "endColumn": 18])
        let fix = try #require((result["fixes"] as? [[String: Any]])?.first)
        let change = try #require((fix["artifactChanges"] as? [[String: Any]])?.first)
        let replacement = try #require((change["replacements"] as? [[String: Any]])?.first)
        #expect((replacement["insertedContent"] as? [String: Any])?["text"] as? String == "directory")
        #expect(replacement["deletedRegion"] as? [String: Int] == region)
    }

    @Test("a clean plan: no results, a successful invocation, exit 0")
    func clean() throws {
        let folder = PlanFolder()
        let (status, log) = try sarif([folder.write("tiny.yaml", Plans.tiny)])
        #expect(status == 0)
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        #expect((run["results"] as? [Any])?.isEmpty == true)
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == true)
    }

    @Test("an unreadable file: an unsuccessful invocation with a notification, exit 4")
    func unreadable() throws {
        let folder = PlanFolder()
        let (status, log) = try sarif([folder.path + "/missing.yaml"])
        #expect(status == 4)
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == false)
        let note = try #require((invocation["toolExecutionNotifications"] as? [[String: Any]])?.first)
        #expect(((note["message"] as? [String: Any])?["text"] as? String)?.contains("no such file") == true)
    }

    @Test("paths become URI references, percent-encoded")
    func uris() {
        #expect(SARIFReport.uri("plans/x.yaml") == "plans/x.yaml")
        #expect(SARIFReport.uri("my plans/x#1.yaml") == "my%20plans/x%231.yaml")
        #expect(SARIFReport.uri("/srv/plans/x.yaml") == "file:///srv/plans/x.yaml")
    }
}
