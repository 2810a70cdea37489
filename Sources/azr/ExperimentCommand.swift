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
        1. The base model proposes a held-out set of tasks with another seed (runs/NAME-heldout; \
        --held-out-from copies another experiment's instead); they are never trained on. 2. The base model solves them, CRUXEval's output (deduction) and input (abduction) \
        prediction, and HumanEval+. 3. `azr train` runs the preset for --minutes. 4. The trained model solves \
        the same problems. Every answer is read strictly (the asked form) and leniently. The before/after table, \
        with each change's 95% interval and McNemar's exact test, goes to runs/NAME/experiment.md and .json; \
        `azr report runs/NAME` draws the run's learning curves.
        """)

    @Option(help: "The self-play game trained: azr, lsp, sgs or soar. All are measured on the same problems.") var game = "azr"
    @Option(help: "Training preset of the game (presets/GAME/NAME.json).") var preset = "cpu"
    @Option(name: .customLong("set"), help: "KEY=VALUE for any config key of the training run (e.g. max_new_tokens=320).") var settings: [String] = []
    @Option(help: "Minutes of training (no step starts later).") var minutes = 60.0
    @Option(help: "Run name (default: experiment-DATE-TIME).") var name: String?
    @Option(help: "Folder that holds the runs.") var runs = "runs"
    @Option(help: "Held-out self-generated tasks (at most; shared among the task types).") var heldOut = 150
    @Option(help: "Proposal rounds for the held-out set (each asks for --held-out-proposals tasks per type).") var heldOutRounds = 40
    @Option(help: "Proposals per task type in each held-out round (a wider batch decodes faster).") var heldOutProposals = 8
    @Option(help: "Use the held-out set another experiment's base model proposed (its runs/NAME-heldout folder, copied) instead of proposing one, so settings can be compared on the same tasks; it must come from the same model.") var heldOutFrom: String?
    @Option(help: "CRUXEval problems per direction (800: all; 0 skips CRUXEval).") var cruxeval = 800
    @Option(help: "CRUXEval directions measured: both, output (output prediction, deduction) or input (input prediction, abduction); one direction takes about half the time.") var cruxevalDirections = "both"
    @Option(help: "CRUXEval file.") var cruxevalFile = "../shared/datasets/cruxeval.jsonl.gz"
    @Option(help: "HumanEval+ problems (the first N; -1: all 164; 0 skips it).") var humaneval = -1
    @Option(help: "HumanEval+ file (default: ../shared/datasets).") var humanevalFile: String?
    @Option(help: "A llama or qwen2 GGUF file or a model's name (`azr model list`); default: qwen2.5-coder-0.5b.") var model: String?
    @Option(help: "Seed of the training run; the held-out set uses seed + 1000.") var seed: UInt64 = 0
    @Flag(help: "Rebuild experiment.md and .json of the experiment --name from its saved verdicts and metrics (an unfinished one: the sets measured so far); nothing runs.") var reportOnly = false
    @Option(help: "With --report-only: also report the CRUXEval problems another run (an SGS run's folder, or a SOAR run's hard set) held out and trained on, so a game without targets is compared on the same problems.") var targetsFrom: String?

    @Flag(help: "Continue the experiment --name after a kill or a failure: what is measured or trained stays, the rest runs with the experiment's own settings.") var resume = false

    func run() throws {
        if reportOnly { return try rewriteReport() }
        guard targetsFrom == nil else { throw CLIError.usage("--targets-from goes with --report-only") }
        let folder = URL(fileURLWithPath: runs)
        let opened: (run: TrainingRun, plan: ExperimentPlan, note: String?)
        if resume {
            guard let name else { throw CLIError.usage("--resume needs --name (the experiment's run folder under --runs)") }
            guard settings.isEmpty, model == nil else { throw CLIError.usage("--resume takes the experiment's own settings (no --set or --model)") }
            opened = try reopen(folder.appendingPathComponent(name))
        } else {
            let started = try start(folder: folder)
            opened = (started.run, started.plan, nil)
        }
        let trainingRun = opened.run
        var plan = opened.plan
        let config = trainingRun.config
        // Every game is measured on the same problems with AZR's three task types: held-out tasks proposed by
        // AZR's seeding and judged by the same environments, whichever game trains.
        let measuring = Self.measuringConfig(config)
        let registry: EnvironmentRegistry
        do { registry = try measuring.registry } catch { throw CLIError.usage("\(error)") }
        let reporter = TrainingProgress(mode: .live, steps: config.steps)
        if let note = opened.note { reporter.note(note) }
        let runName = trainingRun.directory.lastPathComponent
        reporter.note("the experiment is in \(trainingRun.directory.path); after a kill, `azr experiment --resume --name \(runName) --runs \(runs)` continues it")

        var crux: [Triple] = []
        if plan.cruxeval > 0 {
            guard FileManager.default.fileExists(atPath: plan.cruxevalFile) else { throw CLIError.usage("no CRUXEval file at \(plan.cruxevalFile) (or pass --cruxeval 0)") }
            crux = try BufferFiles.cruxeval(from: plan.cruxevalFile, limit: plan.cruxeval, types: plan.measuredCRUXEvalTypes)
        }
        var problems: [BenchmarkProblem] = []
        if plan.humaneval != 0 {
            guard let path = plan.humanevalFile else { throw CLIError.usage("no HumanEval+ file (pass --humaneval-file, or --humaneval 0)") }
            do { problems = try BenchmarkLoader.load(path) } catch { throw CLIError.usage("\(error)") }
            if plan.humaneval > 0 { problems = Array(problems.prefix(plan.humaneval)) }
        }
        // HumanEval+ is scored under the `benchmark` policy, in a pool of its own, only when it is measured.
        let pool: ZygotePool, benchmarkPool: ZygotePool?
        do {
            pool = try ZygotePool(policyNamed: config.sandboxPolicy)
            benchmarkPool = problems.isEmpty ? nil : try ZygotePool(policyNamed: "benchmark", size: 1)
        } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown(); benchmarkPool?.shutdown() }

        // 1. Held-out tasks: the base model's own proposals under another seed, never trained on.
        let heldOutFolder = folder.appendingPathComponent("\(runName)-heldout")
        let heldOutRun: TrainingRun
        do {
            if FileManager.default.fileExists(atPath: heldOutFolder.appendingPathComponent("config.json").path) {
                heldOutRun = try TrainingRun.open(heldOutFolder)
            } else {
                var heldOutConfig = measuring
                heldOutConfig.seed = config.seed &+ 1000
                heldOutConfig.steps = 0
                heldOutConfig.seedSize = max(1, plan.heldOut / registry.names.count) + 1
                heldOutConfig.seedingRounds = plan.heldOutRounds
                heldOutConfig.proposalsPerType = plan.heldOutProposals
                heldOutConfig.generationBatch = max(config.generationBatch, plan.heldOutProposals * registry.names.count)
                heldOutRun = try TrainingRun.create(at: heldOutFolder, config: heldOutConfig)
            }
        } catch let error as CLIError { throw error } catch { throw CLIError.usage("\(error)") }
        if try heldOutRun.readState()?.seeded != true {
            reporter.note("1/4 proposing held-out tasks into \(heldOutFolder.path)")
            try SelfPlayTraining(run: heldOutRun, pool: pool, reporter: reporter).train()
        }
        var heldOutTasks: [Triple] = []
        for type in registry.names {
            let buffer = try TaskBuffer(name: type, url: heldOutRun.buffersURL.appendingPathComponent("\(type).jsonl"))
            heldOutTasks += buffer.triples.filter { $0.source != "seed" }
        }

        // 2. Before: the training run's own model, before its first step.
        let training = try SelfPlayTraining(run: trainingRun, pool: pool, reporter: reporter)
        let evaluation = SolverEvaluation(registry: registry, runner: ProgramRunner(pool: pool), format: config.answerFormat)
        func ids(_ tasks: [Triple]) -> [String] { tasks.filter { registry[$0.type] != nil }.map(\.problemKey) }
        func measure(_ label: String, stem: String) throws -> ExperimentMeasurement {
            reporter.prelude = "evaluating"
            defer { reporter.prelude = "seeding" }
            training.policy.onTokens = { done, total in reporter.progress(step: -1, phase: label, done: done, total: total, unit: "tokens") }
            return try ExperimentMeasurement.measure(
                in: trainingRun.directory, stem: stem, heldOutIDs: ids(heldOutTasks), cruxevalIDs: ids(crux),
                humanevalIDs: problems.map(\.taskID),
                heldOut: { try evaluation.run(policy: training.policy, tasks: heldOutTasks) },
                cruxeval: { try evaluation.run(policy: training.policy, tasks: crux) },
                humaneval: {
                    guard let benchmarkPool else { return nil }
                    let generation = BenchmarkGeneration(model: training.policy.model, tokenizer: training.policy.tokenizer,
                                                         maxNewTokens: 512, batchSize: config.generationBatch, temperature: 0, seed: config.seed)
                    let solutions = try generation.solutions(for: problems, samples: 1, progress: { done, total in
                        reporter.progress(step: -1, phase: "\(label), HumanEval+", done: done, total: total, unit: "solutions") })
                    return BenchmarkEvaluation(scorer: BenchmarkScorer(pool: benchmarkPool)).run(problems: problems, samples: solutions)
                }, note: { reporter.note($0) })
        }
        let state = try trainingRun.readState()
        if !FileManager.default.fileExists(atPath: trainingRun.directory.appendingPathComponent("before.json").path),
           let state, state.completedSteps > 0 {
            throw CLIError.usage("\(trainingRun.directory.path) has trained \(state.completedSteps) steps but has no before.json: the base model's measurement is gone")
        }
        reporter.note("2/4 the base model attempts \(heldOutTasks.count) held-out, \(crux.count) CRUXEval and \(problems.count) HumanEval+ problems")
        // Evaluation sampling must not move the training run's sampler position.
        let calls = training.policy.callIndex
        training.trainer.releaseWorkingMemory()
        let before = try measure("solving (before)", stem: "before")
        training.policy.resume(callIndex: calls)
        // The trained model answers exactly the base model's problems, even if a set has grown since (CRUXEval
        // did, when expression inputs began to import).
        heldOutTasks = Self.restricted(heldOutTasks, to: before.heldOut)
        crux = Self.restricted(crux, to: before.cruxeval)
        if let code = before.humaneval {
            let measured = Set(code.problems.map(\.task_id))
            problems = problems.filter { measured.contains($0.taskID) }
        }

        // 3. Train, for what is left of the time box (a resumed run has spent its finished steps' seconds).
        let steps: Int
        if let trained = plan.trainedSteps {
            steps = trained
        } else {
            let spent = try trainingRun.readMetrics().map(\.totalSeconds).reduce(0, +)
            let left = max(0, plan.minutes * 60 - spent)
            reporter.note("3/4 training for at most \(String(format: "%.1f", left / 60)) minutes" + (spent > 0 ? " (of \(plan.minutes); the finished steps took \(String(format: "%.1f", spent / 60)))" : ""))
            steps = try training.train(until: Date().addingTimeInterval(left))
            reporter.finish()
            plan.trainedSteps = steps
            try plan.save(in: trainingRun.directory)
        }

        // 4. After. The trainer's gradients and activations are not needed to answer, and with the KL reference
        // beside them they pushed a 0.5B run's evaluation past 24 GB.
        training.trainer.releaseWorkingMemory()
        reporter.note("4/4 the trained model (\(steps) steps) attempts the same problems")
        let after = try measure("solving (after)", stem: "after")
        reporter.finish()

        try writeReport(run: trainingRun, minutes: plan.minutes, steps: steps, before: before, after: after, cruxeval: crux)
    }

    /// The settings the measurement uses whatever the game: the run's prompts and answer reading, AZR's game and
    /// its three task types (the held-out set is proposed by AZR's seeding), no game-specific keys.
    static func measuringConfig(_ config: TrainingConfig) -> TrainingConfig {
        var measuring = TrainingConfig()
        measuring.model = config.model
        measuring.seed = config.seed
        measuring.references = config.references
        measuring.inductionInputs = config.inductionInputs
        measuring.maxPromptTokens = config.maxPromptTokens
        measuring.maxNewTokens = config.maxNewTokens
        measuring.generationBatch = config.generationBatch
        measuring.template = config.template
        measuring.promptStyle = config.promptStyle
        measuring.topicHints = config.topicHints
        measuring.proposalShape = config.proposalShape
        measuring.solverReasoning = config.solverReasoning
        measuring.stopAtAnswer = config.stopAtAnswer
        measuring.answerFormat = config.answerFormat
        measuring.temperature = config.temperature
        measuring.topP = config.topP
        measuring.threads = config.threads
        measuring.sandboxPolicy = config.sandboxPolicy
        measuring.rewards = config.rewards
        measuring.bufferCapacity = config.bufferCapacity
        measuring.bufferKeep = config.bufferKeep
        return measuring
    }

    /// `tasks` in the order and number of the problems `summary` measured.
    static func restricted(_ tasks: [Triple], to summary: SolverEvaluation.Summary) -> [Triple] {
        let byKey = Dictionary(tasks.map { ($0.problemKey, $0) }, uniquingKeysWith: { first, _ in first })
        return summary.results.compactMap { byKey[$0.problemKey] }
    }

    /// A new experiment: the training run's folder with its config and plan, before anything runs.
    func start(folder: URL) throws -> (run: TrainingRun, plan: ExperimentPlan) {
        var config: TrainingConfig
        do { config = try TrainingConfig.applying(settings, to: TrainingConfig.preset(preset, game: game)) } catch { throw CLIError.usage("\(error)") }
        config.seed = seed
        do { try config.validate() } catch { throw CLIError.usage("\(error)") }
        guard heldOutProposals >= 1 else { throw CLIError.usage("--held-out-proposals must be at least 1") }
        // Read before anything is created, so a bad --cruxeval-directions leaves no run folder behind.
        let plan = try commandLinePlan
        if let model { config.model = URL(fileURLWithPath: try ModelLocation.resolve(model)).standardizedFileURL.path }
        let runName = name ?? "experiment-\(TrainCommand.timestamp())"
        let directory = folder.appendingPathComponent(runName)
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path) {
            throw CLIError.usage("\(directory.path) already holds an experiment; `azr experiment --resume --name \(runName) --runs \(runs)` continues it, or choose another --name")
        }
        if let heldOutFrom {
            try Self.copyHeldOut(from: URL(fileURLWithPath: heldOutFrom), to: folder.appendingPathComponent("\(runName)-heldout"), model: config.model)
        }
        let trainingRun: TrainingRun
        do { trainingRun = try TrainingRun.create(at: directory, config: config) } catch { throw CLIError.usage("\(error)") }
        try plan.save(in: directory)
        return (trainingRun, plan)
    }

    /// Copies a finished held-out set proposed by `model` to `destination`, refusing anything else: a set that is
    /// still being proposed, another model's, or a destination that already holds one.
    static func copyHeldOut(from source: URL, to destination: URL, model: String?) throws {
        let donor: TrainingRun
        do { donor = try TrainingRun.open(source) } catch { throw CLIError.usage("--held-out-from: \(error)") }
        guard try donor.readState()?.seeded == true else {
            throw CLIError.usage("--held-out-from: \(source.path) has not finished proposing its tasks (resume its own experiment first)")
        }
        // nil is the default model, wherever it is installed.
        let file = { (model: String?) in
            (model ?? DefaultModel.locate()).map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path } ?? "the default model"
        }
        guard file(donor.config.model) == file(model) else {
            throw CLIError.usage("--held-out-from: \(source.path) was proposed by \(file(donor.config.model)), not by \(file(model)), the model this experiment measures")
        }
        guard !FileManager.default.fileExists(atPath: destination.path) else {
            throw CLIError.usage("--held-out-from: \(destination.path) exists already")
        }
        // Copied beside the destination and renamed into place: a kill mid-copy must not leave a partial set that a
        // resumed experiment would take for the whole one.
        let partial = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).\(getpid()).partial")
        do {
            try? FileManager.default.removeItem(at: partial)
            try FileManager.default.copyItem(at: source, to: partial)
            try FileManager.default.moveItem(at: partial, to: destination)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw CLIError.usage("--held-out-from: cannot copy \(source.path): \(error.localizedDescription)")
        }
    }

    /// The plan this command line asks for.
    var commandLinePlan: ExperimentPlan {
        get throws {
            ExperimentPlan(minutes: minutes, heldOut: heldOut, heldOutRounds: heldOutRounds, heldOutProposals: heldOutProposals,
                           cruxeval: cruxeval, cruxevalFile: Self.absolute(cruxevalFile),
                           cruxevalTypes: try Self.cruxevalTypes(cruxevalDirections), humaneval: humaneval,
                           humanevalFile: humaneval == 0 ? nil : (humanevalFile ?? EvalCommand.defaultBenchmark()).map(Self.absolute),
                           heldOutFrom: heldOutFrom.map(Self.absolute))
        }
    }

    /// The task types of `--cruxeval-directions`; nil (both, the plan's default) for "both".
    static func cruxevalTypes(_ directions: String) throws -> [String]? {
        switch directions {
        case "both": return nil
        case "output": return ["deduction"]
        case "input": return ["abduction"]
        default: throw CLIError.usage("--cruxeval-directions is both, output or input, not \(directions)")
        }
    }

    /// Paths in the plan do not depend on the folder a resume starts from.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// A started experiment with its saved plan. One that predates plan files takes the command line's.
    func reopen(_ directory: URL) throws -> (run: TrainingRun, plan: ExperimentPlan, note: String?) {
        let trainingRun: TrainingRun
        do { trainingRun = try TrainingRun.open(directory) } catch { throw CLIError.usage("\(error)") }
        if let plan = try ExperimentPlan.saved(in: directory) { return (trainingRun, plan, nil) }
        let note = "\(directory.path) has no experiment-plan.json (an older experiment): using this command line's --minutes, --held-out… and --cruxeval…"
        var plan = try commandLinePlan
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("after.json").path)
            || FileManager.default.fileExists(atPath: directory.appendingPathComponent("after.partial.json").path) {
            plan.trainedSteps = try trainingRun.readState()?.completedSteps ?? 0
        }
        try plan.save(in: directory)
        return (trainingRun, plan, note)
    }

    /// experiment.json and experiment.md from the measurements, printed too.
    func writeReport(run trainingRun: TrainingRun, minutes: Double, steps: Int, before: ExperimentMeasurement, after: ExperimentMeasurement,
                     cruxeval: [Triple]) throws {
        try writeReport(run: trainingRun, minutes: minutes, steps: steps, before: before, after: after.file, cruxeval: cruxeval)
    }

    /// With a partial `after` (an unfinished experiment's after.partial.json), the rows of the sets it has, and
    /// a line naming the ones it has not. `cruxeval` holds at least the CRUXEval problems measured: their inputs
    /// and outputs split the CRUXEval rows into echo problems (the output is an argument) and the rest.
    func writeReport(run trainingRun: TrainingRun, minutes: Double, steps: Int, before: ExperimentMeasurement,
                     after: ExperimentMeasurement.File, cruxeval: [Triple]) throws {
        var report = ExperimentReport(run: trainingRun.directory.lastPathComponent, runs: runs, game: trainingRun.config.game, preset: trainingRun.config.preset,
                                      minutes: minutes, steps: steps, metrics: try trainingRun.readMetrics())
        if let trained = after.held_out { report.add(set: "held-out, self-generated", before.heldOut, trained, pooled: true) } else {
            report.unmeasured.append("held-out, self-generated")
        }
        if let trained = after.cruxeval {
            report.add(set: "CRUXEval", before.cruxeval, trained)
            let echoes = EchoProblems.keys(in: cruxeval)
            let measured = Set(before.cruxeval.results.map(\.problemKey))
            let known = Set(cruxeval.map(\.problemKey))
            let unknown = measured.subtracting(known)
            guard unknown.isEmpty else {
                throw CLIError.usage("the CRUXEval file lacks \(unknown.count) of the problems measured (e.g. \(unknown.sorted()[0])): it is not the file this experiment measured")
            }
            report.add(set: "CRUXEval, output equals an argument", before.cruxeval, trained, only: echoes)
            report.add(set: "CRUXEval, output is no argument", before.cruxeval, trained, only: measured.subtracting(echoes))
            // A run with targets (SGS) splits CRUXEval: the held-out targets it never saw, the targets it trained on.
            let source = targetsFrom.map { URL(fileURLWithPath: $0) } ?? trainingRun.directory
            let selection: SGSTargets.Selection?
            do { selection = try SGSTargets.recorded(in: source) } catch { throw CLIError.usage("\(error)") }
            if let selection {
                let origin = targetsFrom == nil ? "" : " of \(source.lastPathComponent)"
                // SOAR records its hard set the same way: the held-out part, and the part whose gains rewarded the teacher.
                let hard = (try? TrainingRun.open(source))?.config.game == "soar"
                report.add(set: (hard ? "CRUXEval, held-out hard problems" : "CRUXEval, held-out targets") + origin, before.cruxeval, trained,
                           pooled: true, only: Set(selection.held_out))
                report.add(set: (hard ? "CRUXEval, hard problems (teacher's reward)" : "CRUXEval, trained targets") + origin, before.cruxeval,
                           trained, pooled: true, only: Set(selection.targets))
            } else if targetsFrom != nil {
                throw CLIError.usage("--targets-from: \(source.path) has no targets.json (not an SGS or SOAR run)")
            }
        } else { report.unmeasured.append("CRUXEval") }
        if let code = before.humaneval {
            if let trained = after.humanevalSummary {
                report.add(humanEval: code, trained)
            } else {
                report.unmeasured.append("HumanEval+")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report) + Data("\n".utf8), to: trainingRun.directory.appendingPathComponent("experiment.json"))
        let table = report.markdown
        try AtomicFile.write(Data(table.utf8), to: trainingRun.directory.appendingPathComponent("experiment.md"))
        print(table, terminator: "")
    }

    /// --report-only: the tables again from an experiment's saved verdicts and metrics; nothing runs.
    func rewriteReport() throws {
        guard let name else { throw CLIError.usage("--report-only needs --name (the experiment's run folder under --runs)") }
        let trainingRun: TrainingRun
        do { trainingRun = try TrainingRun.open(URL(fileURLWithPath: runs).appendingPathComponent(name)) } catch {
            throw CLIError.usage("\(error)")
        }
        let before = try ExperimentMeasurement(contentsOf: trainingRun.directory.appendingPathComponent("before.json"))
        // An unfinished experiment reports what its trained model has answered so far.
        let finished = trainingRun.directory.appendingPathComponent("after.json")
        let partial = trainingRun.directory.appendingPathComponent("after.partial.json")
        let after = FileManager.default.fileExists(atPath: finished.path) || !FileManager.default.fileExists(atPath: partial.path)
            ? try ExperimentMeasurement.File(contentsOf: finished) : try ExperimentMeasurement.File(contentsOf: partial)
        struct Saved: Decodable { var minutes: Double }
        let saved = try? JSONDecoder().decode(Saved.self, from: Data(contentsOf: trainingRun.directory.appendingPathComponent("experiment.json")))
        let plan = try ExperimentPlan.saved(in: trainingRun.directory)
        // The CRUXEval rows are split by each problem's input and output, read again from the file measured.
        var crux: [Triple] = []
        if after.cruxeval != nil && !before.cruxeval.results.isEmpty {
            let file = (try plan ?? commandLinePlan).cruxevalFile
            guard FileManager.default.fileExists(atPath: file) else {
                throw CLIError.usage("no CRUXEval file at \(file): the report reads the measured problems' inputs and outputs from it (pass --cruxeval-file)")
            }
            crux = try BufferFiles.cruxeval(from: file, limit: nil)
        }
        try writeReport(run: trainingRun, minutes: plan?.minutes ?? saved?.minutes ?? minutes, steps: try trainingRun.readMetrics().count,
                        before: before, after: after, cruxeval: crux)
    }
}
