import Foundation
import XCTest

/// Runs the built `azr` binary as a user would and checks what it prints and its exit status.
final class SandboxCLITests: XCTestCase {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func azr(_ arguments: [String]) throws -> Run {
        let binary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("azr")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    var file = ""

    override func setUpWithError() throws {
        file = NSTemporaryDirectory() + "azr-cli-\(getpid())-\(UUID().uuidString).py"
        try "def f(a, b):\n    print('adding')\n    return {'sum': a + b, 'pair': (a, b)}\n".write(toFile: file, atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: file)
    }

    func testMatchingExpectationExitsZero() throws {
        let run = try Self.azr(["sandbox", "run", file, "--call", "1, 2", "--expect", "{'pair': (1, 2.0), 'sum': 3}"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("PASS ok: {'sum': 3, 'pair': (1, 2)} (equals "), run.stdout)
        XCTAssertTrue(run.stdout.contains("stdout:\nadding\n"))
    }

    func testDifferentValueExitsOne() throws {
        let run = try Self.azr(["sandbox", "run", file, "--call", "1, 2", "--expect", "{'sum': 4, 'pair': (1, 2)}"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stdout.hasPrefix("FAIL ok: "), run.stdout)
    }

    func testFailuresExitOneWithJSON() throws {
        let run = try Self.azr(["sandbox", "run", file, "--call", "1, 'x'", "--json"])
        XCTAssertEqual(run.status, 1)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["passed"] as? Bool, false)
        XCTAssertEqual(object["status"] as? String, "completed")
        XCTAssertEqual((object["exception"] as? [String: String])?["type"], "TypeError")
    }

    func testKilledProgramExitsOne() throws {
        try "while True:\n    pass\n".write(toFile: file, atomically: true, encoding: .utf8)
        let run = try Self.azr(["sandbox", "run", file, "--timeout-ms", "300"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stdout.hasPrefix("FAIL killed: wall-clock timeout"), run.stdout)
    }

    func testUsageErrorsExitTwoWithOneLine() throws {
        for arguments in [["sandbox", "run", "/no/such/file.py"],
                          ["sandbox", "run", file, "--expect", "1"],
                          ["sandbox", "run", file, "--call", "1, 2", "--expect", "[1,"],
                          ["sandbox", "run", file, "--policy", "no-such-policy"],
                          ["sandbox", "run", file, "--no-such-flag"]] {
            let run = try Self.azr(arguments)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.stdout) \(run.stderr)")
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.hasPrefix("azr: "), run.stderr)
        }
    }

    func testBenchPrintsTheNamedFigures() throws {
        let run = try Self.azr(["sandbox", "bench", "--seconds", "0.3", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        for key in ["runs_per_s_trivial", "runs_per_s_1ms", "spawn_runs_per_s", "inprocess_runs_per_s"] {
            let value = try XCTUnwrap(object[key] as? Double, key)
            XCTAssertGreaterThan(value, 0, key)
        }
    }
}
