import Foundation
@testable import Gym
import Tasks
import Trainer
import XCTest

/// What `make run` does, on the default model: the smoke preset with seed 0 makes at least one valid proposal of
/// every task type (seeding and both steps together), so self-play has something to learn from.
final class DefaultModelSmokeTests: XCTestCase {
    func testTheSmokeRunOnQwenProposesAValidTaskOfEveryType() throws {
        guard let qwen = ModelCatalog.locate(ModelCatalog.qwenCoder) else { throw XCTSkip("Qwen2.5-Coder is not installed (`make model`)") }
        let runs = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runs) }
        let result = try azr(["train", "--preset", "smoke", "--seed", "0", "--model", qwen, "--runs", runs.path, "--name", "smoke", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let run = try TrainingRun.open(runs.appendingPathComponent("smoke"))
        XCTAssertEqual(run.config.promptStyle, .instruct)
        for type in ["deduction", "abduction", "induction"] {
            let buffer = try TaskBuffer(name: type, url: run.buffersURL.appendingPathComponent("\(type).jsonl"))
            let proposed = buffer.triples.filter { $0.source.hasPrefix("proposer:") }
            XCTAssertGreaterThanOrEqual(proposed.count, 1, "no valid \(type) proposal in the smoke run")
        }
        // And the model's answers are judged, not all malformed: some solver reward above −1.
        let metrics = try run.readMetrics()
        let solverRewards = metrics.flatMap { line in line.reward.filter { $0.key.hasSuffix(".solve") }.map(\.value) }
        XCTAssertTrue(solverRewards.contains { $0 > -1 }, "\(solverRewards)")
        // Solvers and proposers stop where their answer is whole (`stop_at_answer`): nothing but white space after
        // the first whole assertion line, function block or readable proposal.
        var stopped: [String: Int] = [:]
        let samples = try FileManager.default.contentsOfDirectory(at: run.directory.appendingPathComponent("samples"),
                                                                   includingPropertiesForKeys: nil)
        for file in samples {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let sample = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard let role = sample["role"] as? String, let type = sample["task_type"] as? String,
                      let completion = sample["completion"] as? String, let environment = (try run.config.registry)[type],
                      let stop = role == "solve" ? environment.solverStop : environment.proposerStop,
                      stop.isComplete(completion + "\n") else { continue }
                // The shortest prefix that is whole (none: the answer ended at the end of turn) ends within a token
                // or two of the completion's end.
                let kept = stop.wholePrefix(of: completion)?.count ?? completion.count
                XCTAssertLessThanOrEqual(completion.count - kept, 8, "sampling went on after the answer: \(completion)")
                stopped[role, default: 0] += 1
            }
        }
        XCTAssertGreaterThan(stopped["solve"] ?? 0, 0, "no solver answer was whole")
        XCTAssertGreaterThan(stopped["propose"] ?? 0, 0, "no proposal was whole")
    }
}
