import Foundation
import Sandbox
import Tasks

/// Solve rates of a policy on fixed tasks, judged exactly as in self-play (the environment's own solver prompt
/// and check): CRUXEval's output prediction is deduction, its input prediction abduction, and a saved buffer
/// is a held-out set of self-generated tasks.
public struct SolverEvaluation {
    public let registry: EnvironmentRegistry
    public let runner: ProgramRunner
    public var format: AnswerFormat.Mode
    public var temperature: Double
    /// Answers per task; the solve rate counts each.
    public var samples: Int

    public init(registry: EnvironmentRegistry, runner: ProgramRunner, format: AnswerFormat.Mode = .strict,
                temperature: Double = 0, samples: Int = 1) {
        self.registry = registry
        self.runner = runner
        self.format = format
        self.temperature = temperature
        self.samples = samples
    }

    /// One task's verdicts.
    public struct TaskResult: Codable, Sendable {
        public var id: String
        public var type: String
        public var samples: Int
        public var correct: Int
        public var malformed: Int
        public var first_answer: String
    }

    public struct Summary: Codable, Sendable {
        public var results: [TaskResult]
        /// Correct answers / answers, per task type.
        public var solveRate: [String: Double]
        public var tasks: [String: Int]

        enum CodingKeys: String, CodingKey {
            case results, tasks
            case solveRate = "solve_rate"
        }
    }

    public func run(policy: Policy, tasks: [Triple]) throws -> Summary {
        let usable = tasks.filter { registry[$0.type] != nil }
        var requests: [PolicyRequest] = []
        var owners: [Int] = []
        for (index, triple) in usable.enumerated() {
            for _ in 0..<samples {
                requests.append(PolicyRequest(prompt: registry[triple.type]!.solverPrompt(for: triple), role: .solve,
                                              taskType: triple.type, temperature: temperature, scoringOnly: true))
                owners.append(index)
            }
        }
        let completions = try policy.complete(requests)
        let context = TaskContext(runner: runner, step: 0, format: format)
        let outcomes = concurrentMap(requests.indices) { index in
            self.registry[requests[index].taskType]!.check(completion: completions[index], for: usable[owners[index]], context: context)
        }
        var results = usable.map { TaskResult(id: $0.id, type: $0.type, samples: 0, correct: 0, malformed: 0, first_answer: "") }
        for (index, owner) in owners.enumerated() {
            if results[owner].samples == 0 { results[owner].first_answer = String(completions[index].prefix(2000)) }
            results[owner].samples += 1
            if outcomes[index].isCorrect { results[owner].correct += 1 }
            if case .malformed = outcomes[index] { results[owner].malformed += 1 }
        }
        var totals: [String: (Int, Int)] = [:]
        for result in results {
            totals[result.type, default: (0, 0)].0 += result.correct
            totals[result.type, default: (0, 0)].1 += result.samples
        }
        return Summary(results: results, solveRate: totals.mapValues { Double($0.0) / Double(max($0.1, 1)) },
                       tasks: Dictionary(grouping: results, by: \.type).mapValues(\.count))
    }
}
