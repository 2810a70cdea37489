import Foundation
@testable import Gym
import Sandbox
import Tasks
import Trainer
import XCTest

/// LSP's formulas with a scripted model: V(q), V̄, both advantages, the self-reward and its parsing, checked
/// against numbers worked out by hand.
final class LSPGameTests: SandboxPoolTestCase {
    /// Four deduction queries: two valid (f(2) = 3 and f(5) = 10), one unreadable, one that raises. Query 0's
    /// four answers are right, right, wrong, malformed; query 1's right, wrong, wrong, wrong. The judge scores
    /// 7, 0, (no tag), 9 (out of range) for query 0 and 7, 0, (two tags), 0 for query 1.
    static func script(judged: @escaping (PolicyRequest) -> Void = { _ in }) -> ScriptedPolicy {
        ScriptedPolicy { request, index in
            switch request.role {
            case .challenge:
                return [answer([("python", "def f(x):\n    return x + 1"), ("input", "2")]),
                        answer([("python", "def f(x):\n    return x * 2"), ("input", "5")]),
                        "def f(x): return x",
                        answer([("python", "def f(x):\n    return 1 / 0"), ("input", "1")])][index % 4]
            case .solve:
                return [answer([("output", "3")]), answer([("output", "3")]), answer([("output", "4")]), "no idea",
                        answer([("output", "10")]), answer([("output", "9")]), answer([("output", "9")]), answer([("output", "9")])][index]
            case .judge:
                judged(request)
                return ["1. yes\n<score>7</score>", "<score>0</score>", "all good", "<score>9</score>",
                        "<score> 7 </score>", "<score>0</score>", "<score>1</score> or <score>2</score>", "<score>0</score>"][index]
            default:
                return ""
            }
        }
    }

    func game(_ settings: LSPSettings) throws -> LSPGame {
        let play = try SelfPlay(registry: EnvironmentRegistry([DeductionTask()]), runner: ProgramRunner(pool: Self.pool), seed: 3)
        return LSPGame(play: play, settings: settings, step: 0)
    }

    func testRewardsAndAdvantagesFollowLSPsFormulas() throws {
        var settings = LSPSettings()
        settings.queriesPerType = 4
        settings.answersPerQuery = 4
        settings.challengerWeight = 0.5
        settings.selfRewardWeight = 1
        var judgePrompts: [String] = []
        let lsp = try game(settings)
        let result = try lsp.step(policy: Self.script { judgePrompts.append($0.prompt) })

        let solver = result.records.filter { $0.role == .solve }
        let challenger = result.records.filter { $0.role == .challenge }
        // R + R_Q: R is 1/0 (binary), R_Q = score / 7, and an unreadable verdict counts 0.
        XCTAssertEqual(solver.map(\.reward), [2, 1, 0, 0, 2, 0, 0, 0])
        XCTAssertEqual(solver.map(\.group), Array(repeating: "query.0", count: 4) + Array(repeating: "query.1", count: 4))
        // −V(q) + V_Q(q) for the valid queries (V = 0.5 and 0.25, V_Q = 0.25 both); −1 and −0.5 for the others.
        XCTAssertEqual(challenger.map(\.reward), [-0.25, 0, -1, -0.5])
        XCTAssertTrue(challenger.allSatisfy { $0.group == "challenge" && $0.weight == 0.5 })
        XCTAssertTrue(solver.allSatisfy { $0.weight == 1 })

        let records = result.records
        let advantages = lsp.advantages.advantages(rewards: records.map(\.reward), groups: records.map(\.group),
                                                   lengths: records.map { _ in 5 })
        let byRecord = Dictionary(uniqueKeysWithValues: zip(records.indices, advantages))
        let solverAdvantages = records.indices.filter { records[$0].role == .solve }.map { byRecord[$0]! }
        let challengerAdvantages = records.indices.filter { records[$0].role == .challenge }.map { byRecord[$0]! }
        // R − V(q) per query (its group's mean): 0.75 and 0.5.
        XCTAssertEqual(solverAdvantages, [1.25, 0.25, -0.75, -0.75, 1.5, -0.5, -0.5, -0.5])
        // Challenger: reward − the batch mean (−0.4375).
        XCTAssertEqual(challengerAdvantages, [0.1875, 0.4375, -0.5625, -0.0625])

        // Metrics: V(q), valid rate, the judge's mean score and its typed failures.
        XCTAssertEqual(result.metrics.numbers("query_value"), ["deduction": 0.375])
        XCTAssertEqual(result.metrics.numbers("valid_rate"), ["deduction": 0.5])
        XCTAssertEqual(result.metrics.numbers("solve_rate"), ["deduction": 0.375])
        XCTAssertEqual(try XCTUnwrap(result.metrics.number("judge_score")), 2.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(result.metrics.numbers("judge_failures"), ["missing_score": 1, "out_of_range": 1, "several_scores": 1])
        XCTAssertEqual(result.metrics["invalid"], .group(["deduction": .group(["malformed": .number(1), "raised": .number(1)])]))
        // The judge saw each task whole and the answer it scores.
        XCTAssertEqual(judgePrompts.count, 8)
        XCTAssertTrue(judgePrompts[0].contains("return x + 1") && judgePrompts[0].contains("# output: 3"), judgePrompts[0])
        // Valid queries join the buffer; the samples log has every query, answer and verdict.
        XCTAssertEqual(lsp.buffers["deduction"]?.count, 1 + 2)
        XCTAssertEqual(result.samples.filter { $0.role == "challenge" }.map(\.outcome), ["valid", "valid", "invalid: malformed", "invalid: raised"])
        XCTAssertTrue(result.samples.first { $0.role == "solve" }?.detail?.contains("judge: 1. yes") == true)
    }

    /// LSP-Zero: no judge is asked, and with every query valid the challenger's advantage is exactly V̄ − V(q).
    func testLSPZeroChallengerAdvantageIsTheBatchMeanMinusTheQueryValue() throws {
        var settings = LSPSettings()
        settings.queriesPerType = 2
        settings.answersPerQuery = 4
        settings.selfRewardWeight = 0
        var judged = 0
        let lsp = try game(settings)
        let result = try lsp.step(policy: Self.script { _ in judged += 1 })
        XCTAssertEqual(judged, 0)
        XCTAssertNil(result.metrics["judge_score"])
        let records = result.records
        let advantages = lsp.advantages.advantages(rewards: records.map(\.reward), groups: records.map(\.group),
                                                   lengths: records.map { _ in 1 })
        let values = [0.5, 0.25], mean = 0.375
        let challenger = records.indices.filter { records[$0].role == .challenge }
        XCTAssertEqual(challenger.map { records[$0].reward }, values.map { -$0 })
        XCTAssertEqual(challenger.map { advantages[$0] }, values.map { mean - $0 })
        XCTAssertEqual(records.indices.filter { records[$0].role == .solve }.map { advantages[$0] },
                       [0.5, 0.5, -0.5, -0.5, 0.75, -0.25, -0.25, -0.25])
    }

    /// AZR's format-aware 1 / −0.5 / −1 as the solver's reward, when asked.
    func testFormatAwareSolverReward() throws {
        var settings = LSPSettings()
        settings.queriesPerType = 1
        settings.answersPerQuery = 4
        settings.selfRewardWeight = 0
        settings.solverReward = .formatAware
        let result = try game(settings).step(policy: Self.script())
        XCTAssertEqual(result.records.filter { $0.role == .solve }.map(\.reward), [1, 1, -0.5, -1])
        XCTAssertEqual(result.records.filter { $0.role == .challenge }.map(\.reward), [-0.125])
    }

    /// The judge's verdict is read strictly: one `<score>N</score>` with N in 0…7; anything else is a typed
    /// failure, never a crash.
    func testJudgeOutputParsing() {
        XCTAssertEqual(try LSPJudge.score("1. yes\n2. no\n<score>5</score>"), 5)
        XCTAssertEqual(try LSPJudge.score("<score>\n0\n</score> trailing"), 0)
        XCTAssertEqual(try LSPJudge.score("<score>7</score>"), 7)
        let cases: [(String, LSPJudge.OutputError)] = [
            ("7/7", .missingScore), ("<score>6", .missingScore), ("", .missingScore),
            ("<score>3</score><score>4</score>", .severalScores(2)),
            ("<score>six</score>", .notAnInteger("six")), ("<score>5.5</score>", .notAnInteger("5.5")),
            ("<score>8</score>", .outOfRange(8)), ("<score>-1</score>", .outOfRange(-1)),
        ]
        for (output, expected) in cases {
            XCTAssertThrowsError(try LSPJudge.score(output), output) { XCTAssertEqual($0 as? LSPJudge.OutputError, expected, output) }
        }
        XCTAssertTrue(AnswerStop.scoreTag.isComplete("1. yes\n<score>3</score>"))
        XCTAssertFalse(AnswerStop.scoreTag.isComplete("1. yes\n<score>3"))
        XCTAssertEqual(LSPJudge.criteria.count, 7)
    }
}
