import Dispatch
import Foundation
import Sandbox
import Tasks
import Trainer

/// Hears a training run's progress; the CLI draws it as a live line, JSON lines, or nothing.
public protocol TrainingReporter: AnyObject {
    /// Within a step (or seeding, step −1): `done` of `total` `unit`s of the current phase.
    func progress(step: Int, phase: String, done: Int, total: Int, unit: String)
    /// A step is done: its metrics and the one-line summary (the loop's figures and the game's).
    func stepFinished(_ metrics: StepMetrics, summary: String)
    func note(_ text: String)
}

/// A training run of any game (`config.game`, built by `GameCatalog`): the game's preparation (AZR seeds its
/// buffers), then per step the game's records and one policy-gradient update of the shared model with the
/// game's advantage rule; metrics, samples and checkpoints go to the run's directory, from which a killed run
/// resumes.
public final class SelfPlayTraining {
    public let run: TrainingRun
    public let game: any Game
    public let policy: ModelPolicy
    public let trainer: TRRTrainer
    /// Throwaway students for games with an inner loop (SOAR); allocated only when a game begins one.
    public let students: ModelStudentLab
    public private(set) var state: TrainingRun.State
    private let tokenizerSource: GGUFFile
    private weak var reporter: TrainingReporter?

    /// Opens `run` where its state says it stopped: the checkpointed model and optimizer (or the base model),
    /// the buffers without what later, unfinished steps added, the saved RNG and sampler positions. A checkpoint
    /// without its optimizer.bin is an error, since AdamW would silently restart from zero moments, unless
    /// `freshOptimizer` accepts that.
    ///
    /// Resuming rewrites the buffers and metrics.jsonl without the interrupted step; a line there that cannot be
    /// read stops it, unless `salvage` lets such lines be kept in `FILE.corrupt` beside them.
    public init(run: TrainingRun, pool: ZygotePool, reporter: TrainingReporter?, freshOptimizer: Bool = false,
                salvage: Bool = false) throws {
        self.run = run
        self.reporter = reporter
        let config = run.config
        try config.validate()
        let saved = try run.readState()
        let state = saved ?? TrainingRun.State(completedSteps: 0, generator: SeededGenerator(seed: config.seed), policyCalls: 0,
                                               checkpoint: nil, seeded: false)
        let modelPath: String
        if let checkpoint = state.checkpoint {
            modelPath = run.modelURL(checkpoint: checkpoint).path
        } else if let path = config.model ?? DefaultModel.locate() {
            modelPath = path
        } else {
            throw TrainingRun.RunError.notARun(run.directory.path, DefaultModel.missing)
        }
        reporter?.note("loading \(modelPath); BLAS: \(BLASKernel.summary)")
        let file = try GGUFFile(path: modelPath)
        tokenizerSource = file
        let model = LlamaModel(parameters: try LlamaParameters(gguf: file))
        model.threads = config.threads
        LlamaModel.setBLASThreads(config.threads)
        let tokenizer = try BPETokenizer(gguf: file)
        policy = ModelPolicy(model: model, tokenizer: tokenizer, template: config.template, maxPromptTokens: config.maxPromptTokens,
                             maxNewTokens: config.maxNewTokens, batchSize: config.generationBatch, topP: Float(config.topP),
                             seed: config.seed)
        policy.resume(callIndex: state.policyCalls)
        // The KL anchor is the starting weights, also when a resumed run loads a later checkpoint.
        var reference: LlamaModel?
        if config.klCoefficient > 0 {
            guard let start = config.model ?? DefaultModel.locate() else {
                throw TrainingRun.RunError.notARun(run.directory.path, DefaultModel.missing)
            }
            let anchor = LlamaModel(parameters: try LlamaParameters(gguf: GGUFFile(path: start)))
            anchor.threads = config.threads
            reference = anchor
        }
        let game = try GameCatalog.game(for: config, runner: ProgramRunner(pool: pool), directory: run.buffersURL,
                                        step: state.completedSteps)
        trainer = TRRTrainer(model: model, learningRate: Float(config.learningRate), weightDecay: Float(config.weightDecay),
                             maxGradientNorm: Float(config.gradientClip), advantages: game.advantages,
                             clip: Float(config.ppoClip), entropyCoefficient: Float(config.entropyCoefficient),
                             reference: reference, klCoefficient: Float(config.klCoefficient), threads: config.threads)
        if let checkpoint = state.checkpoint {
            let optimizerURL = run.optimizerURL(checkpoint: checkpoint)
            if FileManager.default.fileExists(atPath: optimizerURL.path) {
                try OptimizerCheckpoint.read(into: trainer.optimizer, from: optimizerURL)
            } else if freshOptimizer {
                reporter?.note("\(optimizerURL.path) is missing: AdamW starts again from zero moments (--fresh-optimizer)")
            } else {
                throw TrainingRun.RunError.notARun(run.directory.path, "\(optimizerURL.path) is missing, so AdamW's moments are lost; "
                                                   + "pass --fresh-optimizer to go on with fresh ones")
            }
        }
        game.generator = state.generator
        let lab = ModelStudentLab(trainer: trainer, policy: policy,
                                  learningRate: Float(config.studentLearningRate > 0 ? config.studentLearningRate : config.learningRate),
                                  weightDecay: Float(config.weightDecay), maxGradientNorm: Float(config.gradientClip))
        game.attach(students: lab)
        students = lab
        self.game = game
        if saved == nil {
            // Killed while seeding (state.json comes after it): forget what the seeding wrote; it is redone the same.
            for buffer in game.buffers.values.sorted(by: { $0.name < $1.name }) {
                try buffer.discard(fromStep: TrainingRun.seedingStep, salvage: salvage)
            }
        } else {
            // Forget what an interrupted step wrote after the last checkpoint; it will be redone identically.
            var dropped = 0
            for buffer in game.buffers.values.sorted(by: { $0.name < $1.name }) {
                for problem in buffer.problems where !problem.torn || salvage {
                    reporter?.note("\(buffer.url?.lastPathComponent ?? buffer.name) \(problem)" + (salvage ? "; kept in its .corrupt file" : ""))
                }
                dropped += try buffer.discard(fromStep: state.completedSteps, salvage: salvage)
            }
            try run.discardMetrics(fromStep: state.completedSteps, salvage: salvage)
            reporter?.note("resuming at step \(state.completedSteps)" + (dropped > 0 ? " (dropped \(dropped) buffer entries of the interrupted step)" : ""))
        }
        self.state = state
    }

    /// Runs the remaining steps (and the seeding, if not done). With a `deadline`, no step starts after it; the
    /// last finished step is checkpointed, so `--resume` can continue later. Returns the steps completed.
    @discardableResult
    public func train(until deadline: Date? = nil) throws -> Int {
        let config = run.config
        if !state.seeded {
            game.onPhase = nil
            policy.onTokens = { [weak self] done, total in
                self?.reporter?.progress(step: -1, phase: "seeding", done: done, total: total, unit: "tokens")
            }
            let line = try game.prepare(policy: policy)
            if !game.preparationSamples.isEmpty { try run.writeSeedingSamples(game.preparationSamples) }
            state.seeded = true
            state.generator = game.generator
            state.policyCalls = policy.callIndex
            try run.writeState(state)
            if let line { reporter?.note(line) }
        }
        while state.completedSteps < config.steps {
            if let deadline, Date() >= deadline {
                if state.checkpoint != TrainingRun.stepName(state.completedSteps) { try checkpoint() }
                reporter?.note("time limit reached after \(state.completedSteps) steps")
                break
            }
            try trainStep()
        }
        return state.completedSteps
    }

    /// Saves the model and optimizer as of the completed steps and points state.json at them. `beforeState`
    /// hears the seconds the checkpoint took and runs after it is written but before state.json names it.
    private func checkpoint(beforeState: ((Double) throws -> Void)? = nil) throws {
        let started = DispatchTime.now()
        let name = try run.writeCheckpoint(step: state.completedSteps, parameters: trainer.model.parameters,
                                           optimizer: trainer.optimizer, tokenizerFrom: tokenizerSource)
        try beforeState?(started.secondsElapsed)
        state.checkpoint = name
        try run.writeState(state)
        run.pruneCheckpoints(keeping: name)
    }

    /// One step: self-play, update, metrics, samples, and a checkpoint when due.
    public func trainStep() throws {
        let config = run.config
        let step = state.completedSteps
        let started = DispatchTime.now()
        var phase = "proposing"
        game.onPhase = { [weak self] name in
            phase = name
            self?.reporter?.progress(step: step, phase: name, done: 0, total: 0, unit: "")
        }
        policy.onTokens = { [weak self] done, total in
            self?.reporter?.progress(step: step, phase: phase, done: done, total: total, unit: "tokens")
        }
        let tokensBefore = policy.generatedTokens, generationBefore = policy.generationSeconds
        let result = try game.step(policy: policy)

        reporter?.progress(step: step, phase: "updating", done: 0, total: config.ppoEpochs, unit: "epochs")
        let samples = result.records.compactMap { record -> PolicySample? in
            guard let trace = record.trace else { return nil }
            return PolicySample(prompt: trace.promptTokens, completion: trace.completionTokens, reward: record.reward,
                                group: record.group, oldLogProbabilities: trace.logProbabilities,
                                temperature: trace.temperature, weight: Float(record.weight))
        }
        let updateStarted = DispatchTime.now()
        var statistics: TRRTrainer.Statistics?
        for epoch in 0..<config.ppoEpochs {
            do {
                statistics = try trainer.step(samples)
            } catch let error as TRRTrainer.NonFiniteUpdate {
                // Nothing of this step is saved; state.json still names the last good checkpoint.
                let kept = state.checkpoint.map { "checkpoints/\($0) is the last good checkpoint" } ?? "no checkpoint was written yet"
                throw TrainingRun.RunError.stopped("step \(step + 1): \(error); the run stops (\(kept))")
            }
            reporter?.progress(step: step, phase: "updating", done: epoch + 1, total: config.ppoEpochs, unit: "epochs")
        }
        // A student the game kept (SOAR's promotion) adds its change on top of the teacher's update.
        if try students.promoteAfterUpdate() { reporter?.note("step \(step + 1): the kept student's weights are promoted") }
        let updateSeconds = updateStarted.secondsElapsed
        try run.writeSamples(step: result.step, result.samples)

        var seconds = result.seconds
        seconds["update"] = updateSeconds
        let generated = policy.generatedTokens - tokensBefore
        let generationSeconds = policy.generationSeconds - generationBefore
        var rewardSums: [String: (total: Double, count: Int)] = [:]
        for record in result.records {
            rewardSums[record.kind, default: (0, 0)].total += record.reward
            rewardSums[record.kind, default: (0, 0)].count += 1
        }
        var metrics = StepMetrics(
            step: step, time: ISO8601DateFormatter().string(from: Date()),
            reward: rewardSums.mapValues { $0.total / Double($0.count) }, loss: statistics?.loss ?? 0,
            gradNorm: Double(statistics?.gradientNorm ?? 0), clippedFraction: statistics?.clippedFraction ?? 0,
            entropy: statistics?.entropy, kl: statistics?.kl, trainTokens: samples.reduce(0) { $0 + $1.prompt.count + $1.completion.count },
            trainTokensPerS: 0, generatedTokens: generated,
            generateTokensPerS: generationSeconds > 0 ? Double(generated) / generationSeconds : 0,
            sandboxRuns: result.sandboxJobs,
            sandboxRunsPerS: result.sandboxSeconds > 0 ? Double(result.sandboxJobs) / result.sandboxSeconds : 0,
            seconds: seconds, totalSeconds: 0, game: result.metrics)
        metrics.trainTokensPerS = updateSeconds > 0 ? Double(metrics.trainTokens * config.ppoEpochs) / updateSeconds : 0

        state.completedSteps = step + 1
        state.generator = game.generator
        state.policyCalls = policy.callIndex
        if state.completedSteps % config.checkpointEvery == 0 || state.completedSteps == config.steps {
            reporter?.progress(step: step, phase: "checkpointing", done: 0, total: 0, unit: "")
            // The metrics line goes first: if the kill lands between the two, resuming drops the line with the step.
            try checkpoint { checkpointSeconds in
                metrics.seconds["checkpoint"] = checkpointSeconds
                metrics.totalSeconds = started.secondsElapsed
                try self.run.appendMetrics(metrics)
            }
        } else {
            metrics.totalSeconds = started.secondsElapsed
            try run.appendMetrics(metrics)
        }
        reporter?.stepFinished(metrics, summary: "\(metrics.trainerSummary)  \(game.summary(metrics.game))  \(metrics.throughputSummary)")
    }
}
