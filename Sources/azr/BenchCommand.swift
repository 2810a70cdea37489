import ArgumentParser
import Foundation
import Gym
import Sandbox
import Tasks

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Throughput benchmarks (the sandbox's own is `azr sandbox bench`).",
        subcommands: [TasksBench.self])
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
