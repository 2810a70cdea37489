import Foundation
import XCTest

/// The SandboxFusion contract, checked the way veRL's users would: a pytest suite using only `requests`
/// (conformance/test_run_code.py) against real `azr serve` processes on free loopback ports.
final class ConformanceTests: XCTestCase {
    func testRunCodeContractOverHTTP() throws {
        let token = NSTemporaryDirectory() + "azr-serve-token-\(getpid())"
        try "s3cret-\(UUID().uuidString)\n".write(toFile: token, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: token) }
        let main = try ServedProcess(["--token-file", token, "--max-body-mb", "1", "--workers", "8"])
        // One worker and one waiting slot: the third concurrent request must get 504 at once.
        let small = try ServedProcess(["--token-file", token, "--workers", "1", "--max-queue", "1"])
        let suite = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("conformance")
        let pytest = Process()
        pytest.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        pytest.arguments = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", suite.path]
        var environment = ProcessInfo.processInfo.environment
        environment["AZR_SERVE_URL"] = main.url
        environment["AZR_SERVE_SMALL_URL"] = small.url
        environment["AZR_SERVE_TOKEN_FILE"] = token
        environment["AZR_SERVE_MAX_BODY"] = String(1 << 20)
        pytest.environment = environment
        let output = Pipe()
        pytest.standardOutput = output
        pytest.standardError = output
        try pytest.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        pytest.waitUntilExit()
        let stoppedMain = main.stop()
        let stoppedSmall = small.stop()
        XCTAssertEqual(pytest.terminationStatus, 0, text)
        XCTAssertTrue(text.contains(" passed"), text)
        XCTAssertFalse(text.contains(" skipped"), text)
        for stopped in [stoppedMain, stoppedSmall] {
            XCTAssertEqual(stopped.status, 0, stopped.output)
            XCTAssertTrue(stopped.output.contains("azr serve: stopped after"), stopped.output)
            XCTAssertTrue(stopped.scratchEmpty, "a run directory was left behind")
            XCTAssertEqual(stopped.zygotesLeft, [], "zygotes outlived the service")
        }
        print(String(text.split(separator: "\n").last ?? ""))
    }
}
