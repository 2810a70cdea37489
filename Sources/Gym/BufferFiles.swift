import Foundation
import Sandbox
import Tasks

/// Finding, reading and writing buffer files for the `azr buffer` commands.
public enum BufferFiles {
    /// The `.jsonl` files a path names: the file itself, or every `*.jsonl` in a folder (a run's buffers).
    public static func files(at path: String) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BufferError.cannotOpen(path, "no such file or folder")
        }
        guard isDirectory.boolValue else { return [URL(fileURLWithPath: path)] }
        let folder = URL(fileURLWithPath: path)
        let candidates = [folder, folder.appendingPathComponent("buffers")]
        for candidate in candidates {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: candidate.path)) ?? []
            let found = names.filter { $0.hasSuffix(".jsonl") }.sorted().map { candidate.appendingPathComponent($0) }
            if !found.isEmpty { return found }
        }
        throw BufferError.cannotOpen(path, "no .jsonl buffer files in it")
    }

    /// Opens the buffer in `url`, named after the file.
    public static func open(_ url: URL) throws -> TaskBuffer {
        try TaskBuffer(name: url.deletingPathExtension().lastPathComponent, url: url)
    }

    /// The text of a file, decompressing `.gz` with the system's gzip.
    public static func text(of path: String) throws -> String {
        guard path.hasSuffix(".gz") else { return try String(contentsOfFile: path, encoding: .utf8) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BufferError.cannotOpen(path, "gzip could not read it") }
        return String(decoding: data, as: UTF8.self)
    }

    /// CRUXEval's two directions as task types, in the order they are read: output prediction (deduction), then
    /// input prediction (abduction).
    public static let cruxevalTypes = ["deduction", "abduction"]

    /// CRUXEval's first `limit` problems (all when nil) once per type of `types` (by default both directions).
    public static func cruxeval(from path: String, limit: Int?, types: [String] = cruxevalTypes) throws -> [Triple] {
        try types.flatMap { type -> [Triple] in
            let triples = try importable(from: path, type: type).triples
            return Array(triples.prefix(limit ?? triples.count))
        }
    }

    /// Triples from JSON Lines: our own buffer lines, or CRUXEval rows (`code`, `input`, `output`), which become
    /// triples of `type`.
    public static func importable(from path: String, type: String) throws -> (triples: [Triple], problems: [BufferProblem]) {
        var triples: [Triple] = []
        var problems: [BufferProblem] = []
        for (index, line) in try text(of: path).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                problems.append(BufferProblem(line: index + 1, reason: "not a valid JSON object"))
                continue
            }
            if let code = object["code"] as? String, let input = object["input"] as? String, let output = object["output"] as? String {
                // The output is compared outside the sandbox, so it must be a literal. The input is call-argument
                // source, as in CRUXEval's reference (`f(<input>)`): a literal, or an expression such as
                // `''.join(['A'] * 20)` that only the sandbox evaluates when the program runs.
                guard (try? PythonValue(literal: output)) != nil else {
                    problems.append(BufferProblem(line: index + 1, reason: "the output is not a Python literal"))
                    continue
                }
                triples.append(Triple(type: type, program: code, input: input, output: output,
                                      source: "import:\(object["id"] as? String ?? "")"))
            } else if let triple = try? JSONDecoder().decode(Triple.self, from: Data(line.utf8)), TaskBuffer.problem(with: triple) == nil {
                triples.append(triple)
            } else {
                problems.append(BufferProblem(line: index + 1, reason: "neither a triple nor a CRUXEval row"))
            }
        }
        return (triples, problems)
    }
}

/// `azr buffer export`: one flat JSON object per line, every key on every line (null where a task type has no
/// such field), so pandas.read_json(lines=True) and Hugging Face datasets load it with one schema.
public enum BufferExport {
    public static let columns = ["id", "type", "program", "input", "output", "inputs", "outputs", "message", "imports",
                                 "step", "source", "created", "validation_seconds"]

    public static func jsonLines(_ triples: [Triple]) throws -> Data {
        var data = Data()
        for triple in triples {
            let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(triple)) as! [String: Any]
            var row: [String: Any] = [:]
            for column in columns { row[column] = encoded[column] ?? NSNull() }
            data += try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes])
            data.append(0x0a)
        }
        return data
    }
}
