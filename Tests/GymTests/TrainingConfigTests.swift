import Foundation
@testable import Gym
import Tasks
import Trainer
import XCTest

final class TrainingConfigTests: XCTestCase {
    func testPresetsFollowThePaperWhereTheyShould() throws {
        let paper = try XCTUnwrap(TrainingConfig.preset("paper"))
        XCTAssertEqual(paper.proposalsPerType, 64)
        XCTAssertEqual(paper.solverTasksPerType, 64)
        XCTAssertEqual(paper.learnabilityRollouts, 8)
        XCTAssertEqual(paper.learnabilityTemperature, 1.0)
        XCTAssertEqual(paper.temperature, 1.0)
        XCTAssertEqual(paper.references, 6)
        XCTAssertEqual(paper.inductionInputs, 10)
        XCTAssertEqual(paper.seedSize, 256)
        XCTAssertEqual(paper.answerFormat, .strict)
        XCTAssertEqual(paper.ppoClip, 0.2)
        XCTAssertEqual(paper.weightDecay, 0.01)
        XCTAssertEqual(paper.gradientClip, 1.0)
        XCTAssertEqual(paper.rewards, RewardSettings())
        XCTAssertEqual((try TrainingConfig.preset("smoke")).steps, 2)
        XCTAssertThrowsError(try TrainingConfig.preset("huge"))
        for name in PresetLibrary.names(game: "azr") { XCTAssertNoThrow(try TrainingConfig.preset(name).validate(), name) }
    }

    func testAConfigFileOverridesOnlyTheKeysItNames() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"preset": "cpu", "steps": 7, "learning_rate": 3e-6, "rewards": {"correct": 1, "wrong": -0.5, "malformed": -1, "extreme_solve_rate": -0.5, "invalid_proposal": -1}}"#.utf8).write(to: file)
        let config = try TrainingConfig.load(file.path, over: (try TrainingConfig.preset("smoke")))
        let cpu = (try TrainingConfig.preset("cpu"))
        XCTAssertEqual(config.preset, "cpu")
        XCTAssertEqual(config.steps, 7)
        XCTAssertEqual(config.learningRate, 3e-6)
        XCTAssertEqual(config.rewards.extremeSolveRate, -0.5)
        XCTAssertEqual(config.proposalsPerType, cpu.proposalsPerType)
        XCTAssertEqual(config.maxNewTokens, cpu.maxNewTokens)

        try Data(#"{"steps": "many"}"#.utf8).write(to: file)
        XCTAssertThrowsError(try TrainingConfig.load(file.path, over: TrainingConfig())) {
            XCTAssertTrue("\($0)".contains("\"steps\""), "\($0)")
        }
        try Data(#"{"preset": "huge"}"#.utf8).write(to: file)
        XCTAssertThrowsError(try TrainingConfig.load(file.path, over: TrainingConfig())) {
            XCTAssertTrue("\($0)".contains("unknown preset \"huge\""), "\($0)")
        }
    }

    func testAnUnknownKeyInAFileIsAnErrorNamingTheFileAndTheNearestKey() throws {
        let file = temporaryDirectory().appendingPathComponent("typo.json")
        try Data(#"{"steps": 3, "learnig_rate": 1e-6}"#.utf8).write(to: file)
        XCTAssertThrowsError(try TrainingConfig.load(file.path, over: TrainingConfig())) {
            XCTAssertEqual("\($0)", "cannot read config \(file.path): unknown key \"learnig_rate\" (did you mean \"learning_rate\"?)")
        }
        // No hint when nothing is close; a run's own config.json is checked the same way.
        try Data(#"{"colour": "blue"}"#.utf8).write(to: file)
        XCTAssertThrowsError(try TrainingConfig.load(file.path, over: TrainingConfig())) {
            XCTAssertEqual("\($0)", "cannot read config \(file.path): unknown key \"colour\"")
        }
        XCTAssertThrowsError(try TrainingConfig.saved(Data(#"{"prompt_style": "instruct", "topic_hint": true}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("unknown key \"topic_hint\" (did you mean \"topic_hints\"?)"), "\($0)")
        }
        XCTAssertEqual(NearestName.closest(to: "lerning_rate", in: TrainingConfig.keyNames), "learning_rate")
        XCTAssertNil(NearestName.closest(to: "zzz", in: TrainingConfig.keyNames))
    }

    func testSetReachesAnyKeyAndRejectsUnknownOnes() throws {
        let config = try TrainingConfig.applying(["learning_rate=2e-6", "template=plain", "rewards.extreme_solve_rate=-0.5",
                                                  "answer_format=strict", "model=/tmp/m.gguf"], to: TrainingConfig())
        XCTAssertEqual(config.learningRate, 2e-6)
        XCTAssertEqual(config.template, .plain)
        XCTAssertEqual(config.rewards.extremeSolveRate, -0.5)
        XCTAssertEqual(config.rewards.wrong, -0.5)
        XCTAssertEqual(config.answerFormat, .strict)
        XCTAssertEqual(config.model, "/tmp/m.gguf")
        XCTAssertThrowsError(try TrainingConfig.applying(["learnig_rate=1"], to: TrainingConfig())) {
            XCTAssertTrue("\($0)".contains("unknown key \"learnig_rate\" (did you mean \"learning_rate\"?)"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["rewards.bonus=1"], to: TrainingConfig())) {
            XCTAssertTrue("\($0)".contains("unknown reward \"bonus\""), "\($0)")
        }
        // A dotted setting changes one reward over the base's others.
        var base = TrainingConfig()
        base.rewards.malformed = -2
        let one = try TrainingConfig.applying(["rewards.wrong=-0.25"], to: base)
        XCTAssertEqual(one.rewards.wrong, -0.25)
        XCTAssertEqual(one.rewards.malformed, -2)
        XCTAssertThrowsError(try TrainingConfig.applying(["steps"], to: TrainingConfig()))
        XCTAssertThrowsError(try TrainingConfig.applying(["template=fancy"], to: TrainingConfig())) {
            XCTAssertTrue("\($0)".contains("template"), "\($0)")
        }
    }

    func testTheExampleConfigsLoad() throws {
        let folder = Repository.root.appendingPathComponent("examples/configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 3)
        for file in files {
            let config = try TrainingConfig.load(folder.appendingPathComponent(file).path, over: (try TrainingConfig.preset("smoke")))
            XCTAssertNoThrow(try config.validate(), file)
        }
    }

    func testAPartialRewardsObjectChangesOnlyWhatItNames() throws {
        let folder = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("rewards.json")
        try Data(#"{"rewards": {"extreme_solve_rate": -0.5}}"#.utf8).write(to: file)
        let config = try TrainingConfig.load(file.path, over: (try TrainingConfig.preset("smoke")))
        var expected = RewardSettings()
        expected.extremeSolveRate = -0.5
        XCTAssertEqual(config.rewards, expected)
        XCTAssertEqual(config.maxNewTokens, (try TrainingConfig.preset("smoke")).maxNewTokens)

        try Data(#"{"rewards": {"bonus": 1}}"#.utf8).write(to: file)
        XCTAssertThrowsError(try TrainingConfig.load(file.path, over: TrainingConfig())) { error in
            XCTAssertTrue("\(error)".contains("unknown reward \"bonus\""), "\(error)")
        }
        // A run folder's config.json, written whole, reads back the same.
        let data = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfig.self, from: data).rewards, expected)
    }

    func testValidationNamesTheSetting() {
        var config = TrainingConfig()
        config.topP = 1.5
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("top_p"), "\($0)") }
        config = TrainingConfig()
        config.advantageWeighting = "words"
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("advantage_weighting"), "\($0)") }
        config = try! TrainingConfig.applying(["kl_coefficient=-0.1"], to: TrainingConfig())
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("kl_coefficient"), "\($0)") }
        XCTAssertEqual(try TrainingConfig.applying(["kl_coefficient=0.05"], to: TrainingConfig()).klCoefficient, 0.05)
        XCTAssertEqual(TrainingConfig().klCoefficient, 0, "AZR has no KL anchor")
    }

    func testChatTemplateKeepsTheThinkOpening() {
        let prompt = AnswerFormat.wrap("Solve this.")
        XCTAssertEqual(PromptTemplate.plain.render(prompt), "User: Solve this.\nAssistant: <think>")
        XCTAssertEqual(PromptTemplate.chatml.render(prompt),
                       "<|im_start|>user\nSolve this.<|im_end|>\n<|im_start|>assistant\n<think>")
    }

    func testTheFilesChatTemplateWrapsInstructPromptsAndAZRPrompts() {
        let qwen = ChatTemplate(family: .chatml, defaultSystem: "You are Qwen.")
        XCTAssertEqual(PromptTemplate.auto.render("Complete the assertion.", chat: qwen),
                       "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nComplete the assertion.<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(PromptTemplate.auto.render(AnswerFormat.wrap("Solve this."), chat: qwen),
                       "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nSolve this.<|im_end|>\n<|im_start|>assistant\n<think>")
        // A file without a template it knows: the text as is.
        XCTAssertEqual(PromptTemplate.auto.render("Solve this.", chat: nil), "Solve this.")
    }

    func testPresetsChooseTheProtocolAndOldRunsKeepTheirs() throws {
        XCTAssertEqual((try TrainingConfig.preset("smoke")).promptStyle, .instruct)
        XCTAssertEqual((try TrainingConfig.preset("cpu")).promptStyle, .instruct)
        XCTAssertEqual((try TrainingConfig.preset("paper")).promptStyle, .azr)
        XCTAssertEqual((try TrainingConfig.preset("paper")).answerFormat, .strict)
        XCTAssertEqual((try TrainingConfig.preset("paper")).topicHints, false)
        // The registry's task types use the config's style.
        let registry = try TrainingConfig().registry
        XCTAssertTrue(registry["deduction"]!.solverPrompt(for: IdentitySeeds.single(type: "deduction")).contains("assert f('Hello world') == ??"))
        // A config.json saved before prompt styles existed (no prompt_style key) resumes with AZR's prompts.
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode((try TrainingConfig.preset("cpu")))) as! [String: Any]
        old.removeValue(forKey: "prompt_style")
        old.removeValue(forKey: "topic_hints")
        let resumed = try TrainingConfig.saved(JSONSerialization.data(withJSONObject: old))
        XCTAssertEqual(resumed.promptStyle, .azr)
        XCTAssertFalse(resumed.topicHints)
        XCTAssertEqual(try TrainingConfig.saved(JSONEncoder().encode((try TrainingConfig.preset("cpu")))), (try TrainingConfig.preset("cpu")))
    }

    func testSolversStopAtTheirAnswerUnlessTheRunPredatesIt() throws {
        let config = TrainingConfig()
        XCTAssertTrue(config.stopAtAnswer)
        XCTAssertEqual(try config.registry["deduction"]?.solverStop, .assertionLine)
        XCTAssertEqual(try config.registry["abduction"]?.solverStop, .assertionLine)
        XCTAssertEqual(try config.registry["induction"]?.solverStop, .functionBlock)
        let off = try TrainingConfig.applying(["stop_at_answer=false"], to: config)
        XCTAssertNil(try off.registry["deduction"]?.solverStop)
        // The paper's protocol stops at `</answer>` instead.
        XCTAssertNil(try TrainingConfig.preset("paper").registry["deduction"]?.solverStop)
        // A run saved before the setting existed sampled to the end of turn, and resumes that way.
        var old = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
        XCTAssertEqual(old["stop_at_answer"] as? Bool, true)
        old.removeValue(forKey: "stop_at_answer")
        XCTAssertFalse(try TrainingConfig.saved(JSONSerialization.data(withJSONObject: old)).stopAtAnswer)
    }

    func testSolversAnswerDirectlyUnlessAskedToReason() throws {
        let triple = IdentitySeeds.single(type: "deduction")
        XCTAssertFalse(TrainingConfig().solverReasoning)
        for type in ["deduction", "abduction"] {
            let direct = try TrainingConfig().registry[type]!.solverPrompt(for: IdentitySeeds.single(type: type))
            XCTAssertTrue(direct.hasSuffix("Reply with only the completed assertion, one line of Python."), direct)
            XCTAssertFalse(direct.contains("step by step"))
        }
        var reasoning = TrainingConfig()
        reasoning = try TrainingConfig.applying(["solver_reasoning=true"], to: reasoning)
        XCTAssertTrue(try reasoning.registry["deduction"]!.solverPrompt(for: triple).contains("Think it through step by step"))
        // An instruct run saved before the setting existed reasoned first, and resumes so.
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode((try TrainingConfig.preset("cpu")))) as! [String: Any]
        old.removeValue(forKey: "solver_reasoning")
        XCTAssertTrue(try TrainingConfig.saved(JSONSerialization.data(withJSONObject: old)).solverReasoning)
    }

    func testTheProposalShapeIsASettingThatReachesTheProposers() throws {
        let references = [IdentitySeeds.single(type: "deduction")]
        XCTAssertEqual(TrainingConfig().proposalShape, .short)
        XCTAssertEqual(try TrainingConfig.preset("cpu").proposalShape, .short)
        let multiline = try TrainingConfig.applying(["proposal_shape=multiline"], to: TrainingConfig.preset("cpu"))
        for type in ["deduction", "abduction"] {
            XCTAssertTrue(try multiline.registry[type]!.proposerPrompt(references: references).contains("four to eight lines"))
            XCTAssertFalse(try TrainingConfig.preset("cpu").registry[type]!.proposerPrompt(references: references).contains("four to eight lines"))
        }
        XCTAssertThrowsError(try TrainingConfig.applying(["proposal_shape=long"], to: TrainingConfig())) {
            XCTAssertTrue("\($0)".contains("proposal_shape"), "\($0)")
        }
        // A run saved before the setting existed proposed short tasks, and resumes so; a saved shape round-trips.
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode((try TrainingConfig.preset("cpu")))) as! [String: Any]
        old.removeValue(forKey: "proposal_shape")
        XCTAssertEqual(try TrainingConfig.saved(JSONSerialization.data(withJSONObject: old)).proposalShape, .short)
        XCTAssertEqual(try TrainingConfig.saved(JSONEncoder().encode(multiline)).proposalShape, .multiline)
    }

    func testBenchmarkContinuationsStopAtTheEndOfTheFunction() {
        XCTAssertEqual(BenchmarkGeneration.truncate("    return a + b\n```\nMore text"), "    return a + b\n")
        XCTAssertEqual(BenchmarkGeneration.truncate("    return 1\n\ndef other():\n    pass"), "    return 1\n")
        XCTAssertEqual(BenchmarkGeneration.truncate("    return 1\nprint(f(2))"), "    return 1")
        XCTAssertEqual(BenchmarkGeneration.truncate("    x = 1  # note\n    return x"), "    x = 1  # note\n    return x")
    }
}
