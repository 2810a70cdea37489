import Foundation

/// What one target's run did: inputs tried, inputs the parser accepted, and the failure if it had one.
struct FuzzResult: Codable {
    var target: String
    var summary: String
    var inputs: Int
    var accepted: Int
    var seeds: Int
    var corpus: Int
    var seconds: Double
    /// crash, hang, oracle or error, with the child's message; nil when the target held.
    var failure: String?
    /// Seeds the parser refused (a seed set that the parser refuses explores little).
    var seedRefusals: [String] = []

    enum CodingKeys: String, CodingKey {
        case target, summary, inputs, accepted, seeds, corpus, seconds, failure
        case seedRefusals = "seed_refusals"
    }

    var line: String {
        if let failure { return "\(target): FAILED — \(failure)" }
        let refused = seedRefusals.isEmpty ? "" : "; refused seeds: " + seedRefusals.joined(separator: "; ")
        return "\(target): \(inputs) inputs in \(String(format: "%.1f", seconds)) s, \(accepted) accepted, no failure" + refused
    }

    /// Runs the worker child for `target` and reads its result, or names how it failed.
    static func ofChild(target: String, arguments: [String]) throws -> FuzzResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.resolvingSymlinksInPath()
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path), let path = Bundle.main.executablePath {
            process.executableURL = URL(fileURLWithPath: path)
        }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        // The child's messages go to a file, so however much a crash prints it never blocks on a full pipe.
        let errorsURL = FileManager.default.temporaryDirectory.appendingPathComponent("azr-fuzz-\(getpid())-\(target).stderr")
        _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorsURL) }
        process.standardError = try FileHandle(forWritingTo: errorsURL)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let message = String(decoding: (try? Data(contentsOf: errorsURL)) ?? Data(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if process.terminationReason == .exit, process.terminationStatus == 0,
           let result = try? JSONDecoder().decode(FuzzResult.self, from: data) {
            return result
        }
        let kind: String
        switch (process.terminationReason, process.terminationStatus) {
        case (.exit, CrashGuard.crashStatus): kind = "crash"
        case (.exit, CrashGuard.hangStatus): kind = "hang"
        case (.exit, FuzzWorker.oracleStatus): kind = "oracle"
        case (.uncaughtSignal, let signal): kind = "crash (signal \(signal))"
        default: kind = "error"
        }
        return FuzzResult(target: target, summary: "", inputs: 0, accepted: 0, seeds: 0, corpus: 0, seconds: 0,
                          failure: "\(kind): \(message.isEmpty ? "no message" : message)", seedRefusals: [])
    }

    static func markdown(_ results: [FuzzResult], seconds: Double, seed: UInt64) -> String {
        var text = "azr-fuzz, seed \(seed), \(seconds) s per target\n\n| target | parser | inputs | accepted | inputs/s | result |\n|---|---|---:|---:|---:|---|\n"
        for result in results {
            let rate = result.seconds > 0 ? String(format: "%.0f", Double(result.inputs) / result.seconds) : "–"
            text += "| \(result.target) | \(result.summary) | \(result.inputs) | \(result.accepted) | \(rate) | \(result.failure ?? "held") |\n"
        }
        return text
    }
}

/// `--output`'s file.
struct FuzzReport: Codable {
    var seconds_per_target: Double
    var seed: UInt64
    var targets: [FuzzResult]
}
