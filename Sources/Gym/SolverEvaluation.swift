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

    /// One task's verdicts. `correct` and `malformed` count under the evaluation's own reading; `strict_correct`
    /// and `lenient_correct` read every answer both ways, so format learning and reasoning gains can be told apart.
    public struct TaskResult: Codable, Sendable {
        public var id: String
        public var type: String
        public var samples: Int
        public var correct: Int
        public var malformed: Int
        public var strict_correct: Int
        public var lenient_correct: Int
        public var first_answer: String
    }

    public struct Summary: Codable, Sendable {
        public var results: [TaskResult]
        /// Correct answers / answers, per task type, under the evaluation's reading, strictly and leniently.
        public var solveRate: [String: Double]
        public var strictSolveRate: [String: Double]
        public var lenientSolveRate: [String: Double]
        public var tasks: [String: Int]

        enum CodingKeys: String, CodingKey {
            case results, tasks
            case solveRate = "solve_rate", strictSolveRate = "strict_solve_rate", lenientSolveRate = "lenient_solve_rate"
        }
    }

    public func run(policy: Policy, tasks: [Triple]) throws -> Summary {
        let usable = tasks.filter { registry[$0.type] != nil }
        var requests: [PolicyRequest] = []
        var owners: [Int] = []
        for (index, triple) in usable.enumerated() {
            for _ in 0..<samples {
                let environment = registry[triple.type]!
                requests.append(PolicyRequest(prompt: environment.solverPrompt(for: triple), role: .solve,
                                              taskType: triple.type, temperature: temperature, scoringOnly: true,
                                              stop: environment.solverStop))
                owners.append(index)
            }
        }
        let completions = try policy.complete(requests)
        let strict = TaskContext(runner: runner, step: 0, format: .strict)
        let lenient = TaskContext(runner: runner, step: 0, format: .lenient)
        let outcomes = concurrentMap(requests.indices) { index -> (SolveOutcome, SolveOutcome) in
            let environment = self.registry[requests[index].taskType]!
            let strictOutcome = environment.check(completion: completions[index], for: usable[owners[index]], context: strict)
            // Lenient reading accepts everything strict reading does, so a strict success is not run again.
            let lenientOutcome = strictOutcome.isCorrect ? strictOutcome
                : environment.check(completion: completions[index], for: usable[owners[index]], context: lenient)
            return (strictOutcome, lenientOutcome)
        }
        var results = usable.map { TaskResult(id: $0.id, type: $0.type, samples: 0, correct: 0, malformed: 0, strict_correct: 0,
                                              lenient_correct: 0, first_answer: "") }
        for (index, owner) in owners.enumerated() {
            if results[owner].samples == 0 { results[owner].first_answer = String(completions[index].prefix(2000)) }
            let (strictOutcome, lenientOutcome) = outcomes[index]
            let own = format == .strict ? strictOutcome : lenientOutcome
            results[owner].samples += 1
            if own.isCorrect { results[owner].correct += 1 }
            if case .malformed = own { results[owner].malformed += 1 }
            if strictOutcome.isCorrect { results[owner].strict_correct += 1 }
            if lenientOutcome.isCorrect { results[owner].lenient_correct += 1 }
        }
        func rates(_ count: (TaskResult) -> Int) -> [String: Double] {
            Dictionary(grouping: results, by: \.type).mapValues { group in
                Double(group.map(count).reduce(0, +)) / Double(max(group.map(\.samples).reduce(0, +), 1))
            }
        }
        return Summary(results: results, solveRate: rates(\.correct), strictSolveRate: rates(\.strict_correct),
                       lenientSolveRate: rates(\.lenient_correct), tasks: Dictionary(grouping: results, by: \.type).mapValues(\.count))
    }
}
