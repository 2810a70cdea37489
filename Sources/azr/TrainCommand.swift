import ArgumentParser
import Foundation
import Gym
import Sandbox
import Trainer

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Self-play training from zero data: AZR (propose, validate, solve, TRR++), LSP (challenge, solve, judge) or SGS (conjecture, solve, guide).",
        discussion: """
        A run lives in runs/NAME/: config.json, buffers/*.jsonl, metrics.jsonl (one line per step), \
        samples/step-N.jsonl and checkpoints/. Settings come from the preset, then --config FILE, then the flags \
        and --set KEY=VALUE (any config.json key). `azr train --resume runs/NAME` continues a stopped or killed \
        run from its last checkpoint.
        """)

    @Option(help: "The self-play game: azr (Absolute Zero), lsp (Language Self-Play), sgs (Self-Guided Self-Play) or soar (a teacher rewarded by its students' measured gains).") var game = "azr"
    @Option(help: "A preset of the game (presets/GAME/NAME.json): smoke (2 tiny steps, a few minutes), cpu (overnight on a 2-core machine), paper (AZR).") var preset = "smoke"
    @Option(help: "A JSON file of settings (the keys of a run's config.json).") var config: String?
    @Option(help: "Run name: the run goes to RUNS/NAME (default: PRESET-DATE-TIME).") var name: String?
    @Option(help: "Folder that holds the runs.") var runs = "runs"
    @Option(help: "Continue the run in this folder.") var resume: String?
    @Option(help: "A llama or qwen2 GGUF file or a model's name (`azr model list`); default: $AZR_MODEL, else the installed Qwen2.5-Coder-0.5B-Instruct.") var model: String?
    @Option(help: "Start the buffers from this folder's NAME.jsonl files (e.g. examples/buffers or another run's buffers/).")
    var seedBuffers: String?
    @Option(help: "Steps to train.") var steps: Int?
    @Option(help: "Seed of every random choice and sample.") var seed: UInt64?
    @Option(help: "Grow each buffer to this many triples from the model's own proposals first.") var seedSize: Int?
    @Option(help: "Proposals per task type per step.") var proposalsPerType: Int?
    @Option(help: "Solver tasks per task type per step.") var solverTasksPerType: Int?
    @Option(help: "n: solver samples per proposal for its learnability.") var learnabilityRollouts: Int?
    @Option(help: "Tokens each completion may have.") var maxNewTokens: Int?
    @Option(help: "AdamW learning rate.") var learningRate: Double?
    @Option(help: "Threads for BLAS, sampling and the update.") var threads: Int?
    @Option(help: "Checkpoint every N steps (and after the last).") var checkpointEvery: Int?
    @Flag(help: "Write checkpoints in F16 instead of F32.") var halfCheckpoints = false
    @Option(name: .customLong("set"), help: "KEY=VALUE for any config key, e.g. --set rewards.extreme_solve_rate=-0.5 or --set template=plain.")
    var settings: [String] = []
    @Option(help: "Start no step after this many minutes (the run stays resumable).") var maxMinutes: Double?
    @Flag(help: "With --resume: go on although the checkpoint's optimizer.bin is missing (AdamW restarts from zero moments).") var freshOptimizer = false
    @Flag(help: "With --resume: move lines of the buffers and metrics.jsonl that cannot be read to FILE.corrupt and go on.") var salvage = false
    @Flag(help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Print one JSON object per event on stdout (steps, notes) instead of progress lines.") var json = false

    func run() throws {
        let trainingRun: TrainingRun
        do {
            if let resume {
                guard config == nil, settings.isEmpty else { throw CLIError.usage("--resume takes the run's own settings") }
                let opened = try TrainingRun.open(URL(fileURLWithPath: resume))
                if let steps, steps != opened.config.steps {
                    // Extending a finished run is allowed: only the step count may change.
                    var extended = opened.config
                    extended.steps = steps
                    trainingRun = try TrainingRun.reopen(opened, config: extended)
                } else {
                    trainingRun = opened
                }
            } else {
                let resolved = try resolveConfig()
                let runName = name ?? "\(resolved.game == "azr" ? "" : "\(resolved.game)-")\(resolved.preset)-\(Self.timestamp())"
                trainingRun = try TrainingRun.create(at: URL(fileURLWithPath: runs).appendingPathComponent(runName), config: resolved)
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.usage("\(error)")
        }
        let reporter = TrainingProgress(mode: json ? .json : quiet ? .quiet : .live, steps: trainingRun.config.steps)
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: trainingRun.config.sandboxPolicy) } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }
        reporter.note("run \(trainingRun.directory.path): game \(trainingRun.config.game), preset \(trainingRun.config.preset), \(trainingRun.config.steps) steps, \(pool.size) sandbox zygotes")
        let training = try SelfPlayTraining(run: trainingRun, pool: pool, reporter: reporter, freshOptimizer: freshOptimizer,
                                       salvage: salvage)
        try training.train(until: maxMinutes.map { Date().addingTimeInterval($0 * 60) })
        reporter.finish()
        reporter.note("done: \(trainingRun.metricsURL.path); `azr report \(trainingRun.directory.path)` draws it")
    }

    func resolveConfig() throws -> TrainingConfig {
        var resolved = try TrainingConfig.preset(preset, game: game)
        if let config { resolved = try TrainingConfig.load(config, over: resolved) }
        if let model { resolved.model = try ModelLocation.resolve(model) }
        if let seedBuffers { resolved.seedBuffers = seedBuffers }
        if let steps { resolved.steps = steps }
        if let seed { resolved.seed = seed }
        if let seedSize { resolved.seedSize = seedSize }
        if let proposalsPerType { resolved.proposalsPerType = proposalsPerType }
        if let solverTasksPerType { resolved.solverTasksPerType = solverTasksPerType }
        if let learnabilityRollouts { resolved.learnabilityRollouts = learnabilityRollouts }
        if let maxNewTokens { resolved.maxNewTokens = maxNewTokens }
        if let learningRate { resolved.learningRate = learningRate }
        if let threads { resolved.threads = threads }
        if let checkpointEvery { resolved.checkpointEvery = checkpointEvery }
        if halfCheckpoints { resolved.halfCheckpoints = true }
        if !settings.isEmpty { resolved = try TrainingConfig.applying(settings, to: resolved) }
        if let path = resolved.model { resolved.model = URL(fileURLWithPath: path).standardizedFileURL.path }
        if let folder = resolved.seedBuffers { resolved.seedBuffers = URL(fileURLWithPath: folder).standardizedFileURL.path }
        try resolved.validate()
        return resolved
    }

    /// DATE-TIME (yyyyMMdd-HHmmss) for default run and result names.
    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}
