import Foundation
@testable import Gym
import Sandbox
import Tasks
import Trainer
import XCTest

func answer(_ blocks: [(String, String)]) -> String {
    "thinking</think> <answer>\n" + blocks.map { "```\($0.0)\n\($0.1)\n```" }.joined(separator: "\n") + "\n</answer>"
}

final class SelfPlayTests: SandboxPoolTestCase {
    /// A scripted model: proposals 0 and 1 of each type are valid, 2 is malformed, 3 is invalid (raises).
    /// As solver it never answers correctly: every other answer is malformed, the rest well formed and wrong.
    static let script = ScriptedPolicy { request, index in
        let program = "def f(s, n):\n    return s * n + str(\(index))"
        switch (request.role, request.taskType) {
        case (.propose, "induction"):
            switch index {
            case 2: return "I am not sure."
            case 3: return answer([("input", "1"), ("message", "x")])
            default:
                return answer((0..<10).map { ("input", "'\(index)-\($0)'") } + [("message", "Returns its input.")])
            }
        case (.propose, _):
            switch index {
            case 2: return "def f(x): return x"
            case 3: return answer([("python", "def f(x):\n    return 1 / 0"), ("input", "1")])
            default: return answer([("python", program), ("input", "'ab', \(index + 1)")])
            }
        case (.solve, _):
            return index % 2 == 0 ? "no idea" : answer([("output", "'nope'")])
        default:
            return ""
        }
    }

    func testOneStepProducesTheSixBatchesWithAZRRewards() throws {
        var settings = SelfPlaySettings()
        settings.proposalsPerType = 4
        settings.solverTasksPerType = 3
        settings.learnabilityRollouts = 4
        let directory = temporaryDirectory()
        let play = try SelfPlay(runner: ProgramRunner(pool: Self.pool), settings: settings, directory: directory, seed: 1)
        let result = try play.step(policy: Self.script)

        XCTAssertEqual(result.records.count, 3 * 4 + 3 * 3)
        XCTAssertEqual(Set(result.records.map(\.group)), ["deduction.propose", "abduction.propose", "induction.propose",
                                                          "deduction.solve", "abduction.solve", "induction.solve"])
        for type in ["deduction", "abduction", "induction"] {
            XCTAssertEqual(result.counters.proposals[type], 4)
            XCTAssertEqual(result.counters.valid[type], 2, type)
            let invalid = result.counters.invalid[type] ?? [:]
            XCTAssertEqual(invalid.values.reduce(0, +), 2, "\(type): \(invalid)")
            XCTAssertEqual(invalid["malformed"], 1, type)
        }
        XCTAssertEqual(result.counters.invalid["deduction"]?["raised"], 1)
        XCTAssertEqual(result.counters.invalid["induction"]?["too_few_inputs"], 1)
        // The scripted solver never answers correctly, so every valid proposal has solve rate 0 → reward 0; the
        // format-aware penalty gives the unreadable proposal −1 and the well-formed invalid one (it raises, or
        // lists too few inputs) −0.5.
        for type in ["deduction", "abduction", "induction"] {
            let rewards = result.records.filter { $0.group == "\(type).propose" }.map(\.reward).sorted()
            XCTAssertEqual(rewards, [-1, -0.5, 0, 0], type)
        }
        XCTAssertEqual(result.counters.rewardMean["deduction.propose"], -0.375)
        // Deduction answers alternate malformed (−1) and wrong (−0.5); abduction asks for an ```input block and
        // induction for a program, so to them an ```output block is malformed too.
        let solves = result.records.filter { $0.role == .solve }
        XCTAssertEqual(solves.count, 9)
        for record in solves {
            let expected = record.completion == "no idea" || record.taskType != "deduction" ? -1.0 : -0.5
            XCTAssertEqual(record.reward, expected, "\(record.taskType): \(record.completion)")
        }
        XCTAssertEqual(Set(solves.filter { $0.taskType == "deduction" }.map(\.reward)), [-1, -0.5])
        XCTAssertEqual(result.counters.solveRate["deduction"], 0)
        XCTAssertEqual(result.counters.bufferSize["deduction"], 3)
        XCTAssertEqual(result.counters.bufferSize["induction"], 3)
        XCTAssertGreaterThan(result.counters.sandboxJobs, 0)

        // The buffers are on disk, and this step's new tasks were put in front of the solver.
        let reopened = try TaskBuffer(name: "deduction", url: directory.appendingPathComponent("deduction.jsonl"))
        XCTAssertEqual(reopened.count, 3)
        let solvePrompts = result.records.filter { $0.group == "deduction.solve" }.map(\.prompt)
        XCTAssertTrue(solvePrompts.contains { $0.contains("return s * n + str(0)") })
    }

    func testLearnabilityRewardIsOneMinusTheSolveRate() throws {
        // The solver gets every other rollout right on the deduction task it is shown.
        let policy = ScriptedPolicy { request, index in
            switch request.role {
            case .propose where request.taskType == "deduction":
                return answer([("python", "def f(a):\n    return a * 3"), ("input", "14")])
            case .solve where request.taskType == "deduction":
                return answer([("output", index % 2 == 0 ? "42" : "41")])
            default:
                return "nothing"
            }
        }
        var settings = SelfPlaySettings()
        settings.proposalsPerType = 1
        settings.solverTasksPerType = 1
        settings.learnabilityRollouts = 8
        let registry = EnvironmentRegistry([DeductionTask()])
        let play = try SelfPlay(registry: registry, runner: ProgramRunner(pool: Self.pool), settings: settings, seed: 5)
        let result = try play.step(policy: policy)
        let proposal = try XCTUnwrap(result.records.first { $0.role == .propose })
        XCTAssertEqual(proposal.reward, 0.5)
        XCTAssertEqual(result.counters.proposalSolveRate["deduction"], 0.5)
    }

    /// `reuse_learnability_rollouts`: each valid proposal's rollouts become solver samples whitened among
    /// themselves, so only a task whose rollouts got different rewards moves the solver; the solver batch's own
    /// figures stay as they were.
    func testReusedLearnabilityRolloutsAreSolverSamplesGroupedPerProposal() throws {
        // Proposal 0 (a * 3 on 14) is solved by every other rollout; proposal 1 (a * 2 on 5) by none.
        let policy = ScriptedPolicy { request, index in
            switch request.role {
            case .propose:
                return index == 0 ? answer([("python", "def f(a):\n    return a * 3"), ("input", "14")])
                                  : answer([("python", "def f(a):\n    return a * 2"), ("input", "5")])
            case .solve:
                return answer([("output", request.prompt.contains("a * 3") && index % 2 == 0 ? "42" : "41")])
            default:
                return "nothing"
            }
        }
        let config = try TrainingConfig.applying(["reuse_learnability_rollouts=true", "proposals_per_type=2",
                                                  "solver_tasks_per_type=1", "learnability_rollouts=4"], to: TrainingConfig())
        var settings = config.selfPlaySettings
        XCTAssertTrue(settings.reuseLearnabilityRollouts)
        settings.answerFormat = .strict
        let registry = EnvironmentRegistry([DeductionTask()])
        let play = try SelfPlay(registry: registry, runner: ProgramRunner(pool: Self.pool), settings: settings, seed: 5)
        let result = try play.step(policy: policy)

        let reused = result.records.filter { $0.baseline != nil }
        XCTAssertEqual(reused.count, 8)
        XCTAssertTrue(reused.allSatisfy { $0.role == .solve && $0.kind == "deduction.solve" })
        XCTAssertEqual(Set(reused.map(\.group)), ["deduction.solve.learnability-0", "deduction.solve.learnability-1"])
        XCTAssertEqual(reused.filter { $0.group.hasSuffix("-0") }.map(\.reward), [1, -0.5, 1, -0.5])
        XCTAssertEqual(reused.filter { $0.group.hasSuffix("-1") }.map(\.reward), [-0.5, -0.5, -0.5, -0.5])
        XCTAssertEqual(result.counters.reusedRollouts, ["deduction": 8])
        XCTAssertEqual(result.counters.informativeRollouts, ["deduction": 4])
        XCTAssertEqual(result.records.filter { $0.role == .propose }.map(\.reward), [0.5, 0])

        // Whitened per proposal: the all-wrong task's rollouts get no advantage, the other's ±0.87.
        let advantages = TRRAdvantages(weighting: .sequences).advantages(
            rewards: result.records.map(\.reward), groups: result.records.map(\.group),
            lengths: result.records.map { _ in 1 })
        let byGroup = Dictionary(grouping: zip(result.records, advantages), by: { $0.0.group }).mapValues { $0.map(\.1) }
        XCTAssertEqual(byGroup["deduction.solve.learnability-1"], [0, 0, 0, 0])
        for (value, expected) in zip(byGroup["deduction.solve.learnability-0"]!, [0.866, -0.866, 0.866, -0.866]) {
            XCTAssertEqual(value, expected, accuracy: 0.001)
        }
        // The solver batch (one answer) is its own group, and its mean reward is its own.
        XCTAssertEqual(result.records.filter { $0.group == "deduction.solve" }.count, 1)
        XCTAssertEqual(result.counters.rewardMean.keys.sorted(), ["deduction.propose", "deduction.solve"])
        XCTAssertEqual(result.counters.solveRate["deduction"], result.records.first { $0.group == "deduction.solve" }!.reward == 1 ? 1 : 0)

        // The samples log marks them, and the metrics count them.
        let lines = AZRGame.samples(result)
        XCTAssertEqual(lines.filter { $0.source == "learnability" }.count, 8)
        XCTAssertEqual(lines.filter { $0.role == "solve" && $0.source == nil }.count, 1)
        let metrics = AZRGame.metrics(result.counters)
        XCTAssertEqual(metrics.numbers("reused_rollouts"), ["deduction": 8])
        XCTAssertEqual(metrics.numbers("informative_rollouts"), ["deduction": 4])

        // Off (the default), the rollouts only score the proposals, as in the paper.
        var off = settings
        off.reuseLearnabilityRollouts = false
        let plain = try SelfPlay(registry: registry, runner: ProgramRunner(pool: Self.pool), settings: off, seed: 5)
        let plainResult = try plain.step(policy: policy)
        XCTAssertEqual(plainResult.records.count, 3)
        XCTAssertTrue(plainResult.counters.reusedRollouts.isEmpty)
        XCTAssertNil(AZRGame.metrics(plainResult.counters)["reused_rollouts"])
    }

    /// Seeding keeps every proposal it judged, not only the ones that went into the buffers, so a seeding that
    /// adds few tasks shows why (samples/seeding.jsonl).
    func testSeedingRecordsEveryJudgedProposal() throws {
        var settings = SelfPlaySettings()
        settings.proposalsPerType = 4
        let play = try SelfPlay(runner: ProgramRunner(pool: Self.pool), settings: settings, directory: temporaryDirectory(), seed: 1)
        let game = AZRGame(play: play, seedSize: 3, seedingRounds: 1)
        let note = try XCTUnwrap(try game.prepare(policy: Self.script))
        XCTAssertTrue(note.contains("deduction 3"), note)
        let samples = game.preparationSamples
        XCTAssertEqual(samples.count, 3 * 2, "each type asked for the 2 tasks it lacked")
        XCTAssertEqual(Set(samples.map(\.step)), [TrainingRun.seedingStep])
        XCTAssertEqual(Set(samples.map(\.role)), ["propose"])
        for type in ["deduction", "abduction", "induction"] {
            XCTAssertEqual(samples.filter { $0.task_type == type }.map(\.outcome), ["valid", "valid"], type)
        }
        // A second round asks for what is still missing; proposals 2 and 3 of the script are invalid.
        let short = try SelfPlay(runner: ProgramRunner(pool: Self.pool), settings: settings, directory: temporaryDirectory(), seed: 1)
        let wanting = AZRGame(play: short, seedSize: 5, seedingRounds: 1)
        _ = try wanting.prepare(policy: Self.script)
        let deduction = wanting.preparationSamples.filter { $0.task_type == "deduction" }
        XCTAssertEqual(deduction.map(\.outcome), ["valid", "valid", "invalid: malformed", "invalid: raised"])
        XCTAssertNotNil(deduction[2].detail)
        XCTAssertEqual(deduction[0].task?.type, "deduction")

        let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: TrainingConfig())
        try run.writeSeedingSamples(wanting.preparationSamples)
        let lines = try String(contentsOf: run.samplesURL.appendingPathComponent("seeding.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines.count, wanting.preparationSamples.count)
        let first = try JSONDecoder().decode(TrainingRun.SampleLine.self, from: Data(lines[0].utf8))
        XCTAssertEqual(first.completion, wanting.preparationSamples[0].completion)
    }

    func testAStepIsReproducibleFromItsSeed() throws {
        var settings = SelfPlaySettings()
        settings.learnabilityRollouts = 2
        func run() throws -> [String] {
            let play = try SelfPlay(runner: ProgramRunner(pool: Self.pool), settings: settings, seed: 42)
            return try (0..<2).flatMap { _ in try play.step(policy: Self.script).records.map { "\($0.group) \($0.reward) \($0.prompt.hashValue)" } }
        }
        XCTAssertEqual(try run(), try run())
    }
}
