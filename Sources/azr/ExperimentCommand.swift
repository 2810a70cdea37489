import ArgumentParser
import Foundation
import Gym
import Sandbox
import Tasks
import Trainer

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Does training move the numbers? Greedy solve rates before and after a time-boxed run, paired, with confidence intervals.",
        discussion: """
        1. The base model proposes a held-out set of tasks with another seed (runs/NAME-heldout); they are never \
        trained on. 2. The base model solves them, CRUXEval's output (deduction) and input (abduction) \
        prediction, and HumanEval+. 3. `azr train` runs the preset for --minutes. 4. The trained model solves \
        the same problems. Every answer is read strictly (the asked form) and leniently. The before/after table, \
        with each change's 95% interval and McNemar's exact test, goes to runs/NAME/experiment.md and .json; \
        `azr report runs/NAME` draws the run's learning curves.
        """)

    @Option(help: "Training preset.") var preset = "cpu"
    @Option(name: .customLong("set"), help: "KEY=VALUE for any config key of the training run (e.g. max_new_tokens=320).") var settings: [String] = []
    @Option(help: "Minutes of training (no step starts later).") var minutes = 60.0
    @Option(help: "Run name (default: experiment-DATE-TIME).") var name: String?
    @Option(help: "Folder that holds the runs.") var runs = "runs"
    @Option(help: "Held-out self-generated tasks (at most; shared among the task types).") var heldOut = 150
    @Option(help: "Proposal rounds for the held-out set (each asks for --held-out-proposals tasks per type).") var heldOutRounds = 40
    @Option(help: "Proposals per task type in each held-out round (a wider batch decodes faster).") var heldOutProposals = 8
    @Option(help: "CRUXEval problems per direction (800: all; 0 skips CRUXEval).") var cruxeval = 800
    @Option(help: "CRUXEval file.") var cruxevalFile = "../shared/datasets/cruxeval.jsonl.gz"
    @Option(help: "HumanEval+ problems (the first N; -1: all 164; 0 skips it).") var humaneval = -1
    @Option(help: "HumanEval+ file (default: ../shared/datasets).") var humanevalFile: String?
    @Option(help: "A llama or qwen2 GGUF file or a model's name (`azr model list`); default: qwen2.5-coder-0.5b.") var model: String?
    @Option(help: "Seed of the training run; the held-out set uses seed + 1000.") var seed: UInt64 = 0
    @Flag(help: "Rebuild experiment.md and .json of the finished experiment --name from its saved verdicts and metrics; nothing runs.") var reportOnly = false

    /// One model's answers on every set.
    struct Measurement {
        var heldOut: SolverEvaluation.Summary
        var cruxeval: SolverEvaluation.Summary
        var humaneval: BenchmarkEvaluation.Summary?

        /// Every verdict, saved as soon as it is measured (before.json, after.json), so hours of evaluation
        /// survive a later failure and can be re-analysed.
        struct File: Codable {
            var held_out: SolverEvaluation.Summary
            var cruxeval: SolverEvaluation.Summary
            var humaneval: [BenchmarkEvaluation.ProblemResult]?
        }

        func save(to url: URL) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try AtomicFile.write(try encoder.encode(File(held_out: heldOut, cruxeval: cruxeval, humaneval: humaneval?.problems)) + Data("\n".utf8), to: url)
        }

        init(heldOut: SolverEvaluation.Summary, cruxeval: SolverEvaluation.Summary, humaneval: BenchmarkEvaluation.Summary?) {
            self.heldOut = heldOut
            self.cruxeval = cruxeval
            self.humaneval = humaneval
        }

        /// A saved before.json or after.json.
        init(contentsOf url: URL) throws {
            let file: File
            do { file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)) } catch {
                throw CLIError.usage("cannot read \(url.path): \(error.localizedDescription)")
            }
            self.init(heldOut: file.held_out, cruxeval: file.cruxeval,
                      humaneval: file.humaneval.map { BenchmarkEvaluation.Summary(problems: $0, totalProblems: $0.count) })
        }
    }

    func run() throws {
        if reportOnly { return try rewriteReport() }
        guard let base = TrainingConfig.preset(preset) else { throw CLIError.usage("unknown preset \"\(preset)\"") }
        var config: TrainingConfig
        do { config = try TrainingConfig.applying(settings, to: base) } catch { throw CLIError.usage("\(error)") }
        config.seed = seed
        do { try config.validate() } catch { throw CLIError.usage("\(error)") }
        guard heldOutProposals >= 1 else { throw CLIError.usage("--held-out-proposals must be at least 1") }
        if let model { config.model = URL(fileURLWithPath: try ModelLocation.resolve(model)).standardizedFileURL.path }
        let runName = name ?? "experiment-\(TrainCommand.timestamp())"
        let folder = URL(fileURLWithPath: runs)
        let reporter = TrainingProgress(mode: .live, steps: config.steps)

        var crux: [Triple] = []
        if cruxeval > 0 {
            guard FileManager.default.fileExists(atPath: cruxevalFile) else { throw CLIError.usage("no CRUXEval file at \(cruxevalFile) (or pass --cruxeval 0)") }
            crux = try BufferFiles.cruxeval(from: cruxevalFile, limit: cruxeval)
        }
        var problems: [BenchmarkProblem] = []
        if humaneval != 0 {
            guard let path = humanevalFile ?? EvalCommand.defaultBenchmark() else { throw CLIError.usage("no HumanEval+ file (pass --humaneval-file, or --humaneval 0)") }
            do { problems = try BenchmarkLoader.load(path) } catch { throw CLIError.usage("\(error)") }
            if humaneval > 0 { problems = Array(problems.prefix(humaneval)) }
        }
        // HumanEval+ is scored under the `benchmark` policy, in a pool of its own, only when it is measured.
        let pool: ZygotePool, benchmarkPool: ZygotePool?
        do {
            pool = try ZygotePool(policyNamed: config.sandboxPolicy)
            benchmarkPool = problems.isEmpty ? nil : try ZygotePool(policyNamed: "benchmark", size: 1)
        } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown(); benchmarkPool?.shutdown() }

        // 1. Held-out tasks: the base model's own proposals under another seed, never trained on.
        var heldOutConfig = config
        heldOutConfig.seed = seed &+ 1000
        heldOutConfig.steps = 0
        heldOutConfig.seedSize = max(1, heldOut / config.registry.names.count) + 1
        heldOutConfig.seedingRounds = heldOutRounds
        heldOutConfig.proposalsPerType = heldOutProposals
        heldOutConfig.generationBatch = max(config.generationBatch, heldOutProposals * config.registry.names.count)
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

        // 2. Before: the training run's own model, before its first step.
        let trainingRun: TrainingRun
        do { trainingRun = try TrainingRun.create(at: folder.appendingPathComponent(runName), config: config) } catch {
            throw CLIError.usage("\(error)")
        }
        let training = try AZRTraining(run: trainingRun, pool: pool, reporter: reporter)
        let evaluation = SolverEvaluation(registry: config.registry, runner: ProgramRunner(pool: pool), format: config.answerFormat)
        func measure(_ label: String) throws -> Measurement {
            reporter.prelude = "evaluating"
            defer { reporter.prelude = "seeding" }
            training.policy.onTokens = { done, total in reporter.progress(step: -1, phase: label, done: done, total: total, unit: "tokens") }
            let own = try evaluation.run(policy: training.policy, tasks: heldOutTasks)
            let other = try evaluation.run(policy: training.policy, tasks: crux)
            var code: BenchmarkEvaluation.Summary?
            if let benchmarkPool {
                let generation = BenchmarkGeneration(model: training.policy.model, tokenizer: training.policy.tokenizer,
                                                     maxNewTokens: 512, batchSize: config.generationBatch, temperature: 0, seed: seed)
                let solutions = try generation.solutions(for: problems, samples: 1, progress: { done, total in
                    reporter.progress(step: -1, phase: "\(label), HumanEval+", done: done, total: total, unit: "solutions") })
                code = BenchmarkEvaluation(scorer: BenchmarkScorer(pool: benchmarkPool)).run(problems: problems, samples: solutions)
            }
            return Measurement(heldOut: own, cruxeval: other, humaneval: code)
        }
        reporter.note("2/4 the base model attempts \(heldOutTasks.count) held-out, \(crux.count) CRUXEval and \(problems.count) HumanEval+ problems")
        // Evaluation sampling must not move the training run's sampler position.
        let calls = training.policy.callIndex
        let before = try measure("solving (before)")
        try before.save(to: trainingRun.directory.appendingPathComponent("before.json"))
        training.policy.resume(callIndex: calls)

        // 3. Train.
        reporter.note("3/4 training for at most \(minutes) minutes")
        let steps = try training.train(until: Date().addingTimeInterval(minutes * 60))
        reporter.finish()

        // 4. After.
        reporter.note("4/4 the trained model (\(steps) steps) attempts the same problems")
        let after = try measure("solving (after)")
        try after.save(to: trainingRun.directory.appendingPathComponent("after.json"))
        reporter.finish()

        try writeReport(run: trainingRun, minutes: minutes, steps: steps, before: before, after: after)
    }

    /// experiment.json and experiment.md from the measurements, printed too.
    func writeReport(run trainingRun: TrainingRun, minutes: Double, steps: Int, before: Measurement, after: Measurement) throws {
        var report = ExperimentReport(run: trainingRun.directory.lastPathComponent, runs: runs, preset: trainingRun.config.preset,
                                      minutes: minutes, steps: steps, metrics: try trainingRun.readMetrics())
        report.add(set: "held-out, self-generated", before.heldOut, after.heldOut, pooled: true)
        report.add(set: "CRUXEval", before.cruxeval, after.cruxeval)
        if let code = before.humaneval, let trained = after.humaneval { report.add(humanEval: code, trained) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report) + Data("\n".utf8), to: trainingRun.directory.appendingPathComponent("experiment.json"))
        let table = report.markdown
        try AtomicFile.write(Data(table.utf8), to: trainingRun.directory.appendingPathComponent("experiment.md"))
        print(table, terminator: "")
    }

    /// --report-only: the tables again from a finished experiment's saved verdicts and metrics; nothing runs.
    func rewriteReport() throws {
        guard let name else { throw CLIError.usage("--report-only needs --name (the experiment's run folder under --runs)") }
        let trainingRun: TrainingRun
        do { trainingRun = try TrainingRun.open(URL(fileURLWithPath: runs).appendingPathComponent(name)) } catch {
            throw CLIError.usage("\(error)")
        }
        let before = try Measurement(contentsOf: trainingRun.directory.appendingPathComponent("before.json"))
        let after = try Measurement(contentsOf: trainingRun.directory.appendingPathComponent("after.json"))
        struct Saved: Decodable { var minutes: Double }
        let saved = try? JSONDecoder().decode(Saved.self, from: Data(contentsOf: trainingRun.directory.appendingPathComponent("experiment.json")))
        try writeReport(run: trainingRun, minutes: saved?.minutes ?? minutes, steps: try trainingRun.readMetrics().count,
                        before: before, after: after)
    }
}

/// Before/after solve rates of an experiment, paired per problem.
struct ExperimentReport: Codable {
    /// One set × task type × reading.
    struct Row: Codable {
        var set: String
        var type: String
        /// strict or lenient (HumanEval+: base or plus tests).
        var reading: String
        var comparison: PairedComparison
    }

    /// Mean training reward per task × role over the first and the last steps.
    struct RewardRow: Codable {
        var type: String
        var steps: Int
        var first: Double
        var last: Double
    }

    /// One training step's mean reward per task × role: the learning curve beside the before/after table.
    struct CurvePoint: Codable {
        var step: Int
        var reward: [String: Double]
    }

    var run: String
    /// The folder that holds the run.
    var runs: String
    var preset: String
    var minutes: Double
    var steps: Int
    var rows: [Row] = []
    var rewards: [RewardRow]
    var curve: [CurvePoint]

    init(run: String, runs: String, preset: String, minutes: Double, steps: Int, metrics: [StepMetrics]) {
        self.run = run
        self.runs = runs
        self.preset = preset
        self.minutes = minutes
        self.steps = steps
        rewards = Self.rewardTrend(metrics)
        curve = metrics.map { CurvePoint(step: $0.step + 1, reward: $0.reward) }
    }

    /// Solved means every answer to the task was right (greedy: its one answer). With `pooled`, a row per reading
    /// over all task types together follows the per-type rows (when there are several types).
    mutating func add(set: String, _ before: SolverEvaluation.Summary, _ after: SolverEvaluation.Summary, pooled: Bool = false) {
        let afterByID = Dictionary(after.results.map { ("\($0.type)/\($0.id)", $0) }, uniquingKeysWith: { first, _ in first })
        let types = Set(before.results.map(\.type)).sorted()
        for type in types + (pooled && types.count > 1 ? ["all"] : []) {
            let pairs = before.results.filter { type == "all" || $0.type == type }
                .compactMap { result in afterByID["\(result.type)/\(result.id)"].map { (result, $0) } }
            for (reading, count) in [("strict", \SolverEvaluation.TaskResult.strict_correct), ("lenient", \SolverEvaluation.TaskResult.lenient_correct)] {
                rows.append(Row(set: set, type: type, reading: reading, comparison: PairedComparison(
                    before: pairs.map { $0.0[keyPath: count] == $0.0.samples && $0.0.samples > 0 },
                    after: pairs.map { $0.1[keyPath: count] == $0.1.samples && $0.1.samples > 0 })))
            }
        }
    }

    mutating func add(humanEval before: BenchmarkEvaluation.Summary, _ after: BenchmarkEvaluation.Summary) {
        let afterByID = Dictionary(after.problems.map { ($0.task_id, $0) }, uniquingKeysWith: { first, _ in first })
        let pairs = before.problems.compactMap { problem in afterByID[problem.task_id].map { (problem, $0) } }
        rows.append(Row(set: "HumanEval+", type: "pass@1", reading: "base tests", comparison: PairedComparison(
            before: pairs.map { $0.0.base_correct > 0 }, after: pairs.map { $0.1.base_correct > 0 })))
        if before.hasPlus {
            rows.append(Row(set: "HumanEval+", type: "pass@1", reading: "plus tests", comparison: PairedComparison(
                before: pairs.map { ($0.0.plus_correct ?? 0) > 0 }, after: pairs.map { ($0.1.plus_correct ?? 0) > 0 })))
        }
    }

    static func rewardTrend(_ metrics: [StepMetrics]) -> [RewardRow] {
        let window = max(1, min(3, metrics.count / 3))
        guard metrics.count >= 2 else { return [] }
        let first = metrics.prefix(window), last = metrics.suffix(window)
        let keys = Set(metrics.flatMap(\.reward.keys)).sorted()
        func mean(_ lines: ArraySlice<StepMetrics>, _ key: String) -> Double {
            let values = lines.compactMap { $0.reward[key] }
            return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }
        return keys.map { RewardRow(type: $0, steps: window, first: mean(first, $0), last: mean(last, $0)) }
    }

    /// The run's folder as the user named it, for the `azr report` hint.
    var folder: String { (runs as NSString).appendingPathComponent(run) }

    var markdown: String {
        var text = "Run \(run): preset \(preset), \(steps) steps in at most \(Int(minutes)) minutes; greedy, the same problems before and after.\n\n"
        text += "| problems | type | reading | n | before | after | change [95% CI], McNemar p |\n|---|---|---|---:|---:|---:|---|\n"
        let names = ["deduction": "deduction (CRUXEval-O)", "abduction": "abduction (CRUXEval-I)"]
        if !rows.contains(where: { $0.set == "held-out, self-generated" }) {
            text += "| held-out, self-generated | – | – | 0 | the base model proposed no valid task | | |\n"
        }
        for row in rows {
            let c = row.comparison
            text += String(format: "| %@ | %@ | %@ | %d | %.1f%% | %.1f%% | %@ |\n", row.set, row.set == "CRUXEval" ? names[row.type] ?? row.type : row.type,
                           row.reading, c.problems, c.before * 100, c.after * 100, c.text)
        }
        if let window = rewards.first?.steps {
            text += "\nMean training reward (−1 format error, −0.5 wrong or invalid, up to 1), first \(window) steps against last \(window):\n\n"
            text += "| task × role | first | last | change |\n|---|---:|---:|---:|\n"
            for row in rewards {
                text += String(format: "| %@ | %.2f | %.2f | %+.2f |\n", row.type, row.first, row.last, row.last - row.first)
            }
        }
        let keys = Set(curve.flatMap(\.reward.keys)).sorted()
        if !curve.isEmpty && !keys.isEmpty {
            text += "\nLearning curve, mean reward per step:\n\n| step | " + keys.joined(separator: " | ") + " |\n|---:|"
            text += String(repeating: "---:|", count: keys.count) + "\n"
            for point in curve {
                text += "| \(point.step) | " + keys.map { key in point.reward[key].map { String(format: "%.2f", $0) } ?? "–" }
                    .joined(separator: " | ") + " |\n"
            }
        }
        text += "\nEvery chart of the run: `azr report \(folder)`.\n"
        return text
    }
}
