import Foundation
import XCTest

/// `azr-fuzz` for a few seconds per parser, as `make test`'s bounded share of `make fuzz`: every target runs its
/// seeds and thousands of mutations without a crash, hang or runaway allocation. The self-test targets show the
/// harness catches and saves each kind of failure, so a clean run means something.
final class FuzzTests: XCTestCase {
    var fuzzBinary: URL { azrBinary().deletingLastPathComponent().appendingPathComponent("azr-fuzz") }

    struct Report: Decodable {
        struct Target: Decodable {
            var target: String
            var inputs: Int
            var accepted: Int
            var failure: String?
            var seed_refusals: [String]
        }
        var targets: [Target]
    }

    func testEveryParserHoldsUnderMutation() throws {
        let folder = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("fuzz.json")
        let run = try runBinary(fuzzBinary, ["--seconds", "3", "--seed", "\(UInt64.random(in: 1...1_000_000))",
                                             "--output-folder", folder.path, "--output", output.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: output))
        XCTAssertEqual(report.targets.map(\.target), ["answer", "literal", "marshal", "gguf", "buffer", "policy", "config", "run_code"])
        for target in report.targets {
            XCTAssertNil(target.failure, target.target)
            XCTAssertGreaterThan(target.inputs, 100, target.target)
            // Every seed parses, so mutations start from inputs that reach past the first checks.
            XCTAssertEqual(target.seed_refusals, [], target.target)
            XCTAssertGreaterThan(target.accepted, 0, target.target)
        }
        XCTAssertTrue(run.stdout.contains("| literal |"), run.stdout)
    }

    func testTheHarnessCatchesEachKindOfFailure() throws {
        let folder = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (target, kind, byte, file) in [("selftest-crash", "crash", UInt8(0xFF), "fuzz-crash-selftest-crash.bin"),
                                           ("selftest-hang", "hang", 0xFE, "fuzz-hang-selftest-hang.bin"),
                                           ("selftest-memory", "crash", 0xFD, "fuzz-crash-selftest-memory.bin"),
                                           ("selftest-oracle", "oracle", 0xFC, "fuzz-oracle-selftest-oracle.bin")] {
            let run = try runBinary(fuzzBinary, [target, "--seconds", "20", "--hang-seconds", "1", "--memory-mb", "1024",
                                                 "--output-folder", folder.path])
            XCTAssertEqual(run.status, 1, "\(target): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("\(target): FAILED — \(kind)"), "\(target): \(run.stderr)")
            // The saved input is the one that triggered the failure.
            let saved = try Data(contentsOf: folder.appendingPathComponent(file))
            XCTAssertTrue(saved.contains(byte), "\(target): \(Array(saved))")
        }
        let unknown = try runBinary(fuzzBinary, ["no-such-parser"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("unknown fuzz target \"no-such-parser\""), unknown.stderr)
    }
}
