import Foundation
@testable import Service
import XCTest

/// `azr serve` as a user starts it: its errors are one line, and its parts answer known inputs.
final class ServeCommandTests: XCTestCase {
    func testABusyPortIsOneLineAndStatusOne() throws {
        let first = try ServedProcess(["--workers", "1"])
        defer { _ = first.stop() }
        let second = Process()
        second.executableURL = ServedProcess.binary
        second.arguments = ["serve", "--port", String(first.port), "--workers", "1"]
        let errors = Pipe()
        second.standardError = errors
        second.standardOutput = Pipe()
        try second.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 1)
        XCTAssertEqual(text.split(separator: "\n").count, 1, text)
        XCTAssertTrue(text.hasPrefix("azr: cannot listen on 127.0.0.1:\(first.port):"), text)
    }

    func testAMissingTokenFileIsAUsageError() throws {
        let process = Process()
        process.executableURL = ServedProcess.binary
        process.arguments = ["serve", "--port", "0", "--token-file", "/nonexistent/token"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 2)
        XCTAssertEqual(text, "azr: cannot read the token file /nonexistent/token\n")
    }

    func testRequestDefaultsAreSandboxFusions() throws {
        let request = try RunCodeRequest(json: Array(#"{"code": "print(1)", "unknown": [1, 2]}"#.utf8))
        XCTAssertEqual(request.language, "python")
        XCTAssertEqual(request.compileTimeout, 10)
        XCTAssertEqual(request.runTimeout, 10)
        XCTAssertEqual(request.memoryLimitMegabytes, -1)
        XCTAssertNil(request.stdin)
        XCTAssertTrue(request.files.isEmpty)
        XCTAssertEqual(request.fetchFiles, [])
    }

    func testEveryBadFieldIsNamedAtOnce() {
        let body = #"{"run_timeout": true, "files": {"a/../../b": "eA=="}, "fetch_files": ["ok.txt", ""]}"#
        XCTAssertThrowsError(try RunCodeRequest(json: Array(body.utf8))) { error in
            let problems = (error as? RequestProblems)?.problems ?? []
            XCTAssertEqual(problems.map(\.location), [["body", "code"], ["body", "run_timeout"],
                                                      ["body", "files", "a/../../b"], ["body", "fetch_files", "1"]])
            XCTAssertEqual(problems.first?.type, "missing")
        }
    }

    func testResponsesQuoteControlCharactersAndKeepKeyOrder() {
        let value = JSONValue.object([("b", .string("tab\there \"q\" \u{1} é\n")), ("a", .null), ("n", .int(-3))])
        XCTAssertEqual(value.text, #"{"b": "tab\there \"q\" \u0001 é\n", "a": null, "n": -3}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data(value.bytes)) as? [String: Any]
        XCTAssertEqual(parsed?["b"] as? String, "tab\there \"q\" \u{1} é\n")
    }

    func testBenchServePrintsItsFiguresAsJSON() throws {
        let process = Process()
        process.executableURL = ServedProcess.binary
        process.arguments = ["bench", "serve", "--json", "--seconds", "1", "--spawn-seconds", "1", "--clients", "8"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["runs_per_s", "p50_ms", "p99_ms", "spawn_runs_per_s", "ratio"] {
            XCTAssertNotNil(figures[key] as? Double, key)
        }
        XCTAssertEqual(figures["wrong_answers"] as? Int, 0)
        XCTAssertGreaterThan(figures["requests"] as? Int ?? 0, 0)
    }
}
