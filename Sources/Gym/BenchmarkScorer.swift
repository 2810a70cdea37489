import Foundation
import Sandbox

/// Scores solutions the evalplus way: expected outputs come from running the canonical solution on every
/// input; a candidate passes an input when its output matches (floats within `atol`) inside
/// max(1 s, 4 × the canonical time). Inputs run in chunks, many calls per sandbox job; everything is compared
/// outside the sandbox. Plain HumanEval problems run their `check(candidate)` test instead (base only).
public final class BenchmarkScorer {
    public let pool: ZygotePool
    /// Calls per sandbox job.
    public var chunkSize = 100
    /// Marks an expected output that is an opaque repr rather than a literal.
    static let opaqueMark = "\u{1}opaque:"

    public init(pool: ZygotePool) { self.pool = pool }

    /// The canonical solution's outputs and each input's time limit.
    public struct Oracle: Sendable {
        public var base: [(output: String, limit: Double)]
        public var plus: [(output: String, limit: Double)]
    }

    public struct Verdict: Sendable, Codable {
        public var taskID: String
        public var base: Bool
        /// nil for problems without plus inputs.
        public var plus: Bool?
        /// The first failure, for the per-problem results file.
        public var detail: String?

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id", base, plus, detail
        }
    }

    public func oracle(for problem: BenchmarkProblem) -> Result<Oracle, BenchmarkError> {
        let program = problem.prompt + problem.canonicalSolution
        func run(_ inputs: [[PythonValue]]) -> Result<[(String, Double)], BenchmarkError> {
            var outputs: [(String, Double)] = []
            for chunk in chunks(inputs) {
                switch calls(program, entryPoint: problem.entryPoint, chunk: chunk, timeout: { _ in 60_000 }) {
                case let .failure(failure):
                    return .failure(.unreadable(problem.taskID, "canonical solution: \(failure.why)"))
                case let .success(results):
                    for call in results {
                        switch call {
                        case let .value(literal, seconds): outputs.append((literal, max(1, 4 * seconds)))
                        case let .opaque(repr, seconds): outputs.append((Self.opaqueMark + repr, max(1, 4 * seconds)))
                        default:
                            return .failure(.unreadable(problem.taskID, "canonical solution failed on an input: \(call)"))
                        }
                    }
                }
            }
            return .success(outputs)
        }
        return run(problem.baseInputs).flatMap { base in run(problem.plusInputs).map { Oracle(base: base, plus: $0) } }
    }

    /// Runs `chunk` as one job; when the answer is too large for the policy, halves the chunk and tries again.
    private func calls(_ program: String, entryPoint: String, chunk: ArraySlice<[PythonValue]>,
                       timeout: (ArraySlice<[PythonValue]>) -> Int) -> Result<[CallOutcome], ChunkFailure> {
        let result = pool.run(SandboxJob(program: program, arguments: Array(chunk), entryPoint: entryPoint,
                                         timeoutMilliseconds: timeout(chunk)))
        if result.status == .resultTooLarge, chunk.count > 1 {
            let middle = chunk.startIndex + chunk.count / 2
            return calls(program, entryPoint: entryPoint, chunk: chunk[..<middle], timeout: timeout).flatMap { first in
                calls(program, entryPoint: entryPoint, chunk: chunk[middle...], timeout: timeout).map { first + $0 }
            }
        }
        guard result.completed else { return .failure(ChunkFailure(why: result.summary)) }
        return .success(result.calls)
    }

    public func score(_ program: String, problem: BenchmarkProblem, oracle: Oracle?) -> Verdict {
        if let test = problem.test {
            let result = pool.run(SandboxJob(program: program, entryPoint: problem.entryPoint,
                                             testScript: test + "\ncheck(\(problem.entryPoint))\n", timeoutMilliseconds: 30_000))
            return Verdict(taskID: problem.taskID, base: result.completed, plus: nil, detail: result.completed ? nil : result.summary)
        }
        guard let oracle else { return Verdict(taskID: problem.taskID, base: false, plus: false, detail: "no oracle") }
        if let failure = firstFailure(program, problem: problem, inputs: problem.baseInputs, expected: oracle.base) {
            return Verdict(taskID: problem.taskID, base: false, plus: false, detail: failure)
        }
        let plusFailure = firstFailure(program, problem: problem, inputs: problem.plusInputs, expected: oracle.plus)
        return Verdict(taskID: problem.taskID, base: true, plus: plusFailure == nil, detail: plusFailure)
    }

    private func chunks(_ inputs: [[PythonValue]]) -> [ArraySlice<[PythonValue]>] {
        stride(from: 0, to: inputs.count, by: chunkSize).map { inputs[$0..<min($0 + chunkSize, inputs.count)] }
    }

    private func firstFailure(_ program: String, problem: BenchmarkProblem, inputs: [[PythonValue]],
                              expected: [(output: String, limit: Double)]) -> String? {
        var offset = 0
        for chunk in chunks(inputs) {
            let start = offset
            let budget: (ArraySlice<[PythonValue]>) -> Int = { part in
                let from = start + (part.startIndex - chunk.startIndex)
                return Int(expected[from..<from + part.count].reduce(0) { $0 + $1.limit } * 1000) + 1000
            }
            let outcomes: [CallOutcome]
            switch calls(program, entryPoint: problem.entryPoint, chunk: chunk, timeout: budget) {
            case let .failure(failure): return "inputs \(offset)–\(offset + chunk.count - 1): \(failure.why)"
            case let .success(results): outcomes = results
            }
            for (index, call) in outcomes.enumerated() {
                let want = expected[offset + index]
                let arguments = chunk[chunk.startIndex + index]
                switch call {
                case let .value(literal, seconds):
                    if seconds > want.limit { return "input \(offset + index): took \(seconds) s, limit \(want.limit) s" }
                    guard Self.matches(literal, want.output, problem: problem, arguments: arguments) else {
                        return "input \(offset + index): got \(literal.prefix(80)), expected \(want.output.prefix(80))"
                    }
                case let .opaque(repr, seconds):
                    if seconds > want.limit { return "input \(offset + index): took \(seconds) s, limit \(want.limit) s" }
                    // Objects that are not literals (re.Match) compare by their repr, as text.
                    guard want.output == Self.opaqueMark + repr else {
                        return "input \(offset + index): got \(repr.prefix(80)), expected \(want.output.prefix(80))"
                    }
                default:
                    return "input \(offset + index): \(call)"
                }
            }
            offset += chunk.count
        }
        return nil
    }

    /// evalplus's comparison: equal as Python values, or all numbers close (atol, 1e-6 for float results
    /// when the problem gives none; rtol 1e-7). HumanEval/32 (find_zero) accepts any root.
    static func matches(_ got: String, _ want: String, problem: BenchmarkProblem, arguments: [PythonValue]) -> Bool {
        guard let a = try? outputParser.parse(got), let b = try? outputParser.parse(want) else { return false }
        if a == b { return true }
        if problem.taskID == "HumanEval/32", case let .list(coefficients)? = arguments.first, let x = a.number?.double {
            var value = 0.0, power = 1.0
            for coefficient in coefficients {
                value += (coefficient.number?.double ?? .nan) * power
                power *= x
            }
            return abs(value) <= max(problem.atol, 1e-6)
        }
        var atol = problem.atol
        if atol == 0, b.containsFloat { atol = 1e-6 }
        return atol > 0 && a.isClose(to: b, atol: atol)
    }
}

/// Benchmark outputs can be lists of millions of elements (HumanEval/100, /130).
private let outputParser = PythonLiteralParser(maxDepth: 200, maxNodes: 50_000_000)

struct ChunkFailure: Error {
    let why: String
}

extension PythonNumber {
    var double: Double? {
        switch self {
        case let .integer(value): return Double(value)
        case let .real(value): return value
        case .complex: return nil
        }
    }
}

extension PythonValue {
    var containsFloat: Bool {
        switch self {
        case .float: return true
        case let .list(items), let .tuple(items): return items.contains { $0.containsFloat }
        default: return false
        }
    }

    /// numpy.allclose over nested lists and tuples of numbers; anything else must be equal.
    func isClose(to other: PythonValue, atol: Double, rtol: Double = 1e-7) -> Bool {
        if let x = number?.double, let y = other.number?.double {
            if x.isNaN || y.isNaN { return x.isNaN && y.isNaN }
            return abs(x - y) <= atol + rtol * abs(y)
        }
        switch (self, other) {
        case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isClose(to: $1, atol: atol, rtol: rtol) }
        default:
            return self == other
        }
    }
}
