import Foundation

/// Scores many samples over a benchmark, concurrently across problems, and summarises pass@k.
public struct BenchmarkEvaluation {
    public let scorer: BenchmarkScorer

    public init(scorer: BenchmarkScorer) { self.scorer = scorer }

    public struct ProblemResult: Codable, Sendable {
        public var task_id: String
        public var samples: Int
        public var base_correct: Int
        public var plus_correct: Int?
        public var verdicts: [BenchmarkScorer.Verdict]
    }

    public struct Summary: Sendable {
        public var problems: [ProblemResult]
        public var totalProblems: Int

        public var hasPlus: Bool { problems.contains { $0.plus_correct != nil } }

        public init(problems: [ProblemResult], totalProblems: Int) {
            self.problems = problems
            self.totalProblems = totalProblems
        }

        public func passAt(_ k: Int, plus: Bool) -> Double? {
            let eligible = problems.filter { $0.samples >= k }
            guard !eligible.isEmpty else { return nil }
            let values = eligible.map { passAtK(samples: $0.samples, correct: plus ? ($0.plus_correct ?? 0) : $0.base_correct, k: k) }
            return values.reduce(0, +) / Double(values.count)
        }

        public var ks: [Int] {
            let most = problems.map(\.samples).min() ?? 1
            return [1, 5, 10, 100].filter { $0 <= most }
        }

        public func report(benchmark: String, seconds: Double) -> Report {
            var pass: [String: [String: Double]] = [:]
            for k in ks {
                var entry = ["base": passAt(k, plus: false) ?? 0]
                if hasPlus { entry["plus"] = passAt(k, plus: true) ?? 0 }
                pass["pass@\(k)"] = entry
            }
            return Report(benchmark: benchmark, problems: totalProblems, scored: problems.count,
                          samples: problems.map(\.samples).reduce(0, +), pass: pass, seconds: seconds)
        }

        public func text(benchmark: String, seconds: Double) -> String {
            var lines = ["\(benchmark): \(problems.count) of \(totalProblems) problems scored, \(problems.map(\.samples).reduce(0, +)) samples, \(String(format: "%.1f", seconds)) s"]
            for k in ks {
                var line = String(format: "pass@%d  base %.1f%%", k, 100 * (passAt(k, plus: false) ?? 0))
                if hasPlus { line += String(format: "  plus %.1f%%", 100 * (passAt(k, plus: true) ?? 0)) }
                lines.append(line)
            }
            return lines.joined(separator: "\n")
        }

        public func resultsJSONLines() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var data = Data()
            for problem in problems {
                data += try encoder.encode(problem)
                data.append(0x0a)
            }
            return data
        }
    }

    /// `{"benchmark", "problems", "scored", "samples", "pass@1": {"base", "plus"}, ..., "seconds"}`.
    public struct Report: Encodable {
        public var benchmark: String
        public var problems: Int
        public var scored: Int
        public var samples: Int
        public var pass: [String: [String: Double]]
        public var seconds: Double

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ string: String) { stringValue = string }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(benchmark, forKey: Key("benchmark"))
            try container.encode(problems, forKey: Key("problems"))
            try container.encode(scored, forKey: Key("scored"))
            try container.encode(samples, forKey: Key("samples"))
            try container.encode(seconds, forKey: Key("seconds"))
            for (key, value) in pass { try container.encode(value, forKey: Key(key)) }
        }
    }

    public func run(problems: [BenchmarkProblem], samples: [BenchmarkSample],
                    progress: (Int, Int) -> Void = { _, _ in }) -> Summary {
        let byTask = Dictionary(grouping: samples, by: \.taskID)
        let scored = problems.filter { byTask[$0.taskID] != nil }
        let lock = NSLock()
        var done = 0
        var results = [ProblemResult?](repeating: nil, count: scored.count)
        progress(0, scored.count)
        DispatchQueue.concurrentPerform(iterations: scored.count) { index in
            let problem = scored[index]
            let programs = byTask[problem.taskID]!.map(\.program)
            var verdicts: [BenchmarkScorer.Verdict]
            if problem.hasPlus {
                switch scorer.oracle(for: problem) {
                case let .failure(error):
                    verdicts = programs.map { _ in BenchmarkScorer.Verdict(taskID: problem.taskID, base: false, plus: false, detail: "\(error)") }
                case let .success(oracle):
                    verdicts = programs.map { scorer.score($0, problem: problem, oracle: oracle) }
                }
            } else {
                verdicts = programs.map { scorer.score($0, problem: problem, oracle: nil) }
            }
            let result = ProblemResult(task_id: problem.taskID, samples: verdicts.count, base_correct: verdicts.filter(\.base).count,
                                       plus_correct: problem.hasPlus ? verdicts.filter { $0.plus == true }.count : nil, verdicts: verdicts)
            lock.lock()
            results[index] = result
            done += 1
            progress(done, scored.count)
            lock.unlock()
        }
        return Summary(problems: results.map { $0! }, totalProblems: problems.count)
    }
}
