import ExampleTasks
import Foundation
@testable import Gym
import Sandbox
import Tasks
import Trainer
import XCTest

/// The seam games plug in through: config, presets as data, registries, metrics.
final class GameSeamTests: XCTestCase {
    func testPresetsAreDataFilesPerGame() throws {
        XCTAssertEqual(PresetLibrary.names(game: "azr"), ["cpu", "paper", "smoke"])
        XCTAssertEqual(PresetLibrary.names(game: "lsp"), ["cpu", "smoke"])
        XCTAssertEqual(PresetLibrary.names(game: "sgs"), ["cpu", "smoke"])
        XCTAssertEqual(PresetLibrary.names(game: "soar"), ["cpu", "smoke"])
        for game in GameCatalog.names {
            for name in PresetLibrary.names(game: game) {
                let config = try TrainingConfig.preset(name, game: game)
                XCTAssertEqual(config.game, game)
                XCTAssertEqual(config.preset, name)
                XCTAssertNoThrow(try config.validate(), "\(game)/\(name)")
                XCTAssertFalse(try PresetLibrary.load(name, game: game).description.isEmpty, "\(game)/\(name)")
            }
        }
        let lsp = try TrainingConfig.preset("smoke", game: "lsp")
        XCTAssertEqual(lsp.taskTypes, ["deduction", "abduction"])
        XCTAssertEqual(lsp.klCoefficient, 0.05)
        XCTAssertThrowsError(try TrainingConfig.preset("paper", game: "lsp")) {
            XCTAssertEqual("\($0)", "unknown preset \"paper\" for game lsp (cpu, smoke)")
        }
        // A config file that switches game starts from that game's preset.
        let file = temporaryDirectory().appendingPathComponent("c.json")
        try Data(#"{"game": "lsp", "answers_per_query": 6}"#.utf8).write(to: file)
        let switched = try TrainingConfig.load(file.path, over: TrainingConfig.preset("smoke"))
        XCTAssertEqual(switched.game, "lsp")
        XCTAssertEqual(switched.taskTypes, ["deduction", "abduction"])
        XCTAssertEqual(switched.answersPerQuery, 6)
    }

    func testABrokenPresetFileIsReportedWithItsPath() throws {
        let folder = temporaryDirectory()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("azr"), withIntermediateDirectories: true)
        let files = [("typo", #"{"settings": {"stepz": 3}}"#, "unknown key \"stepz\" (did you mean \"steps\"?)"),
                     ("extra", #"{"settings": {}, "notes": 1}"#, "unknown key \"notes\""),
                     ("badvalue", #"{"settings": {"steps": "many"}}"#, "bad value for \"steps\""),
                     ("game", #"{"settings": {"game": "lsp"}}"#, "name neither"),
                     ("notjson", "{", "not JSON")]
        for (name, text, _) in files { try Data(text.utf8).write(to: folder.appendingPathComponent("azr/\(name).json")) }
        setenv("AZR_PRESET_DIR", folder.path, 1)
        defer { unsetenv("AZR_PRESET_DIR") }
        for (name, _, expected) in files {
            XCTAssertThrowsError(try TrainingConfig.preset(name)) { error in
                XCTAssertTrue("\(error)".contains("\(name).json") && "\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testGameSettingsAreCheckedAgainstTheGame() throws {
        let azr = try TrainingConfig.preset("smoke")
        XCTAssertThrowsError(try TrainingConfig.applying(["answers_per_query=8"], to: azr).validate()) {
            XCTAssertTrue("\($0)".contains("answers_per_query is an LSP setting; this run's game is azr"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["game=lps"], to: azr)) {
            XCTAssertTrue("\($0)".contains("\"lps\""), "\($0)")
        }
        var unknownGame = azr
        unknownGame.game = "lps"
        XCTAssertThrowsError(try unknownGame.validate()) { XCTAssertTrue("\($0)".contains("unknown game \"lps\""), "\($0)") }
        XCTAssertThrowsError(try TrainingConfig.applying(["task_types=[\"deduction\", \"deducton\"]"], to: azr).validate()) {
            XCTAssertTrue("\($0)".contains("unknown task type \"deducton\""), "\($0)")
        }
        // Induction's proposer reads the other buffers, so it cannot run alone.
        XCTAssertThrowsError(try TrainingConfig.applying(["task_types=[\"induction\"]"], to: azr).validate()) {
            XCTAssertTrue("\($0)".contains("draws references from"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["answers_per_query=1"], to: TrainingConfig.preset("smoke", game: "lsp")).validate())
        XCTAssertThrowsError(try TrainingConfig.applying(["proposals_per_type=3"], to: TrainingConfig.preset("smoke", game: "lsp")).validate()) {
            XCTAssertTrue("\($0)".contains("proposals_per_type is an AZR setting; this run's game is lsp"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["target_count=8"], to: azr).validate()) {
            XCTAssertTrue("\($0)".contains("target_count is an SGS setting; this run's game is azr"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["targets=crux"], to: TrainingConfig.preset("smoke", game: "sgs")).validate()) {
            XCTAssertTrue("\($0)".contains("targets must be one of cruxeval, cruxeval_o, cruxeval_i, humaneval_plus, mbpp_plus, file"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["targets=file"], to: TrainingConfig.preset("smoke", game: "sgs")).validate()) {
            XCTAssertTrue("\($0)".contains("needs targets_file"), "\($0)")
        }
        // SGS and SOAR share the target file and held-out keys; each refuses the other's own.
        let soar = try TrainingConfig.preset("smoke", game: "soar")
        XCTAssertEqual(soar.targets, "cruxeval_o")
        XCTAssertNoThrow(try TrainingConfig.applying(["held_out_fraction=0.3", "held_out_eval_every=2"], to: soar).validate())
        XCTAssertThrowsError(try TrainingConfig.applying(["targets=cruxeval_i"], to: azr).validate()) {
            XCTAssertTrue("\($0)".contains("targets is an SGS and SOAR setting; this run's game is azr"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["teacher_batches=4"], to: TrainingConfig.preset("smoke", game: "sgs")).validate()) {
            XCTAssertTrue("\($0)".contains("teacher_batches is a SOAR setting; this run's game is sgs"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["guide_gate=threshold"], to: soar).validate()) {
            XCTAssertTrue("\($0)".contains("guide_gate is an SGS setting; this run's game is soar"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["teacher_batches=1"], to: soar).validate()) {
            XCTAssertTrue("\($0)".contains("teacher_batches must be at least 2"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["promotion=always"], to: soar)) {
            XCTAssertTrue("\($0)".contains("promotion"), "\($0)")
        }
        XCTAssertEqual(try TrainingConfig.applying(["promotion=off", "student_steps=3"], to: soar).soarSettings.promotion, .off)
        // LSP-Zero is the self-reward switched off.
        let zero = try TrainingConfig.applying(["lsp_zero=true"], to: TrainingConfig.preset("smoke", game: "lsp"))
        XCTAssertEqual(zero.lspSettings.selfRewardWeight, 0)
        // A config saved before games existed is an AZR run with AZR's three task types.
        var old = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(azr)) as? [String: Any])
        for key in ["game", "task_types"] + TrainingConfig.lspKeys.map(\.stringValue) { old.removeValue(forKey: key) }
        let saved = try TrainingConfig.saved(JSONSerialization.data(withJSONObject: old))
        XCTAssertEqual(saved, azr)
    }

    /// A plug-in task type registered by name is built from the config and played by the game.
    func testAPlugInTaskTypeIsTakenFromTheConfig() throws {
        TaskTypeCatalog.register("exception") { _ in ExceptionTask() }
        let config = try TrainingConfig.applying(["task_types=[\"deduction\", \"exception\"]"], to: TrainingConfig.preset("smoke"))
        XCTAssertNoThrow(try config.validate())
        XCTAssertEqual(try config.registry.names, ["deduction", "exception"])
        let pool = try ZygotePool(policyNamed: "default", size: 1)
        defer { pool.shutdown() }
        let game = try GameCatalog.game(for: config, runner: ProgramRunner(pool: pool), directory: nil, step: 0)
        XCTAssertEqual(game.buffers.keys.sorted(), ["deduction", "exception"])
    }

    /// examples/custom-task's type, named in `task_types`, trains through `azr train` beside deduction: its
    /// buffer, its proposals and answers in the samples, its figures in the metrics.
    func testThePlugInTaskTypeTrainsThroughAzrTrain() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the small model is not installed (`make test` installs it)") }
        let runs = temporaryDirectory()
        let result = try azr(["train", "--model", "smollm2-135m", "--steps", "1", "--seed-size", "1", "--proposals-per-type", "1",
                              "--solver-tasks-per-type", "1", "--learnability-rollouts", "2", "--max-new-tokens", "24",
                              "--set", "max_prompt_tokens=320", "--set", "task_types=[\"deduction\", \"exception\"]",
                              "--runs", runs.path, "--name", "plugin", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let run = try TrainingRun.open(runs.appendingPathComponent("plugin"))
        XCTAssertEqual(run.config.taskTypes, ["deduction", "exception"])
        let metrics = try XCTUnwrap(try run.readMetrics().first)
        XCTAssertEqual(metrics.game.numbers("buffer_size").keys.sorted(), ["deduction", "exception"])
        XCTAssertNotNil(metrics.reward["exception.propose"])
        XCTAssertNotNil(metrics.reward["exception.solve"])
        let exception = try TaskBuffer(name: "exception", url: run.buffersURL.appendingPathComponent("exception.jsonl"))
        XCTAssertGreaterThanOrEqual(exception.count, 1)
        let roles = Set(run.readSamples(step: 0).filter { $0.task_type == "exception" }.map(\.role))
        XCTAssertEqual(roles, ["propose", "solve"])
    }

    /// metrics.jsonl lines written before the seam (AZR's fields at the top level) read back with those fields
    /// as the game's, and write out again byte for byte.
    func testMetricsLinesFromBeforeTheSeamStillRead() throws {
        let line = #"{"added":{"deduction":1},"buffer_size":{"abduction":4,"deduction":5},"clipped_fraction":0,"generate_tokens_per_s":41.5,"generated_tokens":300,"grad_norm":0.25,"invalid":{"abduction":{"malformed":2}},"kl":0.01,"loss":-0.5,"proposal_solve_rate":{"deduction":0.5},"reward":{"deduction.propose":-0.5},"sandbox_runs":12,"sandbox_runs_per_s":200,"seconds":{"propose":3},"solve_rate":{"abduction":0.25},"step":4,"time":"2026-11-28T10:00:00Z","total_seconds":9,"train_tokens":800,"train_tokens_per_s":150,"valid_rate":{"deduction":1}}"#
        let metrics = try StepMetricsJSON.fileDecoder.decode(StepMetrics.self, from: Data(line.utf8))
        XCTAssertEqual(metrics.step, 4)
        XCTAssertEqual(metrics.kl, 0.01)
        XCTAssertEqual(metrics.game.numbers("buffer_size"), ["abduction": 4, "deduction": 5])
        XCTAssertEqual(metrics.game["invalid"]?.leaves, ["abduction.malformed": 2])
        XCTAssertEqual(Set(metrics.game.keys), ["added", "buffer_size", "invalid", "proposal_solve_rate", "solve_rate", "valid_rate"])
        XCTAssertEqual(String(decoding: try StepMetricsJSON.fileEncoder.encode(metrics), as: UTF8.self), line)
        // A game may not reuse a loop key.
        var clash = metrics
        clash.game["loss"] = .number(1)
        XCTAssertThrowsError(try StepMetricsJSON.fileEncoder.encode(clash))
    }

    /// The report draws every series it finds: a game's declared panels and, for a key it did not declare, a
    /// chart of its own.
    func testReportChartsAGamesSeries() throws {
        var config = try TrainingConfig.preset("smoke", game: "lsp")
        config.steps = 3
        let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: config)
        for step in 0..<3 {
            var game: GameMetrics = [:]
            game.set("query_value", ["deduction": 0.1 * Double(step), "abduction": 0.2])
            game.set("judge_score", 0.5)
            game.set("undeclared_figure", 3.0 + Double(step))
            try run.appendMetrics(StepMetrics(step: step, time: "", reward: ["deduction.challenge": -0.5], loss: 0.1, gradNorm: 1,
                                              clippedFraction: 0, kl: 0.02, trainTokens: 1, trainTokensPerS: 1, generatedTokens: 1,
                                              generateTokensPerS: 1, sandboxRuns: 1, sandboxRunsPerS: 1,
                                              seconds: ["challenge": 1, "judge": 2], totalSeconds: 3, game: game))
        }
        let html = try RunReport(run: run).html()
        for title in ["LSP run", "Query value V(q)", "Self-reward: mean judge score", "undeclared_figure", "KL to the starting model",
                      "Seconds per phase"] {
            XCTAssertTrue(html.contains(title), title)
        }
        XCTAssertFalse(html.contains("Valid queries"), "a panel without data is not drawn")
        let chart = try XCTUnwrap(html.components(separatedBy: "<figure>").first { $0.contains("Query value") })
        XCTAssertEqual(chart.components(separatedBy: "<polyline").count - 1, 2)
    }

    /// A panel that asks for the saturating fit gets the fitted curve beside the data and its asymptote; too few
    /// steps are said, not fitted.
    func testReportFitsTheSaturatingCurveAPanelAsksFor() throws {
        var config = try TrainingConfig.preset("smoke", game: "sgs")
        for steps in [8, 3] {
            config.steps = steps
            let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: config)
            let truth = SaturatingFit(r0: 0.2, asymptote: 0.5, midpoint: 3, exponent: 2, residual: 0)
            for step in 0..<steps {
                var game: GameMetrics = [:]
                game.set("target_solve_rate_cumulative", truth.value(at: Double(step + 1)))
                try run.appendMetrics(StepMetrics(step: step, time: "", reward: ["deduction.solve": 0], loss: 0, gradNorm: 1,
                                                  clippedFraction: 0, kl: nil, trainTokens: 1, trainTokensPerS: 1, generatedTokens: 1,
                                                  generateTokensPerS: 1, sandboxRuns: 1, sandboxRunsPerS: 1,
                                                  seconds: ["solve": 1], totalSeconds: 1, game: game))
            }
            let html = try RunReport(run: run).html()
            let chart = try XCTUnwrap(html.components(separatedBy: "<figure>").first { $0.contains("Cumulative target solve rate") })
            if steps == 8 {
                XCTAssertEqual(chart.components(separatedBy: "<polyline").count - 1, 2, "the data and the fit")
                let fit = try XCTUnwrap(SaturatingFit.fit((1...steps).map { (x: Double($0), y: truth.value(at: Double($0))) }))
                XCTAssertEqual(fit.asymptote, 0.5, accuracy: 0.05)
                XCTAssertTrue(chart.contains(String(format: "(fit: A = %.3f)", fit.asymptote)), chart)
                XCTAssertTrue(html.contains(String(format: "asymptote A = %.3f", fit.asymptote)), html)
            } else {
                XCTAssertEqual(chart.components(separatedBy: "<polyline").count - 1, 1)
                XCTAssertTrue(html.contains("too few steps (3) to fit a saturating curve"), html)
            }
        }
    }
}
