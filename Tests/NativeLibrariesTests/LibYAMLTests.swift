// Link-and-call smoke tests for libyaml (module CYAML).
import CYAML
import XCTest

final class LibYAMLTests: XCTestCase {
    func testVersionStringMatchesNumericVersion() throws {
        let cString = try XCTUnwrap(yaml_get_version_string())
        let version = String(cString: cString)
        var major: Int32 = -1, minor: Int32 = -1, patch: Int32 = -1
        yaml_get_version(&major, &minor, &patch)
        XCTAssertEqual(version, "\(major).\(minor).\(patch)")
        XCTAssertEqual(major, 0)
        XCTAssertGreaterThanOrEqual(minor, 2, "libyaml 0.2.x or newer expected, got \(version)")
    }

    func testParsesTinyDocumentIntoEvents() throws {
        let events = try parseEvents("name: relevo\nsteps: [a, b]\n")
        XCTAssertEqual(events, [
            "STREAM_START", "DOCUMENT_START", "MAPPING_START",
            "SCALAR(name)", "SCALAR(relevo)",
            "SCALAR(steps)", "SEQUENCE_START", "SCALAR(a)", "SCALAR(b)", "SEQUENCE_END",
            "MAPPING_END", "DOCUMENT_END", "STREAM_END",
        ])
    }

    func testReportsSyntaxErrorWithPosition() {
        XCTAssertThrowsError(try parseEvents("steps: [a, b\nname: x\n")) { error in
            guard let error = error as? YAMLParseError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertFalse(error.problem.isEmpty)
            XCTAssertGreaterThanOrEqual(error.line, 1)
        }
    }
}

private struct YAMLParseError: Error {
    var problem: String
    var line: Int
}

/// Runs the libyaml event parser over `text` and describes each event.
private func parseEvents(_ text: String) throws -> [String] {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else {
        throw YAMLParseError(problem: "yaml_parser_initialize failed", line: 0)
    }
    defer { yaml_parser_delete(&parser) }

    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBufferPointer { buffer in
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        var names: [String] = []
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? ""
                throw YAMLParseError(problem: problem, line: Int(parser.problem_mark.line) + 1)
            }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_START_EVENT: names.append("STREAM_START")
            case YAML_STREAM_END_EVENT: names.append("STREAM_END")
            case YAML_DOCUMENT_START_EVENT: names.append("DOCUMENT_START")
            case YAML_DOCUMENT_END_EVENT: names.append("DOCUMENT_END")
            case YAML_MAPPING_START_EVENT: names.append("MAPPING_START")
            case YAML_MAPPING_END_EVENT: names.append("MAPPING_END")
            case YAML_SEQUENCE_START_EVENT: names.append("SEQUENCE_START")
            case YAML_SEQUENCE_END_EVENT: names.append("SEQUENCE_END")
            case YAML_ALIAS_EVENT: names.append("ALIAS")
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: scalar.value,
                                                                 count: scalar.length),
                                   as: UTF8.self)
                names.append("SCALAR(\(value))")
            default: names.append("OTHER(\(event.type.rawValue))")
            }
            if event.type == YAML_STREAM_END_EVENT { return names }
        }
    }
}
