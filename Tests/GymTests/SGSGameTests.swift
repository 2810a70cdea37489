import Foundation
@testable import Gym
import Sandbox
import Tasks
import Trainer
import XCTest

/// SGS with a scripted model: the difficulty reward and its easy cut, both guide gates, guide parsing and the
/// mean for unreadable verdicts, the target bookkeeping of the cumulative curve, and held-out targets that never
/// reach a prompt — each against numbers worked out by hand.
final class SGSGameTests: SandboxPoolTestCase {
    static let targetTriples = [
        Triple(type: "deduction", program: "def f(x):\n    return x + 1", input: "1", output: "2"),
        Triple(type: "deduction", program: "def f(x):\n    return x * 3", input: "2", output: "6"),
        Triple(type: "deduction", program: "def f(x):\n    return x - 5", input: "9", output: "4"),
    ]

    /// Three targets, all played on (nothing held out).
    static func targets() throws -> SGSTargets {
        try SGSTargets(problems: targetTriples, source: "file", file: "test", seed: 0, heldOutFraction: 0, count: 0)
    }

    func game(_ settings: SGSSettings, targets: SGSTargets, directory: URL? = nil) throws -> SGSGame {
        let play = try SelfPlay(registry: EnvironmentRegistry([DeductionTask()]), runner: ProgramRunner(pool: Self.pool),
                                directory: directory, seed: 3)
        return try SGSGame(play: play, settings: settings, targets: targets, directory: directory, step: 0)
    }

    /// Round 1 with every target drawn (in the game's order) and two conjectures per target:
    /// conjectures 0–5 are x + 2 on 1, x * 2 on 4, x − 1 on 3, unreadable, raising, x + 10 on 0.
    /// Target attempts: T0 right once, T1 always wrong, T2 always malformed. Synthetic attempts: conjecture 0
    /// right 2 of 4 (s = 0.5), 1 right 3 of 4 (0.75), 2 right 1 of 4 (0.25), 5 never (0).
    /// Guide: conjecture 0 scores 5/0/0 (8 points), 1 scores 3/1/1 (4 points), 2 writes no tags.
    static func script(prompts: @escaping (PolicyRequest) -> Void = { _ in }) -> ScriptedPolicy {
        ScriptedPolicy { request, index in
            prompts(request)
            switch request.role {
            case .conjecture:
                return [answer([("python", "def f(x):\n    return x + 2"), ("input", "1")]),
                        answer([("python", "def f(x):\n    return x * 2"), ("input", "4")]),
                        answer([("python", "def f(x):\n    return x - 1"), ("input", "3")]),
                        "def f(x): return x",
                        answer([("python", "def f(x):\n    return 1 / 0"), ("input", "1")]),
                        answer([("python", "def f(x):\n    return x + 10"), ("input", "0")])][index % 6]
            case .solve:
                // Each task's four attempts are consecutive, so index % 4 is the attempt's number.
                let right = { (value: String) in answer([("output", value)]) }
                let wrong = answer([("output", "99")])
                let script: [(String, [String])] = [
                    ("return x + 10", [wrong, wrong, wrong, wrong]),                // conjecture 5
                    ("return x + 1", [right("2"), wrong, wrong, wrong]),            // T0
                    ("return x * 3", [wrong, wrong, wrong, wrong]),                 // T1
                    ("return x - 5", ["?", "?", "?", "?"]),                         // T2
                    ("return x + 2", [right("3"), right("3"), wrong, wrong]),       // conjecture 0
                    ("return x * 2", [right("8"), right("8"), right("8"), wrong]),  // conjecture 1
                    ("return x - 1", [right("2"), wrong, wrong, wrong]),            // conjecture 2
                ]
                return script.first { request.prompt.contains($0.0) }?.1[index % 4] ?? wrong
            case .guide:
                return ["<relevance>5</relevance> <redundancy>0</redundancy> <complexity>0</complexity>",
                        "<relevance>3</relevance> <redundancy>1</redundancy> <complexity>1</complexity>",
                        "it is a fine puzzle"][index % 3]
            default:
                return ""
            }
        }
    }

    static func settings(gate: SGSSettings.GuideGate = .product) -> SGSSettings {
        var settings = SGSSettings()
        settings.targetsPerRound = 3
        settings.conjecturesPerTarget = 2
        settings.solverAttempts = 4
        settings.easyCut = 0.5
        settings.guideGate = gate
        settings.guideThreshold = 0.6
        return settings
    }

    func testConjecturerRewardIsTheDifficultyRewardGatedByTheGuide() throws {
        var guidePrompts: [String] = []
        let targets = try Self.targets()
        let sgs = try game(Self.settings(), targets: targets)
        let result = try sgs.step(policy: Self.script { if $0.role == .guide { guidePrompts.append($0.prompt) } })

        // R_solve: the open rates 0.25, 0.5, 0.75 cut at index ⌊3 · 0.5⌋ = 1 (0.5): 0.75 is too easy; 0 unsolved.
        // Guide: 8/8 = 1, 4/8 = 0.5, and the unreadable verdict takes their mean, 0.75.
        // Product: 0.5 · 1, 0 · 0.5, 0.75 · 0.75; unreadable −1, raising −0.5, never solved 0.
        let conjecturer = result.records.filter { $0.role == .conjecture }
        XCTAssertEqual(conjecturer.map(\.reward), [0.5, 0, 0.5625, -1, -0.5, 0])
        XCTAssertTrue(conjecturer.allSatisfy { $0.group == "deduction.conjecture" })
        // The solver: AZR's 1 / −0.5 / −1 on every attempt, targets first.
        let solver = result.records.filter { $0.role == .solve }
        XCTAssertEqual(solver.count, 12 + 16)
        XCTAssertEqual(solver.prefix(12).map(\.reward).sorted(), [-1, -1, -1, -1, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, 1])
        XCTAssertEqual(solver.dropFirst(12).filter { $0.reward == 1 }.count, 6)
        // No guide record: the guide is scored, never trained.
        XCTAssertFalse(result.records.contains { $0.role == .guide })

        XCTAssertEqual(guidePrompts.count, 3)
        // The first conjecture was written for the first target drawn.
        XCTAssertTrue(guidePrompts[0].contains(targets.targets[0].program) && guidePrompts[0].contains("return x + 2"), guidePrompts[0])
        XCTAssertEqual(result.metrics.number("guide_score"), 0.75)
        XCTAssertEqual(result.metrics.numbers("guide_points"), ["7-8": 1, "3-4": 1])
        XCTAssertEqual(result.metrics.numbers("guide_failures"), ["missing_relevance": 1])
        XCTAssertEqual(result.metrics.number("guide_copied_example"), 0)
        XCTAssertEqual(result.metrics.numbers("valid_rate"), ["deduction": 4.0 / 6])
        XCTAssertEqual(result.metrics.numbers("synthetic_solve_rate"), ["deduction": 6.0 / 16])
        XCTAssertEqual(result.metrics.number("target_attempt_solve_rate"), 1.0 / 12)
        // Target 0 is solved: a third of the targets, one new.
        XCTAssertEqual(result.metrics.number("target_solve_rate_cumulative"), 1.0 / 3)
        XCTAssertEqual(result.metrics.number("targets_newly_solved"), 1)
        // Valid conjectures' size and nesting (all are a def with one return line).
        XCTAssertEqual(result.metrics.number("program_nesting"), 1)
        let samples = result.samples.filter { $0.role == "conjecture" }
        XCTAssertTrue(samples[0].detail?.contains("solve rate 0.50, R_solve 0.50; guide 1.00") == true, samples[0].detail ?? "")
    }

    func testThresholdGateKeepsTheDifficultyRewardAboveTheThresholdOnly() throws {
        let result = try game(Self.settings(gate: .threshold), targets: Self.targets()).step(policy: Self.script())
        // Guide scores 1, 0.5, 0.75 against the threshold 0.6: R_solve, 0, R_solve.
        XCTAssertEqual(result.records.filter { $0.role == .conjecture }.map(\.reward), [0.5, 0, 0.75, -1, -0.5, 0])
    }

    /// A solved target stays solved: it gets no more conjectures, and a later round that fails it does not lower
    /// the cumulative rate.
    func testASolvedTargetCountsAsSolvedFromThenOn() throws {
        let sgs = try game(Self.settings(), targets: Self.targets())
        _ = try sgs.step(policy: Self.script())
        var conjectured: [String] = []
        let failing = ScriptedPolicy { request, _ in
            if request.role == .conjecture { conjectured.append(request.prompt) }
            return "no answer"
        }
        let second = try sgs.step(policy: failing)
        XCTAssertEqual(conjectured.count, 4)
        XCTAssertFalse(conjectured.contains { $0.contains("return x + 1") })
        XCTAssertEqual(second.metrics.number("target_attempt_solve_rate"), 0)
        XCTAssertEqual(second.metrics.number("target_solve_rate_cumulative"), 1.0 / 3)
        XCTAssertEqual(second.metrics.number("targets_newly_solved"), 0)
        XCTAssertEqual(sgs.solved.triples.map(\.step), [0])
    }

    /// The greedy sweep before step 0 marks what the base model solves, at the seeding step, so a kill during it
    /// forgets it and a resume after it keeps it.
    func testTheSweepMarksTargetsSolvedAtTheSeedingStep() throws {
        let folder = temporaryDirectory()
        var settings = Self.settings()
        settings.initialSweep = true
        let sgs = try game(settings, targets: Self.targets(), directory: folder)
        var requests: [PolicyRequest] = []
        let line = try sgs.prepare(policy: ScriptedPolicy { request, _ in
            requests.append(request)
            return request.prompt.contains("x + 1") ? answer([("output", "2")]) : request.prompt.contains("x * 3") ? answer([("output", "6")]) : "?"
        })
        XCTAssertEqual(line, "the base model solves 2 of 3 targets greedily (0 more are held out)")
        XCTAssertTrue(requests.allSatisfy { $0.temperature == 0 && $0.scoringOnly && $0.role == .solve })
        XCTAssertEqual(sgs.cumulativeSolveRate, 2.0 / 3)
        XCTAssertEqual(sgs.solved.triples.map(\.step), [TrainingRun.seedingStep, TrainingRun.seedingStep])
        XCTAssertEqual(try sgs.solved.discard(fromStep: 0), 0)
        XCTAssertEqual(try sgs.solved.discard(fromStep: TrainingRun.seedingStep), 2)
        XCTAssertEqual(sgs.cumulativeSolveRate, 0)
    }

    /// Held-out targets never reach a prompt of the game — conjecturer, solver, guide or sweep — and with the
    /// held-out measurement on they reach only greedy, scoring-only solver prompts, never a record.
    func testHeldOutTargetsNeverReachAPrompt() throws {
        let problems = (0..<24).map { Triple(type: "deduction", program: "def f(x):\n    return x + \($0 * 7 + 100)", input: "1", output: "\($0 * 7 + 101)") }
        let targets = try SGSTargets(problems: problems, source: "file", file: "test", seed: 9, heldOutFraction: 0.5, count: 0)
        XCTAssertFalse(targets.heldOut.isEmpty)
        XCTAssertEqual(targets.targets.count + targets.heldOut.count, 24)
        let heldOutPrograms = targets.heldOut.map(\.program)
        for evaluate in [false, true] {
            var settings = Self.settings()
            settings.targetsPerRound = targets.targets.count
            settings.heldOutEvalEvery = evaluate ? 1 : 0
            settings.heldOutEvalSize = 0
            let sgs = try game(settings, targets: targets)
            var seen: [PolicyRequest] = []
            // Every conjecture is x + 2 on 1 and every answer 3: the synthetic tasks are solved, so the guide is
            // asked too; the targets are not.
            let policy = ScriptedPolicy { request, _ in
                seen.append(request)
                switch request.role {
                case .conjecture: return answer([("python", "def f(x):\n    return x + 2"), ("input", "1")])
                case .guide: return "<relevance>3</relevance> <redundancy>0</redundancy> <complexity>0</complexity>"
                default: return answer([("output", "3")])
                }
            }
            _ = try sgs.prepare(policy: policy)
            var records: [TrainingRecord] = []
            for _ in 0..<2 {
                let step = try sgs.step(policy: policy)
                records += step.records
                XCTAssertEqual(step.metrics.number("held_out_solve_rate") != nil, evaluate)
            }
            let leaking = seen.filter { request in heldOutPrograms.contains { request.prompt.contains($0) } }
            if evaluate {
                XCTAssertEqual(leaking.count, 2 * targets.heldOut.count)
                XCTAssertTrue(leaking.allSatisfy { $0.role == .solve && $0.scoringOnly && $0.temperature == 0 })
            } else {
                XCTAssertEqual(leaking.count, 0)
            }
            XCTAssertFalse(records.contains { record in heldOutPrograms.contains { record.prompt.contains($0) } })
            XCTAssertTrue(seen.contains { $0.role == .guide })
        }
    }

    /// A program's two CRUXEval directions fall on the same side; the split is the seed's; targets.json records
    /// it and refuses another.
    func testTheSplitKeepsAProgramOnOneSideAndIsRecorded() throws {
        let programs = (0..<40).map { "def f(s):\n    return s * \($0)" }
        let problems = programs.flatMap { program in
            ["deduction", "abduction"].map { Triple(type: $0, program: program, input: "'a'", output: "'aa'") }
        }
        let split = try SGSTargets(problems: problems, source: "cruxeval", file: "x", seed: 4, heldOutFraction: 0.5, count: 10)
        XCTAssertEqual(split.targets.count, 10)
        let heldPrograms = Set(split.heldOut.map(\.program))
        XCTAssertEqual(split.heldOut.count, 2 * heldPrograms.count)
        XCTAssertTrue(split.targets.allSatisfy { !heldPrograms.contains($0.program) })
        XCTAssertGreaterThan(heldPrograms.count, 10)
        XCTAssertLessThan(heldPrograms.count, 30)
        let again = try SGSTargets(problems: problems, source: "cruxeval", file: "x", seed: 4, heldOutFraction: 0.5, count: 10)
        XCTAssertEqual(again.selection, split.selection)
        let other = try SGSTargets(problems: problems, source: "cruxeval", file: "x", seed: 5, heldOutFraction: 0.5, count: 10)
        XCTAssertNotEqual(other.selection.held_out, split.selection.held_out)

        let folder = temporaryDirectory()
        try split.record(in: folder)
        try split.record(in: folder)
        XCTAssertEqual(try SGSTargets.recorded(in: folder), split.selection)
        XCTAssertThrowsError(try other.record(in: folder)) { error in
            XCTAssertTrue("\(error)".contains("records another target selection"), "\(error)")
        }
    }

    /// HumanEval+ as targets: real problems become induction tasks whose outputs are the canonical solution's;
    /// that solution passes the induction check and a wrong one does not; the conjecturer writes deduction tasks
    /// for them (induction has no conjecture prompt), shown the docstring and the calls.
    func testHumanEvalPlusTargetsAreInductionTasksConjecturedAsDeduction() throws {
        let path = try Repository.dataset("HumanEvalPlus-v0.1.10.jsonl.gz")
        let problems = Array(try BenchmarkLoader.load(path).prefix(6))
        let runner = ProgramRunner(pool: Self.pool)
        let converted = BenchmarkInduction.triples(from: problems, runner: runner)
        XCTAssertEqual(converted.triples.count + converted.rejected, 6)
        XCTAssertGreaterThanOrEqual(converted.triples.count, 5)
        let induction = InductionTask()
        let context = TaskContext(runner: runner, step: 0, format: .lenient)
        for (triple, problem) in zip(converted.triples, problems.filter { p in converted.triples.contains { $0.source == "import:\(p.taskID)" } }) {
            XCTAssertEqual(triple.type, "induction")
            XCTAssertEqual(triple.inputs?.count, triple.outputs?.count)
            XCTAssertGreaterThanOrEqual(triple.inputs?.count ?? 0, 2)
            XCTAssertTrue(triple.message?.contains(problem.entryPoint) == true)
            let canonical = answer([("python", problem.prompt + problem.canonicalSolution + "\n\ndef f(*args):\n    return \(problem.entryPoint)(*args)")])
            XCTAssertTrue(induction.check(completion: canonical, for: triple, context: context).isCorrect, problem.taskID)
            XCTAssertFalse(induction.check(completion: answer([("python", "def f(*args):\n    return None")]), for: triple, context: context).isCorrect)
        }

        let registry = EnvironmentRegistry([DeductionTask(), InductionTask()])
        let targets = try SGSTargets.load(source: .humanevalPlus, file: path, seed: 1, heldOutFraction: 0.5, count: 3,
                                          registry: registry, runner: runner)
        XCTAssertEqual(targets.targets.count, 3)
        XCTAssertGreaterThan(targets.heldOut.count, 50)
        let play = try SelfPlay(registry: registry, runner: runner, seed: 2)
        var settings = Self.settings()
        settings.initialSweep = false
        let sgs = try SGSGame(play: play, settings: settings, targets: targets, directory: nil, step: 0)
        var conjectures: [PolicyRequest] = []
        _ = try sgs.step(policy: ScriptedPolicy { request, _ in
            if request.role == .conjecture { conjectures.append(request) }
            return "no"
        })
        XCTAssertEqual(conjectures.count, 6)
        XCTAssertTrue(conjectures.allSatisfy { $0.taskType == "deduction" && $0.prompt.contains("Write the Python function `f` these calls come from") })
        // Without deduction in the run there is no type to conjecture in: one clear error.
        let inductionOnly = try SelfPlay(registry: EnvironmentRegistry([InductionTask()]), runner: runner, seed: 2)
        XCTAssertThrowsError(try SGSGame(play: inductionOnly, settings: settings, targets: targets, directory: nil, step: 0)) {
            XCTAssertTrue("\($0)".contains("conjecture_type \"deduction\""), "\($0)")
        }
    }

    /// `azr train --game sgs` builds the game from the config: the targets file named, the selection written to
    /// the run folder; a missing file is one clear error.
    func testTheCatalogBuildsSGSFromTheConfigAndRecordsTheSelection() throws {
        let folder = temporaryDirectory()
        let file = folder.appendingPathComponent("targets.jsonl")
        let lines = (0..<10).map { #"{"code": "def f(x):\n    return x + \#($0)", "input": "1", "output": "\#($0 + 1)"}"# }
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        var config = try TrainingConfig.applying(["targets=file", "targets_file=\(file.path)", "target_count=3", "task_types=[\"deduction\"]"],
                                                 to: TrainingConfig.preset("smoke", game: "sgs"))
        try config.validate()
        let run = folder.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run.appendingPathComponent("buffers"), withIntermediateDirectories: true)
        let game = try XCTUnwrap(GameCatalog.game(for: config, runner: ProgramRunner(pool: Self.pool), directory: run.appendingPathComponent("buffers"), step: 0) as? SGSGame)
        XCTAssertEqual(game.targets.targets.count, 3)
        let recorded = try XCTUnwrap(SGSTargets.recorded(in: run))
        XCTAssertEqual(recorded.targets.count, 3)
        XCTAssertLessThanOrEqual(recorded.held_out.count, 7)
        XCTAssertEqual(recorded.file, file.path)
        XCTAssertTrue(game.buffers.keys.contains("targets-solved"))
        config.targetsFile = folder.appendingPathComponent("missing.jsonl").path
        XCTAssertThrowsError(try GameCatalog.game(for: config, runner: ProgramRunner(pool: Self.pool), directory: nil, step: 0)) {
            XCTAssertEqual("\($0)", "targets_file \(folder.path)/missing.jsonl does not exist")
        }
    }

    func testGuideOutputParsing() throws {
        XCTAssertEqual(try SGSGuide.verdict("<relevance>4</relevance> <redundancy>0</redundancy> <complexity>1</complexity>"),
                       SGSGuide.Verdict(relevance: 4, redundancy: 0, complexity: 1))
        XCTAssertEqual(try SGSGuide.verdict("reasoning…\n<relevance> 2 </relevance>\n<redundancy>1</redundancy><complexity>0</complexity> done").points, 4)
        let cases: [(String, SGSGuide.OutputError)] = [
            ("<relevance>4</relevance>", .missing("redundancy")),
            ("4 0 1", .missing("relevance")),
            ("<relevance>4</relevance><relevance>3</relevance><redundancy>0</redundancy><complexity>1</complexity>", .several("relevance", 2)),
            ("<relevance>four</relevance><redundancy>0</redundancy><complexity>1</complexity>", .notAnInteger("relevance", "four")),
            ("<relevance>6</relevance><redundancy>0</redundancy><complexity>1</complexity>", .outOfRange("relevance", 6)),
            ("<relevance>3</relevance><redundancy>2</redundancy><complexity>1</complexity>", .outOfRange("redundancy", 2)),
            ("<relevance>3</relevance><redundancy>0</redundancy><complexity>5</complexity>", .outOfRange("complexity", 5)),
        ]
        for (output, expected) in cases {
            XCTAssertThrowsError(try SGSGuide.verdict(output), output) { XCTAssertEqual($0 as? SGSGuide.OutputError, expected, output) }
        }
        XCTAssertEqual(SGSGuide.OutputError.missing("relevance").reason, "missing_relevance")
        // The paper's combination: complexity 3 or 4 zeroes the score; otherwise relevance + (2 − c) + (1 − r).
        XCTAssertEqual(SGSGuide.Verdict(relevance: 5, redundancy: 0, complexity: 0).score, 1)
        XCTAssertEqual(SGSGuide.Verdict(relevance: 5, redundancy: 0, complexity: 3).points, 0)
        XCTAssertEqual(SGSGuide.Verdict(relevance: 0, redundancy: 1, complexity: 2).points, 0)
        XCTAssertEqual(SGSGuide.Verdict(relevance: 2, redundancy: 1, complexity: 2).points, 2)
        XCTAssertTrue(SGSGuide.stop.isComplete("<relevance>1</relevance> <redundancy>0</redundancy> <complexity>2</complexity>"))
        XCTAssertFalse(SGSGuide.stop.isComplete("<relevance>1</relevance> <redundancy>0</redundancy> <complexity>2"))
    }

    /// With easy_cut 0 the difficulty reward is AZR's learnability: 1 − s for 0 < s < 1, else 0.
    func testDifficultyRewardWithoutTheCutIsLearnability() {
        var settings = SGSSettings()
        settings.easyCut = 0
        XCTAssertEqual(settings.difficultyRewards([0, 0.25, 0.5, 0.75, 1]), [0, 0.75, 0.5, 0.25, 0])
        settings.easyCut = 0.3
        // Four open rates: the cut is the one at ⌊4 · 0.7⌋ = 2, so the highest is too easy.
        XCTAssertEqual(settings.difficultyRewards([0.25, 0.5, 0.75, 0.9, 1]), [0.75, 0.5, 0.25, 0, 0])
        XCTAssertEqual(settings.difficultyRewards([0, 1]), [0, 0])
    }

    func testProgramShape() {
        let simple = ProgramShape("def f(x):\n    return x")
        XCTAssertEqual([simple.characters, simple.nesting], [21, 1])
        let nested = "def f(xs):\n  out = []\n  for x in xs:\n    if x:\n      # keep it\n      out.append(x)\n\n  return out"
        XCTAssertEqual(ProgramShape(nested).nesting, 3)
    }

    /// The saturating curve recovers the parameters it was drawn from, and needs four points.
    func testSaturatingFitRecoversKnownParameters() throws {
        let truth = SaturatingFit(r0: 0.1, asymptote: 0.6, midpoint: 8, exponent: 1.5, residual: 0)
        // R0 is the first observed value, so the first point sits where the curve has barely left R0.
        let points = [(x: 0.01, y: truth.value(at: 0.01))] + (1...30).map { (x: Double($0), y: truth.value(at: Double($0))) }
        let fit = try XCTUnwrap(SaturatingFit.fit(points))
        XCTAssertEqual(fit.r0, 0.1, accuracy: 1e-4)
        XCTAssertEqual(fit.asymptote, 0.6, accuracy: 0.01)
        XCTAssertEqual(fit.midpoint, 8, accuracy: 0.5)
        XCTAssertEqual(fit.exponent, 1.5, accuracy: 0.1)
        XCTAssertLessThan(fit.residual, 1e-4)
        XCTAssertNil(SaturatingFit.fit(Array(points.prefix(3))))
    }
}
