import Foundation
import RelevoJournal
import Testing
import TestbedSupport

/// `relevo run` on a terminal (a pty from script(1)): it asks for
/// confirmation, asks each approval, and draws a progress line with the
/// sets done of the total and an ETA.
@Suite(.serialized) struct InteractiveTests {
    /// The live plan with an approval phase before the users move.
    static func planWithApproval(in folder: String) throws -> String {
        var text = try String(contentsOfFile: livePlan, encoding: .utf8)
        text = text.replacingOccurrences(of: "  - name: users\n    for-each: users", with: """
              - name: go
                steps:
                  - approve: { name: go, message: "Move the users now?" }

              - name: users
                after: go
                for-each: users
            """)
        let path = folder + "/approve.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func onATerminal(_ bed: LiveBed, _ arguments: [String], answers: String) throws -> ProcessResult {
        let command = ([relevoBinary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        return try ProcessResult.run("/usr/bin/script", ["-qec", command, "/dev/null"],
                                     environment: bed.bed.environment, stdin: answers)
    }

    @Test func theOperatorConfirmsAndApprovesAtTheTerminal() throws {
        let bed = try LiveBed("tty")
        defer { bed.tearDown() }
        let plan = try Self.planWithApproval(in: bed.work)
        let result = try onATerminal(bed, ["run", plan, "--journal", bed.journal], answers: "y\ny\n")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Start the live run of exalumno-mail-live"))
        #expect(result.stdout.contains("Approval 'go': Move the users now?"))
        #expect(result.stdout.contains("users: 10/20 sets, ETA "), "a progress line with total and ETA")
        let snapshot = try JournalInspection.inspect(path: bed.journal)
        #expect(snapshot.approvals.map(\.name) == ["go"])
        #expect(snapshot.approvals.first?.by == "the operator, at the terminal")
        #expect(snapshot.counts(phase: "users")[.migrated] == 20)
    }

    @Test func anApprovalRefusedAtTheTerminalStopsBeforeTheUsers() throws {
        let bed = try LiveBed("ttyno")
        defer { bed.tearDown() }
        let plan = try Self.planWithApproval(in: bed.work)
        let result = try onATerminal(bed, ["run", plan, "--journal", bed.journal], answers: "y\nn\n")
        #expect(result.status == 3, "\(result)")
        #expect(result.stdout.contains("waiting   for approval 'go'"), "\(result.stdout)")
        let users = try bed.search(attributes: ["uid", "mailHost"])
        #expect(users.count == 21, "the directory phase ran")
        #expect(users.filter { $0["uid"] != ["probe"] }.allSatisfy { $0["mailHost"] == [bed["RELEVO_OLD_MAILHOST"]] },
                "nobody moved")
        #expect(files(bed["RELEVO_NEW_ROOT"]).isEmpty)

        // Not confirming at all changes nothing.
        let declined = try onATerminal(bed, ["run", plan, "--journal", bed.work + "/other.journal"], answers: "n\n")
        #expect(declined.status == 2)
        #expect(declined.stdout.contains("not confirmed; nothing was changed"))
    }
}
