import Foundation
@testable import Gym
import XCTest

/// `azr --help` promises: 0 on success, 1 when a command fails while running, 2 for usage errors; each with at
/// most one line on stderr.
final class ExitStatusTests: XCTestCase {
    func testEachKindOfEndingHasItsStatus() throws {
        let folder = temporaryDirectory()
        let run = folder.appendingPathComponent("run")
        _ = try TrainingRun.create(at: run, config: TrainingConfig())
        try Data("{not json".utf8).write(to: run.appendingPathComponent("state.json"))
        let program = folder.appendingPathComponent("boom.py")
        try Data("def f():\n    raise ValueError('no')\n".utf8).write(to: program)

        let cases: [(arguments: [String], status: Int32)] = [
            (["--help"], 0),
            (["sandbox", "run", program.path, "--call", ""], 1),          // the program failed
            (["train", "--resume", run.path], 1),                         // a run whose state.json is corrupt
            (["no-such-command"], 2),
            (["train", "--steps", "many"], 2),
            (["train", "--set", "learnig_rate=1"], 2),
            (["report", folder.appendingPathComponent("missing").path], 2),
            (["eval", "--limit", "x"], 2),
            (["buffer", "replay", folder.appendingPathComponent("missing").path], 2),
            (["experiment", "--held-out-proposals", "0"], 2),
            (["generate", "--model", folder.appendingPathComponent("missing.gguf").path, "--prompt", "hi"], 2),
            (["model", "install", "no-such-model"], 2),
            (["bench", "--no-such-flag"], 2),
            (["sandbox", "run", folder.appendingPathComponent("missing.py").path], 2),
        ]
        for (arguments, status) in cases {
            let result = try azr(arguments)
            XCTAssertEqual(result.status, status, "azr \(arguments.joined(separator: " ")): \(result.stderr)")
            // A failed sandboxed program is reported on stdout; every other failure is one `azr:` line on stderr
            // (after any progress notes).
            let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("azr:") }.count
            XCTAssertEqual(errors, status == 0 || (arguments[0] == "sandbox" && status == 1) ? 0 : 1,
                           "azr \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }
}
