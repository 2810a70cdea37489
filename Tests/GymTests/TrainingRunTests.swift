import Foundation
@testable import Gym
import Tasks
import XCTest

final class TrainingRunTests: XCTestCase {
    func testDiscardForgetsAnUnfinishedStepButKeepsSeedsAndEarlierSteps() throws {
        let url = temporaryDirectory().appendingPathComponent("deduction.jsonl")
        let seed = Triple(type: "deduction", program: "def f(a):\n    return a", input: "1", output: "1")
        let buffer = try TaskBuffer(name: "deduction", url: url, seed: seed)
        for (step, value) in [(-1, 2), (0, 3), (1, 4), (2, 5), (2, 6)] {
            try buffer.add(Triple(type: "deduction", program: "def f(a):\n    return a + \(value)", input: "1", output: "\(1 + value)",
                                  step: step, source: "proposer"))
        }
        XCTAssertEqual(try buffer.discard(fromStep: 1), 3)
        XCTAssertEqual(buffer.triples.map(\.step), [0, -1, 0])
        let reloaded = try TaskBuffer(name: "deduction", url: url)
        XCTAssertEqual(reloaded.triples.map(\.id), buffer.triples.map(\.id))
        XCTAssertTrue(reloaded.problems.isEmpty)
        // A discarded task can be proposed again (it is no longer a duplicate).
        XCTAssertTrue(try buffer.add(Triple(type: "deduction", program: "def f(a):\n    return a + 4", input: "1", output: "5", step: 1,
                                            source: "proposer")))
    }

    func testMetricsLinesSurviveOnlyUpToTheResumedStep() throws {
        let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: TrainingConfig())
        for step in 0..<4 { try run.appendMetrics(Self.metrics(step: step)) }
        // A torn last line, as a kill mid-append would leave.
        let handle = try FileHandle(forWritingTo: run.metricsURL)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"step": 4, "rew"#.utf8))
        handle.closeFile()
        XCTAssertEqual(try run.readMetrics().map(\.step), [0, 1, 2, 3])
        try run.discardMetrics(fromStep: 2)
        XCTAssertEqual(try run.readMetrics().map(\.step), [0, 1])
        XCTAssertTrue(try String(contentsOf: run.metricsURL, encoding: .utf8).hasSuffix("}\n"))
        XCTAssertThrowsError(try TrainingRun.create(at: run.directory, config: TrainingConfig())) {
            XCTAssertTrue("\($0)".contains("--resume"), "\($0)")
        }
    }

    func testSeedBuffersAreCopiedAsSeeding() throws {
        var config = TrainingConfig()
        config.seedBuffers = Repository.root.appendingPathComponent("examples/buffers").path
        let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: config)
        for type in ["deduction", "abduction", "induction"] {
            let buffer = try TaskBuffer(name: type, url: run.buffersURL.appendingPathComponent("\(type).jsonl"))
            XCTAssertGreaterThanOrEqual(buffer.count, 3, type)
            XCTAssertTrue(buffer.triples.allSatisfy { $0.step == TrainingRun.givenStep }, type)
        }
        config.seedBuffers = temporaryDirectory().path
        XCTAssertThrowsError(try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: config))
    }

    func testReportDrawsEveryCurveAndEscapesModelText() throws {
        let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: TrainingConfig())
        for step in 0..<5 { try run.appendMetrics(Self.metrics(step: step)) }
        let task = Triple(type: "deduction", program: "def f(a):\n    return a < 3", input: "1", output: "True", step: 0, source: "proposer")
        let result = StepResult(step: 0, records: [], counters: StepCounters(),
                                proposals: [("deduction", "prompt", "<script>alert(1)</script>", .valid(task), 0.5)],
                                answers: [JudgedAnswer(taskType: "deduction", prompt: "p", task: task, completion: "</pre><b>x", outcome: .correct, reward: 1)])
        try run.writeSamples(step: 0, AZRGame.samples(result))
        XCTAssertEqual(run.readSamples(step: 0).map(\.role), ["propose", "solve"])
        let html = try RunReport(run: run).html()
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("</pre><b>"))
        XCTAssertTrue(html.contains("return a &lt; 3"))
        for title in ["Mean reward per task type × role", "Solver solve rate", "Valid proposals", "Buffer size", "Token throughput",
                      "Sandbox throughput", "Seconds per phase"] {
            XCTAssertTrue(html.contains(title), title)
        }
        // Six reward curves (task type × role) of five points each.
        let rewardChart = try XCTUnwrap(html.components(separatedBy: "<figure>").first { $0.contains("Mean reward") })
        XCTAssertEqual(rewardChart.components(separatedBy: "<polyline").count - 1, 6)
        XCTAssertEqual(rewardChart.components(separatedBy: "<circle").count - 1, 30)
    }

    static func metrics(step: Int) -> StepMetrics {
        var reward: [String: Double] = [:]
        for type in ["deduction", "abduction", "induction"] {
            reward["\(type).propose"] = -1 + 0.1 * Double(step)
            reward["\(type).solve"] = -0.5 + 0.2 * Double(step)
        }
        var counters = StepCounters()
        counters.proposals = ["deduction": 2]
        counters.valid = ["deduction": 1]
        counters.invalid = ["deduction": ["malformed": 1]]
        counters.solveRate = ["deduction": 0.25]
        counters.bufferSize = ["deduction": 3 + step]
        return StepMetrics(step: step, time: "", reward: reward, loss: 0.1, gradNorm: 0.5, clippedFraction: 0, entropy: nil, trainTokens: 100, trainTokensPerS: 120,
                           generatedTokens: 50, generateTokensPerS: 40, sandboxRuns: 10, sandboxRunsPerS: 300,
                           seconds: ["propose": 1, "update": 2], totalSeconds: 3, game: AZRGame.metrics(counters))
    }
}

final class StepMetricsJSONTests: XCTestCase {
    static func metrics(loss: Double, solve: Double) -> StepMetrics {
        StepMetrics(step: 3, time: "2026-11-30T00:00:00Z", reward: ["deduction.solve": solve], loss: loss, gradNorm: 1,
                    clippedFraction: 0, entropy: nil, trainTokens: 1, trainTokensPerS: 1, generatedTokens: 1,
                    generateTokensPerS: 1, sandboxRuns: 1, sandboxRunsPerS: 1, seconds: [:], totalSeconds: 1)
    }

    func testANonFiniteFigureIsNullInTheEventAndKeptInTheFile() throws {
        let event = try JSONSerialization.jsonObject(with: StepMetricsJSON.event(Self.metrics(loss: .nan, solve: -.infinity))) as! [String: Any]
        XCTAssertEqual(event["event"] as? String, "step")
        XCTAssertEqual(event["step"] as? Int, 3)
        XCTAssertTrue(event["loss"] is NSNull)
        XCTAssertTrue((event["reward"] as? [String: Any])?["deduction.solve"] is NSNull)
        XCTAssertEqual(event["non_finite"] as? [String], ["loss", "reward.deduction.solve"])
        let finite = try JSONSerialization.jsonObject(with: StepMetricsJSON.event(Self.metrics(loss: 0.5, solve: 1))) as! [String: Any]
        XCTAssertNil(finite["non_finite"])
        XCTAssertEqual(finite["loss"] as? Double, 0.5)

        // metrics.jsonl keeps the line, and reads it back.
        let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: TrainingConfig())
        try run.appendMetrics(Self.metrics(loss: .nan, solve: .infinity))
        try run.appendMetrics(Self.metrics(loss: 0.25, solve: 1))
        let read = try run.readMetrics()
        XCTAssertEqual(read.count, 2)
        XCTAssertTrue(read[0].loss.isNaN)
        XCTAssertEqual(read[0].reward["deduction.solve"], .infinity)
        XCTAssertEqual(read[1].loss, 0.25)
    }
}
