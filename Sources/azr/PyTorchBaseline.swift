import Foundation

/// The PyTorch peer of `azr bench trainer`, measured in the same run by Benchmarks/pytorch_baseline.py when
/// `python3` can import torch (torch is not a dependency; PYTHONPATH is passed through).
struct PyTorchBaseline: Codable {
    var torch_version: String
    var threads: Int
    var train_tokens_per_s: Double
    var decode_tokens_per_s_batch32: Double
    var group_decode_tokens_per_s: Double

    /// The script, looked for in the working directory, then in the folders above the executable (the checkout
    /// that built it: .build/<triple>/release/azr).
    static func script() -> String? {
        var folders = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            folder = folder.deletingLastPathComponent()
            folders.append(folder)
        }
        return folders.map { $0.appendingPathComponent("Benchmarks/pytorch_baseline.py").path }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    static func torchAvailable() -> Bool {
        (try? run(["-c", "import torch"], quiet: true).status) == 0
    }

    /// Runs the baseline on the same model file and thread count; nil with the reason when it cannot.
    static func measure(model: String, threads: Int, sequences: Int, length: Int) -> (PyTorchBaseline?, String?) {
        guard let script = script() else { return (nil, "Benchmarks/pytorch_baseline.py not found") }
        guard torchAvailable() else { return (nil, "python3 cannot import torch") }
        do {
            let (status, output) = try run([script, model, "\(threads)", "--sequences", "\(sequences)", "--length", "\(length)"])
            guard status == 0, let line = output.split(separator: "\n").last else { return (nil, "the baseline exited with \(status)") }
            return (try JSONDecoder().decode(PyTorchBaseline.self, from: Data(line.utf8)), nil)
        } catch {
            return (nil, "the baseline failed: \(error)")
        }
    }

    /// Runs python3; its stderr goes to ours (or nowhere when `quiet`), so a failing baseline explains itself.
    private static func run(_ arguments: [String], quiet: Bool = false) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = quiet ? FileHandle.nullDevice : FileHandle.standardError
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
