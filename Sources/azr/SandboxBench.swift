import ArgumentParser
import Foundation
import Sandbox

struct SandboxBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Sandboxed executions per second, beside `python3 -c` per program and an in-process exec loop.")

    @Option(help: "Policy name (in sandbox-policies/) or path.") var policy = "default"
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @Option(help: "Zygotes (default: one per core).") var zygotes: Int?
    @Option(help: "Also write the JSON figures to this file.") var output: String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let loaded: SandboxPolicy
        do { loaded = try PolicyLocator.load(policy) } catch { throw CLIError.usage("\(error)") }
        let benchmark = SandboxBenchmark(policy: loaded, seconds: seconds, zygotes: zygotes)
        let figures = try benchmark.run { stage in
            if !json { FileHandle.standardError.write(Data("  measuring \(stage)...\n".utf8)) }
        }
        if try BenchFigures.publish(figures, output: output, json: json) { return }
        let rows: [(String, Double, String)] = [
            ("sandbox, trivial program (\(figures.zygotes) zygotes)", figures.runs_per_s_trivial,
             String(format: "%.1fx python3 -c", figures.sandbox_vs_spawn)),
            ("sandbox, ~1 ms program (\(figures.zygotes) zygotes)", figures.runs_per_s_1ms,
             String(format: "%.2f ms CPU per run", figures.work_program_cpu_ms)),
            ("sandbox, trivial program (1 zygote)", figures.runs_per_s_trivial_one_zygote, ""),
            ("python3 -c per program (\(figures.zygotes) at a time)", figures.spawn_runs_per_s, "baseline"),
            ("in-process exec loop (unsafe, 1 core)", figures.inprocess_runs_per_s, "ceiling"),
        ]
        print("| what | runs/s | note |\n|---|---:|---|")
        for (name, rate, note) in rows { print("| \(name) | \(String(format: "%.0f", rate)) | \(note) |") }
    }
}
