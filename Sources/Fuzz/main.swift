import ArgumentParser
import Foundation

/// `azr-fuzz`: seeded mutation fuzzing of every parser that reads model output or files. Each target runs in a
/// child process of its own (so one crash neither hides the others nor takes them down) under an address-space
/// limit and a hang watchdog. `make test` runs it briefly, `make fuzz` for longer.
struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "azr-fuzz",
        abstract: "Mutation-fuzz AZR Gym's parsers: typed errors only, no crash, no hang, no unbounded allocation.",
        discussion: "Run from the checkout's root (the seeds include its example buffers, configs and policies). Exit status: 0 when every target held, 1 when one failed (its input is saved in --output-folder), 2 on a usage error.")

    @Argument(help: "Targets to fuzz (default: all). Self-tests that must fail: selftest-crash, selftest-hang, selftest-memory, selftest-oracle.")
    var targets: [String] = []
    @Option(help: "Seconds per target.") var seconds = 10.0
    @Option(help: "Seed of the mutations (the same seed gives the same inputs).") var seed: UInt64 = 1
    @Option(help: "Seconds one input may run before it counts as a hang.") var hangSeconds = 10.0
    @Option(help: "Address-space limit of each target's process, in MiB.") var memoryMb: UInt64 = 4096
    @Option(help: "Where failing inputs are saved.") var outputFolder = "."
    @Option(help: "Also write the results as JSON to this file.") var output: String?
    @Flag(help: "List the targets.") var list = false
    @Option(help: "Run the one target given on this saved input, unguarded, so a crash shows where it happened.") var replay: String?
    @Option(help: .hidden) var worker: String?

    func run() throws {
        if let worker { return try FuzzWorker(seconds: seconds, seed: seed).run(name: worker, hangSeconds: hangSeconds,
                                                                                  memoryBytes: memoryMb << 20, outputFolder: outputFolder) }
        let scratch = try Scratch()
        let known = Targets.all(scratch: scratch)
        if let replay {
            guard targets.count == 1, let target = (known + Targets.selfTests()).first(where: { $0.name == targets[0] }) else {
                throw ValidationError("--replay needs exactly one target")
            }
            guard let input = FileManager.default.contents(atPath: replay) else { throw ValidationError("cannot read \(replay)") }
            do { print(try target.run(Array(input)) ? "accepted" : "refused") } catch { print("refused: \(error)") }
            return
        }
        if list {
            for target in known { print("\(target.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(target.summary)") }
            return
        }
        let names = targets.isEmpty ? known.map(\.name) : targets
        let allNames = known.map(\.name) + Targets.selfTests().map(\.name)
        for name in names where !allNames.contains(name) { throw ValidationError("\(FuzzError.unknownTarget(name, allNames))") }
        var results: [FuzzResult] = []
        for name in names {
            let result = try FuzzResult.ofChild(target: name, arguments: ["--worker", name, "--seconds", "\(seconds)", "--seed", "\(seed)",
                                                                          "--hang-seconds", "\(hangSeconds)", "--memory-mb", "\(memoryMb)",
                                                                          "--output-folder", outputFolder])
            FileHandle.standardError.write(Data("\(result.line)\n".utf8))
            results.append(result)
        }
        print(FuzzResult.markdown(results, seconds: seconds, seed: seed), terminator: "")
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let url = URL(fileURLWithPath: output)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoder.encode(FuzzReport(seconds_per_target: seconds, seed: seed, targets: results)).write(to: url, options: .atomic)
        }
        if results.contains(where: { $0.failure != nil }) { throw ExitCode(1) }
    }
}

Fuzz.main()
