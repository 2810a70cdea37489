import ArgumentParser
import Foundation
import Gym
import Sandbox
import Tasks
import Trainer

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Does training move the numbers? Solve rates on held-out tasks before and after a time-boxed run.",
        discussion: """
        1. The base model proposes a held-out set of tasks with another seed (runs/NAME-heldout). \
        2. The base model solves them and CRUXEval's output (deduction) and input (abduction) prediction. \
        3. `azr train` runs the preset for --minutes. 4. The trained model solves the same tasks. \
        The before/after table goes to runs/NAME/experiment.md and .json.
        """)

    @Option(help: "Training preset.") var preset = "cpu"
    @Option(help: "Minutes of training (no step starts later).") var minutes = 60.0
    @Option(help: "Run name (default: experiment-DATE-TIME).") var name: String?
    @Option(help: "Folder that holds the runs.") var runs = "runs"
    @Option(help: "Held-out self-generated tasks per type (at most).") var heldOut = 16
    @Option(help: "Proposal rounds for the held-out set (each asks for up to proposals_per_type tasks per type).") var heldOutRounds = 3
    @Option(help: "CRUXEval problems per direction (0 skips CRUXEval).") var cruxeval = 50
    @Option(help: "CRUXEval file.") var cruxevalFile = "../shared/datasets/cruxeval.jsonl.gz"
    @Option(help: "A llama or qwen2 GGUF file or a model's name (`azr model list`); default: the installed SmolLM2-135M-Instruct.") var model: String?
    @Option(help: "Seed of the training run; the held-out set uses seed + 1000.") var seed: UInt64 = 0

    func run() throws {
        guard var config = TrainingConfig.preset(preset) else { throw CLIError.usage("unknown preset \"\(preset)\"") }
        config.seed = seed
        if let model { config.model = URL(fileURLWithPath: try ModelLocation.resolve(model)).standardizedFileURL.path }
        let runName = name ?? "experiment-\(TrainCommand.timestamp())"
        let folder = URL(fileURLWithPath: runs)
        let reporter = TrainingProgress(mode: .live, steps: config.steps)
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: config.sandboxPolicy) } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }

        // 1. Held-out tasks: the base model's own proposals under another seed, never trained on.
        var heldOutConfig = config
        heldOutConfig.seed = seed &+ 1000
        heldOutConfig.steps = 0
        heldOutConfig.seedSize = heldOut + 1
        heldOutConfig.seedingRounds = heldOutRounds
        let heldOutRun: TrainingRun
        let heldOutFolder = folder.appendingPathComponent("\(runName)-heldout")
        do {
            heldOutRun = try TrainingRun.create(at: heldOutFolder, config: heldOutConfig)
        } catch { throw CLIError.usage("\(error)") }
        reporter.note("1/4 proposing held-out tasks into \(heldOutFolder.path)")
        try AZRTraining(run: heldOutRun, pool: pool, reporter: reporter).train()
        var heldOutTasks: [Triple] = []
        for type in config.registry.names {
            let buffer = try TaskBuffer(name: type, url: heldOutRun.buffersURL.appendingPathComponent("\(type).jsonl"))
            heldOutTasks += buffer.triples.filter { $0.source != "seed" }
        }
        var crux: [Triple] = []
        if cruxeval > 0 {
            guard FileManager.default.fileExists(atPath: cruxevalFile) else { throw CLIError.usage("no CRUXEval file at \(cruxevalFile) (or pass --cruxeval 0)") }
            crux = try BufferFiles.cruxeval(from: cruxevalFile, limit: cruxeval)
        }

        // 2. Before: the training run's own model, before its first step.
        let trainingRun: TrainingRun
        do { trainingRun = try TrainingRun.create(at: folder.appendingPathComponent(runName), config: config) } catch {
            throw CLIError.usage("\(error)")
        }
        let training = try AZRTraining(run: trainingRun, pool: pool, reporter: reporter)
        let evaluation = SolverEvaluation(registry: config.registry, runner: ProgramRunner(pool: pool), format: config.answerFormat)
        func measure(_ label: String) throws -> (SolverEvaluation.Summary, SolverEvaluation.Summary) {
            reporter.prelude = "evaluating"
            defer { reporter.prelude = "seeding" }
            training.policy.onTokens = { done, total in reporter.progress(step: -1, phase: label, done: done, total: total, unit: "tokens") }
            let own = try evaluation.run(policy: training.policy, tasks: heldOutTasks)
            let other = try evaluation.run(policy: training.policy, tasks: crux)
            return (own, other)
        }
        reporter.note("2/4 the base model attempts \(heldOutTasks.count) held-out and \(crux.count) CRUXEval tasks")
        // Evaluation sampling must not move the training run's sampler position.
        let calls = training.policy.callIndex
        let before = try measure("solving (before)")
        training.policy.resume(callIndex: calls)

        // 3. Train.
        reporter.note("3/4 training for at most \(minutes) minutes")
        let steps = try training.train(until: Date().addingTimeInterval(minutes * 60))
        reporter.finish()

        // 4. After.
        reporter.note("4/4 the trained model (\(steps) steps) attempts the same tasks")
        let after = try measure("solving (after)")
        reporter.finish()

        let report = ExperimentReport(run: trainingRun.directory.lastPathComponent, preset: preset, minutes: minutes, steps: steps,
                                      heldOut: ExperimentReport.compare(before.0, after.0), cruxeval: ExperimentReport.compare(before.1, after.1),
                                      rewards: ExperimentReport.rewardTrend(try trainingRun.readMetrics()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report) + Data("\n".utf8), to: trainingRun.directory.appendingPathComponent("experiment.json"))
        let table = report.markdown
        try AtomicFile.write(Data(table.utf8), to: trainingRun.directory.appendingPathComponent("experiment.md"))
        print(table, terminator: "")
    }
}

/// Before/after solve rates of an experiment.
struct ExperimentReport: Codable {
    struct Row: Codable {
        var type: String
        var tasks: Int
        var before: Double
        var after: Double
    }

    var run: String
    var preset: String
    var minutes: Double
    var steps: Int
    var heldOut: [Row]
    var cruxeval: [Row]
    /// Mean training reward per task × role over the first and the last steps (up to a third of the run each).
    var rewards: [Row]

    enum CodingKeys: String, CodingKey {
        case run, preset, minutes, steps, cruxeval, rewards
        case heldOut = "held_out"
    }

    /// `tasks` is the number of steps averaged at each end.
    static func rewardTrend(_ metrics: [StepMetrics]) -> [Row] {
        let window = max(1, min(3, metrics.count / 3))
        guard metrics.count >= 2 else { return [] }
        let first = metrics.prefix(window), last = metrics.suffix(window)
        let keys = Set(metrics.flatMap(\.reward.keys)).sorted()
        func mean(_ lines: ArraySlice<StepMetrics>, _ key: String) -> Double {
            let values = lines.compactMap { $0.reward[key] }
            return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }
        return keys.map { Row(type: $0, tasks: window, before: mean(first, $0), after: mean(last, $0)) }
    }

    static func compare(_ before: SolverEvaluation.Summary, _ after: SolverEvaluation.Summary) -> [Row] {
        before.solveRate.keys.sorted().map {
            Row(type: $0, tasks: before.tasks[$0] ?? 0, before: before.solveRate[$0] ?? 0, after: after.solveRate[$0] ?? 0)
        }
    }

    var markdown: String {
        var text = "Run \(run): preset \(preset), \(steps) steps in at most \(Int(minutes)) minutes; greedy solve rates.\n\n"
        text += "| tasks | type | n | before | after | change |\n|---|---|---:|---:|---:|---:|\n"
        let names = ["deduction": "deduction (CRUXEval-O)", "abduction": "abduction (CRUXEval-I)"]
        if heldOut.isEmpty { text += "| held-out, self-generated | – | 0 | the base model proposed no valid task | | |\n" }
        for (set, rows) in [("held-out, self-generated", heldOut), ("CRUXEval", cruxeval)] {
            for row in rows {
                text += String(format: "| %@ | %@ | %d | %.1f%% | %.1f%% | %+.1f |\n", set, set == "CRUXEval" ? names[row.type] ?? row.type : row.type,
                               row.tasks, row.before * 100, row.after * 100, (row.after - row.before) * 100)
            }
        }
        if let window = rewards.first?.tasks {
            text += "\nMean training reward (−1 malformed or invalid, −0.5 wrong, up to 1), first \(window) steps against last \(window):\n\n"
            text += "| task × role | first | last | change |\n|---|---:|---:|---:|\n"
            for row in rewards {
                text += String(format: "| %@ | %.2f | %.2f | %+.2f |\n", row.type, row.before, row.after, row.after - row.before)
            }
        }
        return text
    }
}
