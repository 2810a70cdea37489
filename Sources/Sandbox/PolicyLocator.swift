import Foundation

/// Finds policy files by name: `--policy strict` looks for `strict.json` in `$AZR_POLICY_DIR`, in
/// `./sandbox-policies`, and in `sandbox-policies` beside or above the running executable (so a checkout's
/// `.build/debug/azr` finds the repository's folder). A name with a `/` or ending in `.json` is a path.
public enum PolicyLocator {
    public static func load(_ nameOrPath: String) throws -> SandboxPolicy {
        let url = try locate(nameOrPath)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SandboxError.invalidPolicy(file: url.path, field: "(file)", reason: "cannot be read")
        }
        return try SandboxPolicy(json: data, file: url.lastPathComponent)
    }

    public static func locate(_ nameOrPath: String) throws -> URL {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") {
            let url = URL(fileURLWithPath: nameOrPath)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw SandboxError.policyNotFound(name: nameOrPath, searched: [url.path])
            }
            return url
        }
        let folders = searchFolders()
        for folder in folders {
            let candidate = folder.appendingPathComponent("\(nameOrPath).json")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
        throw SandboxError.policyNotFound(name: nameOrPath, searched: folders.map(\.path))
    }

    static func searchFolders() -> [URL] {
        ExecutableLocation.dataFolders(named: "sandbox-policies", override: "AZR_POLICY_DIR")
    }
}

/// Where the running executable (the CLI or the test runner) lives; the zygote, policies and presets are found
/// from it.
public enum ExecutableLocation {
    public static var directory: URL {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent()
    }

    /// Where a data folder of the checkout (`sandbox-policies`, `presets`) is looked for, in order: the folder
    /// named by the environment variable `override`, `./NAME`, and `NAME` beside or up to five levels above the
    /// executable (so `.build/release/azr` and the test runner find the repository's).
    public static func dataFolders(named name: String, override: String) -> [URL] {
        var folders: [URL] = []
        if let dir = ProcessInfo.processInfo.environment[override], !dir.isEmpty {
            folders.append(URL(fileURLWithPath: dir))
        }
        folders.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(name))
        var directory = ExecutableLocation.directory
        for _ in 0..<6 {
            folders.append(directory.appendingPathComponent(name))
            directory.deleteLastPathComponent()
        }
        return folders
    }
}
