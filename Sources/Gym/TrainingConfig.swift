import Foundation
import Tasks
import Trainer

/// Every setting of a self-play training run (DESIGN.md §1). A run's resolved config is saved as `config.json`
/// in its directory; `--config FILE` reads the same keys, and any key left out keeps the preset's value.
/// Presets are data: `presets/GAME/NAME.json` (`PresetLibrary`).
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// The self-play game (`GameCatalog`): `azr` or `lsp`.
    public var game = "azr"
    public var preset = "smoke"
    /// The task types the game plays, in order (`TaskTypeCatalog`: AZR's three and registered plug-ins).
    public var taskTypes = ["deduction", "abduction", "induction"]
    /// A llama or qwen2 GGUF file; nil means the installed default model.
    public var model: String?
    public var seed: UInt64 = 0
    public var steps = 2
    /// Buffers are grown to this many triples per type with the base model's proposals before step 0.
    public var seedSize = 2
    public var seedingRounds = 1
    public var proposalsPerType = 2
    public var solverTasksPerType = 2
    /// n: solver samples per valid proposal for its learnability.
    public var learnabilityRollouts = 2
    public var learnabilityTemperature = 1.0
    /// AZR: also train the solver on the learnability rollouts, whitened per proposal (`SelfPlaySettings`).
    public var reuseLearnabilityRollouts = false
    /// The paper samples at 1.0; a 135M model writes mostly noise there, so the small presets sample cooler.
    public var temperature = 0.6
    public var topP = 1.0
    /// K: reference triples shown to a deduction or abduction proposer.
    public var references = 1
    /// N: inputs an induction proposer writes.
    public var inductionInputs = 10
    public var maxPromptTokens = 768
    /// Holds Qwen2.5-Coder-0.5B's proposals (a short program and its call); direct answers take about 20 tokens.
    public var maxNewTokens = 256
    public var generationBatch = 16
    /// The model file's own chat template by default.
    public var template = PromptTemplate.auto
    /// How prompts are worded and which answer forms they ask for: `instruct` for instruct models (the default
    /// model is one), `azr` for the paper's `<think>`/`<answer>` protocol.
    public var promptStyle = PromptStyle.instruct
    /// Instruct style: each deduction and abduction proposal prompt names a builtin method to build the task
    /// around, as CRUXEval's generator did, so a small model does not write the same program every time.
    public var topicHints = true
    /// Instruct style: how long a deduction or abduction proposal is asked to be, `short` (the default, which
    /// learned more in `make experiment`) or `multiline` (four to eight lines with a loop or a branch, nearer CRUXEval's programs).
    public var proposalShape = ProposalShape.short
    /// Instruct style: deduction and abduction solvers reason step by step before their assertion (true) or
    /// write the assertion alone (false, the default: a 0.5B model's reasoning rarely fits the token budget on
    /// this hardware, and direct answers scored higher).
    public var solverReasoning = false
    /// Instruct style: sampling stops where an answer is whole (`AnswerStop`): a solver's after the first
    /// assertion line or the first python block that defines a function, a proposer's once the proposal reads
    /// (program and arguments; induction: message and N calls). Text after the answer is never sampled nor
    /// trained on. The paper's protocol stops at `</answer>` either way.
    public var stopAtAnswer = true
    /// Lenient reading helps a small model get any reward at first; the paper is strict.
    public var answerFormat = AnswerFormat.Mode.lenient
    public var learningRate = 1e-5
    public var weightDecay = 0.01
    public var gradientClip = 1.0
    public var ppoClip = 0.2
    /// Optimizer steps per batch; above 1 the PPO ratio departs from 1.
    public var ppoEpochs = 1
    public var advantageWeighting = TRRAdvantages.Weighting.tokens.rawValue
    public var entropyCoefficient = 0.0
    /// Weight of a per-token KL(policy ‖ starting model) penalty (k3 estimator), the anchor LSP uses; 0 (the
    /// default, as in AZR) keeps no frozen copy of the starting weights.
    public var klCoefficient = 0.0
    public var threads = 2
    public var checkpointEvery = 1
    public var halfCheckpoints = false
    public var sandboxPolicy = "default"
    /// A folder of buffers (NAME.jsonl, e.g. another run's buffers/) that a new run starts from.
    public var seedBuffers: String?
    public var rewards = RewardSettings()
    /// Self-play draws from at most this many triples per buffer (0: all), the newest or the oldest.
    public var bufferCapacity = 0
    public var bufferKeep = BufferWindow.Keep.newest.rawValue
    /// LSP: N, challenger queries per task type and step.
    public var queriesPerType = 2
    /// LSP: G, solver answers per valid query.
    public var answersPerQuery = 4
    /// LSP: α_Ch, the challenger loss's weight.
    public var challengerWeight = 1.0
    /// LSP: weight of the self-judged quality reward R_Q (0 to 1 per answer).
    public var selfRewardWeight = 1.0
    /// LSP-Zero: no self-reward (as `self_reward_weight` 0).
    public var lspZero = false
    /// LSP: the solver's reward, `binary` (1 correct, else 0) or `format_aware` (AZR's 1 / −0.5 / −1).
    public var solverReward = LSPSettings.SolverReward.binary
    public var judgeTemperature = 0.6
    /// SGS: where the target problems come from: `cruxeval` (output and input prediction), `cruxeval_o`,
    /// `cruxeval_i`, `humaneval_plus` or `mbpp_plus` (as induction tasks), or `file` (`targets_file`).
    public var targets = SGSTargets.Source.cruxeval.rawValue
    /// SGS: the targets' file (default: the source's dataset in ../shared/datasets).
    public var targetsFile: String?
    /// SGS: targets the game plays on, drawn from the part not held out (0: all of it).
    public var targetCount = 64
    /// SGS: the fraction of target programs held out, never shown to the game.
    public var heldOutFraction = 0.5
    /// SGS: B, targets drawn per round.
    public var targetsPerRound = 4
    /// SGS: synthetic tasks per unsolved target drawn.
    public var conjecturesPerTarget = 1
    /// SGS: k, solver attempts per target and per valid synthetic task.
    public var solverAttempts = 4
    /// SGS: `product` (R_solve · guide score, the paper's) or `threshold` (R_solve when the score reaches
    /// `guide_threshold`).
    public var guideGate = SGSSettings.GuideGate.product
    public var guideThreshold = 0.5
    /// SGS: the top fraction of a round's solve rates counted as too easy (the paper: 0.3; 0: AZR's learnability).
    public var easyCut = 0.3
    public var guideTemperature = 0.6
    /// SGS: a greedy attempt at every target before step 0 marks what the base model solves already.
    public var initialSweep = true
    /// SGS: measure the held-out solve rate every this many rounds (0: never; scoring only).
    public var heldOutEvalEvery = 0
    public var heldOutEvalSize = 64
    /// SGS: the task type conjectured for targets whose own type has no conjecture prompt (induction).
    public var conjectureType = "deduction"
    /// SOAR: teacher batches per outer step (each trains a student; leave-one-out needs at least 2).
    public var teacherBatches = 3
    /// SOAR: problems per teacher batch.
    public var teacherBatchSize = 4
    /// SOAR: the task type the teacher writes.
    public var teacherTaskType = "deduction"
    /// SOAR: the student's updates per inner loop.
    public var studentSteps = 2
    /// SOAR: the student's attempts per problem per update.
    public var studentAttempts = 2
    /// SOAR: the student's AdamW learning rate (0: `learning_rate`).
    public var studentLearningRate = 0.0
    /// SOAR: hard problems that reward the teacher, and held-out ones, found by screening before step 0.
    public var hardCount = 32
    public var hardHeldOutCount = 32
    /// SOAR: seeded samples per candidate in the screening; a hard problem is solved in none of them.
    public var hardScreenSamples = 4
    /// SOAR: candidates screened at most, per part.
    public var hardScreenLimit = 400
    /// SOAR: hard problems drawn per outer step to measure the students on.
    public var hardPerStep = 8
    /// SOAR: seeded samples per hard problem in each measurement.
    public var hardSamples = 2
    /// SOAR: `best` (the step's best student is promoted when its gain reaches `promote_gain`) or `off`.
    public var promotion = SOARSettings.Promotion.best
    public var promoteGain = 0.1
    /// SOAR: an invalid teacher problem gets AZR's format-aware penalty (false: left out of the update).
    public var invalidPenalty = true

    public init() {}

    /// The keys only some games read (SGS and SOAR share the target file and held-out keys); a run of another
    /// game must leave them at their defaults, so that a setting never goes silently unused.
    static let gameKeys: [String: [CodingKeys]] = [
        "azr": [.seedSize, .seedingRounds, .proposalsPerType, .solverTasksPerType, .learnabilityRollouts,
                .learnabilityTemperature, .reuseLearnabilityRollouts, .advantageWeighting],
        "lsp": [.queriesPerType, .answersPerQuery, .challengerWeight, .selfRewardWeight, .lspZero, .solverReward,
                .judgeTemperature],
        "sgs": [.targets, .targetsFile, .targetCount, .heldOutFraction, .targetsPerRound, .conjecturesPerTarget,
                .solverAttempts, .guideGate, .guideThreshold, .easyCut, .guideTemperature, .initialSweep,
                .heldOutEvalEvery, .heldOutEvalSize, .conjectureType],
        "soar": [.targets, .targetsFile, .heldOutFraction, .heldOutEvalEvery, .heldOutEvalSize, .teacherBatches,
                 .teacherBatchSize, .teacherTaskType, .studentSteps, .studentAttempts, .studentLearningRate, .hardCount,
                 .hardHeldOutCount, .hardScreenSamples, .hardScreenLimit, .hardPerStep, .hardSamples, .promotion,
                 .promoteGain, .invalidPenalty],
    ]
    static var lspKeys: [CodingKeys] { gameKeys["lsp"]! }

    /// A run's saved config.json. Every saved config names every key, so one without `prompt_style` was saved
    /// before the instruct protocol existed and resumes with AZR's prompts, as it ran.
    static func saved(_ data: Data) throws -> TrainingConfig {
        var config = try JSONDecoder().decode(TrainingConfig.self, from: data)
        let keys = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?.keys
        if let keys, !keys.contains(CodingKeys.promptStyle.stringValue) {
            config.promptStyle = .azr
            config.topicHints = false
        }
        // Instruct runs saved before `solver_reasoning` existed asked their solvers to reason first.
        if let keys, !keys.contains(CodingKeys.solverReasoning.stringValue) { config.solverReasoning = true }
        // Runs saved before `stop_at_answer` existed sampled their solvers to the end of turn.
        if let keys, !keys.contains(CodingKeys.stopAtAnswer.stringValue) { config.stopAtAnswer = false }
        return config
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case preset, model, seed, steps, temperature, references, template, threads, rewards
        case seedSize = "seed_size", seedingRounds = "seeding_rounds", proposalsPerType = "proposals_per_type"
        case solverTasksPerType = "solver_tasks_per_type", learnabilityRollouts = "learnability_rollouts"
        case learnabilityTemperature = "learnability_temperature", reuseLearnabilityRollouts = "reuse_learnability_rollouts"
        case topP = "top_p", inductionInputs = "induction_inputs"
        case maxPromptTokens = "max_prompt_tokens", maxNewTokens = "max_new_tokens", generationBatch = "generation_batch"
        case learningRate = "learning_rate", weightDecay = "weight_decay", gradientClip = "gradient_clip"
        case ppoClip = "ppo_clip", ppoEpochs = "ppo_epochs", advantageWeighting = "advantage_weighting"
        case entropyCoefficient = "entropy_coefficient", klCoefficient = "kl_coefficient", checkpointEvery = "checkpoint_every"
        case halfCheckpoints = "half_checkpoints", sandboxPolicy = "sandbox_policy", answerFormat = "answer_format"
        case seedBuffers = "seed_buffers", promptStyle = "prompt_style", topicHints = "topic_hints"
        case solverReasoning = "solver_reasoning", stopAtAnswer = "stop_at_answer", proposalShape = "proposal_shape"
        case bufferCapacity = "buffer_capacity", bufferKeep = "buffer_keep"
        case game, taskTypes = "task_types", queriesPerType = "queries_per_type", answersPerQuery = "answers_per_query"
        case challengerWeight = "challenger_weight", selfRewardWeight = "self_reward_weight", lspZero = "lsp_zero"
        case solverReward = "solver_reward", judgeTemperature = "judge_temperature"
        case targets, targetsFile = "targets_file", targetCount = "target_count", heldOutFraction = "held_out_fraction"
        case targetsPerRound = "targets_per_round", conjecturesPerTarget = "conjectures_per_target"
        case solverAttempts = "solver_attempts", guideGate = "guide_gate", guideThreshold = "guide_threshold"
        case easyCut = "easy_cut", guideTemperature = "guide_temperature", initialSweep = "initial_sweep"
        case heldOutEvalEvery = "held_out_eval_every", heldOutEvalSize = "held_out_eval_size"
        case conjectureType = "conjecture_type"
        case teacherBatches = "teacher_batches", teacherBatchSize = "teacher_batch_size", teacherTaskType = "teacher_task_type"
        case studentSteps = "student_steps", studentAttempts = "student_attempts", studentLearningRate = "student_learning_rate"
        case hardCount = "hard_count", hardHeldOutCount = "hard_held_out_count", hardScreenSamples = "hard_screen_samples"
        case hardScreenLimit = "hard_screen_limit", hardPerStep = "hard_per_step", hardSamples = "hard_samples"
        case promotion, promoteGain = "promote_gain", invalidPenalty = "invalid_penalty"
    }

    /// Keys present in `decoder`'s object override `base`; the rest keep its values.
    public init(from decoder: Decoder) throws {
        try self.init(overriding: TrainingConfig(), from: decoder)
    }

    init(overriding base: TrainingConfig, from decoder: Decoder) throws {
        self = base
        // A key this version does not know (often a typo) is an error, never silently ignored.
        for key in try decoder.container(keyedBy: AnyKey.self).allKeys where CodingKeys(stringValue: key.stringValue) == nil {
            throw ConfigError.invalid(NearestName.unknown("key", key.stringValue, known: Self.keyNames))
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func take<T: Decodable>(_ key: CodingKeys, _ path: WritableKeyPath<TrainingConfig, T>) throws {
            if let value = try c.decodeIfPresent(T.self, forKey: key) { self[keyPath: path] = value }
        }
        // A new game or preset starts from that game's preset, and the other keys apply over it.
        let game = try c.decodeIfPresent(String.self, forKey: .game) ?? base.game
        let preset = try c.decodeIfPresent(String.self, forKey: .preset) ?? base.preset
        if game != base.game || preset != base.preset {
            self = try Self.preset(preset, game: game)
        }
        if let model = try c.decodeIfPresent(String.self, forKey: .model) { self.model = model }
        if let folder = try c.decodeIfPresent(String.self, forKey: .seedBuffers) { seedBuffers = folder }
        try take(.seed, \.seed); try take(.steps, \.steps); try take(.seedSize, \.seedSize)
        try take(.seedingRounds, \.seedingRounds); try take(.proposalsPerType, \.proposalsPerType)
        try take(.solverTasksPerType, \.solverTasksPerType); try take(.learnabilityRollouts, \.learnabilityRollouts)
        try take(.learnabilityTemperature, \.learnabilityTemperature); try take(.temperature, \.temperature)
        try take(.reuseLearnabilityRollouts, \.reuseLearnabilityRollouts)
        try take(.topP, \.topP); try take(.references, \.references); try take(.inductionInputs, \.inductionInputs)
        try take(.maxPromptTokens, \.maxPromptTokens); try take(.maxNewTokens, \.maxNewTokens)
        try take(.generationBatch, \.generationBatch); try take(.template, \.template)
        try take(.learningRate, \.learningRate); try take(.weightDecay, \.weightDecay)
        try take(.gradientClip, \.gradientClip); try take(.ppoClip, \.ppoClip); try take(.ppoEpochs, \.ppoEpochs)
        try take(.advantageWeighting, \.advantageWeighting); try take(.entropyCoefficient, \.entropyCoefficient)
        try take(.klCoefficient, \.klCoefficient)
        try take(.threads, \.threads); try take(.checkpointEvery, \.checkpointEvery)
        try take(.halfCheckpoints, \.halfCheckpoints); try take(.sandboxPolicy, \.sandboxPolicy)
        try take(.answerFormat, \.answerFormat); try take(.promptStyle, \.promptStyle)
        try take(.topicHints, \.topicHints); try take(.solverReasoning, \.solverReasoning)
        try take(.stopAtAnswer, \.stopAtAnswer); try take(.proposalShape, \.proposalShape)
        try take(.bufferCapacity, \.bufferCapacity); try take(.bufferKeep, \.bufferKeep)
        try take(.taskTypes, \.taskTypes); try take(.queriesPerType, \.queriesPerType)
        try take(.answersPerQuery, \.answersPerQuery); try take(.challengerWeight, \.challengerWeight)
        try take(.selfRewardWeight, \.selfRewardWeight); try take(.lspZero, \.lspZero)
        try take(.solverReward, \.solverReward); try take(.judgeTemperature, \.judgeTemperature)
        try take(.targets, \.targets); try take(.targetCount, \.targetCount); try take(.heldOutFraction, \.heldOutFraction)
        if let file = try c.decodeIfPresent(String.self, forKey: .targetsFile) { targetsFile = file }
        try take(.targetsPerRound, \.targetsPerRound); try take(.conjecturesPerTarget, \.conjecturesPerTarget)
        try take(.solverAttempts, \.solverAttempts); try take(.guideGate, \.guideGate); try take(.guideThreshold, \.guideThreshold)
        try take(.easyCut, \.easyCut); try take(.guideTemperature, \.guideTemperature); try take(.initialSweep, \.initialSweep)
        try take(.heldOutEvalEvery, \.heldOutEvalEvery); try take(.heldOutEvalSize, \.heldOutEvalSize)
        try take(.conjectureType, \.conjectureType)
        try take(.teacherBatches, \.teacherBatches); try take(.teacherBatchSize, \.teacherBatchSize)
        try take(.teacherTaskType, \.teacherTaskType); try take(.studentSteps, \.studentSteps)
        try take(.studentAttempts, \.studentAttempts); try take(.studentLearningRate, \.studentLearningRate)
        try take(.hardCount, \.hardCount); try take(.hardHeldOutCount, \.hardHeldOutCount)
        try take(.hardScreenSamples, \.hardScreenSamples); try take(.hardScreenLimit, \.hardScreenLimit)
        try take(.hardPerStep, \.hardPerStep); try take(.hardSamples, \.hardSamples); try take(.promotion, \.promotion)
        try take(.promoteGain, \.promoteGain); try take(.invalidPenalty, \.invalidPenalty)
        // A partial rewards object changes only the rewards it names, over the preset's.
        if let values = try c.decodeIfPresent([String: Double].self, forKey: .rewards) {
            do { rewards = try rewards.applying(values) } catch { throw ConfigError.invalid("rewards: \(error)") }
        }
    }

    /// Every key a config file or `--set` may name.
    public static var keyNames: [String] { CodingKeys.allCases.map(\.stringValue) }

    /// Any key of a JSON object, to find the ones CodingKeys does not have.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public enum ConfigError: Error, CustomStringConvertible {
        case unknownPreset(String, game: String, known: [String])
        case invalid(String)
        case unreadable(String, String)

        public var description: String {
            switch self {
            case let .unknownPreset(name, game, known):
                return "unknown preset \"\(name)\" for game \(game)" + (known.isEmpty ? " (no presets found)" : " (\(known.joined(separator: ", ")))")
            case let .invalid(why): return "invalid training config: \(why)"
            case let .unreadable(path, why): return "cannot read config \(path): \(why)"
            }
        }
    }

    /// The preset `name` of `game`: the code's defaults with the game set, then presets/GAME/NAME.json's settings.
    public static func preset(_ name: String, game: String = "azr") throws -> TrainingConfig {
        guard GameCatalog.names.contains(game) else {
            throw ConfigError.invalid(NearestName.unknown("game", game, known: GameCatalog.names))
        }
        var base = TrainingConfig()
        base.game = game
        base.preset = name
        let preset = try PresetLibrary.load(name, game: game)
        var config: TrainingConfig
        do {
            config = try ConfigDecoding.decode(preset.settings, over: base)
        } catch let ConfigError.invalid(why) {
            throw ConfigError.unreadable("presets/\(game)/\(name).json", why)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw ConfigError.unreadable("presets/\(game)/\(name).json",
                                         "bad value for \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\"")
        }
        config.game = game
        config.preset = name
        return config
    }

    /// Reads a JSON config file over the preset it names (or over `base`).
    public static func load(_ path: String, over base: TrainingConfig) throws -> TrainingConfig {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConfigError.unreadable(path, error.localizedDescription)
        }
        do {
            return try ConfigDecoding.decode(data, over: base)
        } catch let ConfigError.invalid(why) {
            throw ConfigError.unreadable(path, why)
        } catch let error as ConfigError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError.unreadable(path, key.isEmpty ? "not a JSON object" : "bad value for \"\(key)\"")
        } catch {
            throw ConfigError.unreadable(path, "\(error)")
        }
    }

    /// One clear line for the first setting that cannot work.
    public func validate() throws {
        func require(_ condition: Bool, _ why: String) throws { if !condition { throw ConfigError.invalid(why) } }
        try require(steps >= 0, "steps must be at least 0")
        try require(seedSize >= 1, "seed_size must be at least 1")
        try require(proposalsPerType >= 1 && solverTasksPerType >= 1, "proposals_per_type and solver_tasks_per_type must be at least 1")
        try require(learnabilityRollouts >= 1, "learnability_rollouts must be at least 1")
        try require(temperature > 0 && learnabilityTemperature > 0, "temperatures must be above 0 (self-play samples)")
        try require(topP > 0 && topP <= 1, "top_p must be in (0, 1]")
        try require(references >= 1 && inductionInputs >= 2, "references must be at least 1, induction_inputs at least 2")
        try require(maxPromptTokens >= 64 && maxNewTokens >= 16, "max_prompt_tokens must be at least 64, max_new_tokens at least 16")
        try require(generationBatch >= 1 && threads >= 1 && ppoEpochs >= 1 && checkpointEvery >= 1,
                    "generation_batch, threads, ppo_epochs and checkpoint_every must be at least 1")
        try require(learningRate >= 0 && ppoClip > 0, "learning_rate must be at least 0, ppo_clip above 0")
        try require(klCoefficient >= 0 && entropyCoefficient >= 0, "kl_coefficient and entropy_coefficient must be at least 0")
        try require(TRRAdvantages.Weighting(rawValue: advantageWeighting) != nil, "advantage_weighting must be \"tokens\" or \"sequences\"")
        try require(bufferCapacity >= 0 && BufferWindow.Keep(rawValue: bufferKeep) != nil,
                    "buffer_capacity must be at least 0 (0: no cap), buffer_keep \"newest\" or \"oldest\"")
        try require(GameCatalog.names.contains(game), NearestName.unknown("game", game, known: GameCatalog.names))
        try require(!taskTypes.isEmpty && Set(taskTypes).count == taskTypes.count, "task_types must name at least one type, each once")
        _ = try TaskTypeCatalog.registry(for: self)
        try require(queriesPerType >= 1 && answersPerQuery >= 2, "queries_per_type must be at least 1, answers_per_query at least 2")
        try require(challengerWeight >= 0 && selfRewardWeight >= 0 && judgeTemperature > 0,
                    "challenger_weight and self_reward_weight must be at least 0, judge_temperature above 0")
        try require(SGSTargets.Source(rawValue: targets) != nil,
                    "targets must be one of \(SGSTargets.Source.allCases.map(\.rawValue).joined(separator: ", "))")
        try require(targets != SGSTargets.Source.file.rawValue || targetsFile != nil, "targets \"file\" needs targets_file")
        try require(targetCount >= 0 && heldOutFraction >= 0 && heldOutFraction < 1,
                    "target_count must be at least 0 (0: all), held_out_fraction in [0, 1)")
        try require(targetsPerRound >= 1 && conjecturesPerTarget >= 1 && solverAttempts >= 1,
                    "targets_per_round, conjectures_per_target and solver_attempts must be at least 1")
        try require((0...1).contains(guideThreshold) && easyCut >= 0 && easyCut < 1 && guideTemperature > 0,
                    "guide_threshold must be in [0, 1], easy_cut in [0, 1), guide_temperature above 0")
        try require(heldOutEvalEvery >= 0 && heldOutEvalSize >= 0, "held_out_eval_every and held_out_eval_size must be at least 0")
        try require(teacherBatches >= 2 && teacherBatchSize >= 1,
                    "teacher_batches must be at least 2 (the leave-one-out baseline), teacher_batch_size at least 1")
        try require(studentSteps >= 1 && studentAttempts >= 2 && studentLearningRate >= 0,
                    "student_steps must be at least 1, student_attempts at least 2 (a per-problem baseline), student_learning_rate at least 0")
        try require(hardCount >= 1 && hardHeldOutCount >= 0 && hardScreenSamples >= 1 && hardScreenLimit >= 1
                    && hardPerStep >= 1 && hardSamples >= 1,
                    "hard_count, hard_screen_samples, hard_screen_limit, hard_per_step and hard_samples must be at least 1, hard_held_out_count at least 0")
        try require(promoteGain >= 0, "promote_gain must be at least 0")
        // Another game's setting in this run would be silently ignored: refuse it instead.
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfig())) as! [String: Any]
        let mine = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        let ownKeys = Set(Self.gameKeys[game] ?? [])
        let othersKeys = Self.gameKeys.sorted(by: { $0.key < $1.key }).flatMap(\.value).filter { !ownKeys.contains($0) }
        var checked = Set<CodingKeys>()
        for key in othersKeys where checked.insert(key).inserted {
            let name = key.stringValue
            guard mine[name].map({ "\($0)" }) != defaults[name].map({ "\($0)" }) else { continue }
            let owners = Self.gameKeys.filter { $0.value.contains(key) }.keys.sorted().map { $0.uppercased() }
            // "an AZR/LSP/SGS setting" (letters spelled out), "a SOAR setting" (a word).
            let article = owners.first == "SOAR" ? "a" : "an"
            throw ConfigError.invalid("\(name) is \(article) \(owners.joined(separator: " and ")) setting; this run's game is \(game)")
        }
    }

    /// LSP's settings from this config.
    public var lspSettings: LSPSettings {
        var s = LSPSettings()
        s.queriesPerType = queriesPerType
        s.answersPerQuery = answersPerQuery
        s.challengerWeight = challengerWeight
        s.selfRewardWeight = lspZero ? 0 : selfRewardWeight
        s.judgeTemperature = judgeTemperature
        s.solverReward = solverReward
        s.temperature = temperature
        s.rewards = rewards
        s.answerFormat = answerFormat
        return s
    }

    /// SGS's settings from this config.
    public var sgsSettings: SGSSettings {
        var s = SGSSettings()
        s.targetsPerRound = targetsPerRound
        s.conjecturesPerTarget = conjecturesPerTarget
        s.solverAttempts = solverAttempts
        s.guideGate = guideGate
        s.guideThreshold = guideThreshold
        s.easyCut = easyCut
        s.guideTemperature = guideTemperature
        s.initialSweep = initialSweep
        s.heldOutEvalEvery = heldOutEvalEvery
        s.heldOutEvalSize = heldOutEvalSize
        s.conjectureType = conjectureType
        s.temperature = temperature
        s.rewards = rewards
        s.answerFormat = answerFormat
        return s
    }

    /// SOAR's settings from this config.
    public var soarSettings: SOARSettings {
        var s = SOARSettings()
        s.teacherBatches = teacherBatches
        s.batchSize = teacherBatchSize
        s.taskType = teacherTaskType
        s.studentSteps = studentSteps
        s.studentAttempts = studentAttempts
        s.hardSample = hardPerStep
        s.hardSamples = hardSamples
        s.promotion = promotion
        s.promoteGain = promoteGain
        s.invalidPenalty = invalidPenalty
        s.heldOutEvalEvery = heldOutEvalEvery
        s.heldOutEvalSize = heldOutEvalSize
        s.temperature = temperature
        s.rewards = rewards
        s.answerFormat = answerFormat
        return s
    }

    public var selfPlaySettings: SelfPlaySettings {
        var s = SelfPlaySettings()
        s.proposalsPerType = proposalsPerType
        s.solverTasksPerType = solverTasksPerType
        s.learnabilityRollouts = learnabilityRollouts
        s.learnabilityTemperature = learnabilityTemperature
        s.reuseLearnabilityRollouts = reuseLearnabilityRollouts
        s.temperature = temperature
        s.rewards = rewards
        s.answerFormat = answerFormat
        s.bufferWindow = BufferWindow(capacity: bufferCapacity, keep: BufferWindow.Keep(rawValue: bufferKeep) ?? .newest)
        return s
    }

    /// The task types `task_types` names, built with this config's K, N and prompt style.
    public var registry: EnvironmentRegistry {
        get throws { try TaskTypeCatalog.registry(for: self) }
    }
}

/// Decodes a config object over a base config (JSONDecoder has no "decode into" of its own).
enum ConfigDecoding {
    struct Overlay: Decodable {
        let config: TrainingConfig
        init(from decoder: Decoder) throws {
            config = try TrainingConfig(overriding: decoder.userInfo[ConfigDecoding.baseKey] as? TrainingConfig ?? TrainingConfig(),
                                        from: decoder)
        }
    }

    static let baseKey = CodingUserInfoKey(rawValue: "base")!

    static func decode(_ data: Data, over base: TrainingConfig) throws -> TrainingConfig {
        let decoder = JSONDecoder()
        decoder.userInfo[baseKey] = base
        return try decoder.decode(Overlay.self, from: data).config
    }
}

extension TrainingConfig {
    /// Applies `KEY=VALUE` settings (dotted keys reach into `rewards`); a value is read as JSON, else as a string.
    public static func applying(_ settings: [String], to base: TrainingConfig) throws -> TrainingConfig {
        var object: [String: Any] = [:]
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else { throw ConfigError.invalid("\"\(setting)\" is not KEY=VALUE") }
            let key = String(setting[..<equals]), text = String(setting[setting.index(after: equals)...])
            let value: Any = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
            let path = key.split(separator: ".").map(String.init)
            guard path.count == 1 || (path.count == 2 && path[0] == "rewards") else {
                throw ConfigError.invalid(NearestName.unknown("key", key, known: keyNames))
            }
            if path.count == 2 {
                // Decoding applies the named rewards over the base's and rejects a name it does not know.
                var rewards = object["rewards"] as? [String: Any] ?? [:]
                rewards[path[1]] = value
                object["rewards"] = rewards
            } else {
                guard CodingKeys(stringValue: key) != nil else { throw ConfigError.invalid(NearestName.unknown("key", key, known: keyNames)) }
                object[key] = value
            }
        }
        let data = try JSONSerialization.data(withJSONObject: object)
        do {
            return try ConfigDecoding.decode(data, over: base)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw ConfigError.invalid("bad value for \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\"")
        }
    }
}
