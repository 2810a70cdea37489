import Foundation
import Sandbox
import Tasks
import Trainer

/// LSP's settings (arXiv 2509.07414; DESIGN.md): N queries per task type, G answers per query, the
/// challenger's loss weight α_Ch, the self-reward's weight, and how answers are rewarded.
public struct LSPSettings: Sendable, Equatable {
    /// N: challenger queries per task type and step.
    public var queriesPerType = 2
    /// G: solver answers per valid query; their mean reward is the query's value V(q).
    public var answersPerQuery = 4
    /// α_Ch in L = L_solver + α_Ch · L_challenger.
    public var challengerWeight = 1.0
    /// Weight of the self-reward R_Q (the judge's 0–7 score divided by 7); 0 is LSP-Zero.
    public var selfRewardWeight = 1.0
    public var judgeTemperature = 0.6
    /// The solver's reward R: 1 for a correct answer and 0 otherwise (`binary`, the [0, 1] reward of the paper's
    /// verifier setting), or AZR's format-aware 1 / −0.5 / −1 (`format_aware`).
    public var solverReward = SolverReward.binary
    public var temperature = 1.0
    public var rewards = RewardSettings()
    public var answerFormat = AnswerFormat.Mode.lenient

    public enum SolverReward: String, Codable, Sendable, CaseIterable {
        case binary
        case formatAware = "format_aware"
    }

    public init() {}

    /// R for one judged answer.
    public func reward(_ outcome: SolveOutcome) -> Double {
        switch solverReward {
        case .binary: return outcome.isCorrect ? 1 : 0
        case .formatAware: return rewards.solver(outcome)
        }
    }
}

/// Language Self-Play in the code domain. One model, two prompts: as challenger it writes a query — a task of a
/// registered type (program + input), validated in the sandbox like an AZR proposal; as solver it answers each
/// valid query G times, judged in the sandbox. With V(q) the mean reward of a query's answers and V̄ the batch
/// mean: solver advantage R − V(q), challenger advantage V̄ − V(q), both as group means
/// (`GroupMeanAdvantages`: each query's answers one group, the batch's queries another); the challenger's
/// loss is weighted by α_Ch, and the KL anchor is the trainer's (`kl_coefficient`). With a self-reward weight
/// w > 0 the same model judges every answer (`LSPJudge`): solver reward R + w·R_Q, challenger reward
/// −V(q) + w·V_Q(q). An invalid query gets AZR's format-aware penalty (−1 unreadable, −0.5 well formed but
/// invalid) in the challenger's group, so with every query valid the challenger's advantage is exactly
/// V̄ − V(q). Valid queries go to the task buffers, which the challenger's prompts draw references from.
public final class LSPGame: Game {
    public let play: SelfPlay
    public var settings: LSPSettings
    public let advantages: any AdvantageEstimator = GroupMeanAdvantages()
    /// The next step's number.
    public private(set) var stepNumber: Int
    public var onPhase: ((String) -> Void)?

    /// The baseline group of the batch's queries.
    static let challengerGroup = "challenge"

    public init(play: SelfPlay, settings: LSPSettings, step: Int) {
        self.play = play
        self.settings = settings
        stepNumber = step
    }

    public var generator: SeededGenerator {
        get { play.generator }
        set { play.generator = newValue }
    }

    public var buffers: [String: TaskBuffer] { play.buffers }

    /// LSP starts from nothing: no seeding round before step 0.
    public func prepare(policy: Policy) throws -> String? { nil }

    /// One query's bookkeeping within a step.
    struct Query {
        var index: Int
        var triple: Triple
        var answers: [Int] = []
    }

    public func step(policy: Policy) throws -> GameStep {
        let step = stepNumber
        let runner = play.runner
        let context = TaskContext(runner: runner, step: step, format: settings.answerFormat)
        let jobsBefore = runner.pool.jobCount
        var clock = StepClock()
        let registry = play.registry

        // Challenge: N queries per task type, validated like proposals.
        onPhase?("challenging")
        let (queryRequests, references) = play.proposalRequests(for: registry.names.map { ($0, settings.queriesPerType) },
                                                                scoringOnly: false, role: .challenge)
        let queryTraced = try policy.completeTraced(queryRequests)
        clock.lap("challenge")
        onPhase?("validating")
        let outcomes = clock.inSandbox { play.validate(queryRequests, queryTraced.map(\.text), references, context: context) }
        clock.lap("validate")

        var metrics: GameMetrics = [:]
        var proposed: [String: Int] = [:], valid: [String: Int] = [:], added: [String: Int] = [:]
        var invalid: [String: [String: Int]] = [:]
        var queries: [Query] = []
        for (index, outcome) in outcomes.enumerated() {
            let type = queryRequests[index].taskType
            proposed[type, default: 0] += 1
            switch outcome {
            case let .valid(triple):
                valid[type, default: 0] += 1
                queries.append(Query(index: index, triple: triple))
                if try play.buffers[type]!.add(triple) { added[type, default: 0] += 1 }
            case let .invalid(why):
                invalid[type, default: [:]][why.reason.rawValue, default: 0] += 1
            }
        }

        // Solve: G answers per valid query, trained on.
        var answerRequests: [PolicyRequest] = []
        for (position, query) in queries.enumerated() {
            let environment = registry[query.triple.type]!
            for _ in 0..<settings.answersPerQuery {
                queries[position].answers.append(answerRequests.count)
                answerRequests.append(PolicyRequest(prompt: environment.solverPrompt(for: query.triple), role: .solve,
                                                    taskType: query.triple.type, temperature: settings.temperature,
                                                    stop: environment.solverStop))
            }
        }
        onPhase?("solving")
        let answerTraced = try policy.completeTraced(answerRequests)
        let answerOwner = queries.flatMap { query in query.answers.map { _ in query.triple } }
        let answerOutcomes = clock.inSandbox {
            concurrentMap(answerRequests.indices) { index -> SolveOutcome in
                registry[answerRequests[index].taskType]!.check(completion: answerTraced[index].text, for: answerOwner[index],
                                                                context: context)
            }
        }
        clock.lap("solve")

        // Judge: the self-reward R_Q of every answer (LSP; skipped for LSP-Zero).
        var quality = [Double](repeating: 0, count: answerRequests.count)
        var judgeFailures: [String: Int] = [:]
        var judgeOutputs = [String?](repeating: nil, count: answerRequests.count)
        if settings.selfRewardWeight > 0, !answerRequests.isEmpty {
            onPhase?("judging")
            let judgeRequests = answerRequests.indices.map { index in
                PolicyRequest(prompt: LSPJudge.prompt(task: RunReport.describe(answerOwner[index]),
                                                      response: answerTraced[index].text),
                              role: .judge, taskType: answerRequests[index].taskType, temperature: settings.judgeTemperature,
                              scoringOnly: true, stop: .scoreTag)
            }
            let verdicts = try policy.complete(judgeRequests)
            for (index, verdict) in verdicts.enumerated() {
                judgeOutputs[index] = verdict
                do {
                    quality[index] = Double(try LSPJudge.score(verdict)) / Double(LSPJudge.criteria.count)
                } catch let error as LSPJudge.OutputError {
                    judgeFailures[error.reason, default: 0] += 1
                }
            }
            clock.lap("judge")
        }

        // Rewards and records.
        let w = settings.selfRewardWeight
        var records: [TrainingRecord] = []
        var samples: [TrainingRun.SampleLine] = []
        var challengerReward = [Double?](repeating: nil, count: outcomes.count)
        var values: [String: [Double]] = [:], solved: [String: (Int, Int)] = [:]
        for query in queries {
            let externals = query.answers.map { settings.reward(answerOutcomes[$0]) }
            let value = externals.reduce(0, +) / Double(externals.count)
            let qualityValue = query.answers.map { quality[$0] }.reduce(0, +) / Double(query.answers.count)
            challengerReward[query.index] = -value + w * qualityValue
            values[query.triple.type, default: []].append(value)
            for (answer, external) in zip(query.answers, externals) {
                let reward = external + w * quality[answer]
                let request = answerRequests[answer]
                solved[request.taskType, default: (0, 0)].1 += 1
                if answerOutcomes[answer].isCorrect { solved[request.taskType, default: (0, 0)].0 += 1 }
                records.append(TrainingRecord(prompt: request.prompt, completion: answerTraced[answer].text, reward: reward,
                                              taskType: request.taskType, role: .solve, trace: answerTraced[answer].trace,
                                              baseline: "query.\(query.index)"))
                var line = TrainingRun.SampleLine(step: step, role: Role.solve.rawValue, task_type: request.taskType,
                                                  prompt: request.prompt, completion: answerTraced[answer].text, reward: reward,
                                                  task: query.triple)
                line.describe(answerOutcomes[answer])
                if let verdict = judgeOutputs[answer] {
                    line.detail = [line.detail, "judge: " + verdict].compactMap { $0 }.joined(separator: "\n")
                }
                samples.append(line)
            }
        }
        for (index, outcome) in outcomes.enumerated() {
            let request = queryRequests[index]
            let reward: Double
            switch outcome {
            case .valid: reward = challengerReward[index]!
            case let .invalid(why): reward = settings.rewards.proposer(invalid: why.reason)
            }
            records.append(TrainingRecord(prompt: request.prompt, completion: queryTraced[index].text, reward: reward,
                                          taskType: request.taskType, role: .challenge, trace: queryTraced[index].trace,
                                          baseline: Self.challengerGroup, weight: settings.challengerWeight))
            var line = TrainingRun.SampleLine(step: step, role: Role.challenge.rawValue, task_type: request.taskType,
                                              prompt: request.prompt, completion: queryTraced[index].text, reward: reward)
            line.describe(outcome)
            samples.append(line)
        }

        metrics.setRates("valid_rate", valid: valid, of: proposed)
        metrics.set("invalid", invalid)
        metrics.set("solve_rate", solved.mapValues { Double($0.0) / Double(max($0.1, 1)) })
        metrics.set("query_value", values.mapValues { $0.reduce(0, +) / Double($0.count) })
        if settings.selfRewardWeight > 0, !answerRequests.isEmpty {
            metrics.set("judge_score", quality.reduce(0, +) / Double(quality.count))
            metrics.set("judge_failures", judgeFailures)
        }
        metrics.set("buffer_size", play.buffers.mapValues(\.count))
        metrics.set("added", added)
        stepNumber += 1
        return GameStep(step: step, records: records, metrics: metrics, samples: samples, seconds: clock.seconds,
                        sandboxJobs: runner.pool.jobCount - jobsBefore, sandboxSeconds: clock.sandboxSeconds)
    }

    public func summary(_ metrics: GameMetrics) -> String {
        var line = "valid [\(AZRGame.rates(metrics.numbers("valid_rate")))]  solve [\(AZRGame.rates(metrics.numbers("solve_rate")))]  "
            + "V(q) [\(AZRGame.rates(metrics.numbers("query_value")))]"
        if let judged = metrics.number("judge_score") { line += String(format: "  judge %.2f", judged) }
        return line
    }

    public static var panels: [MetricPanel] {
        [MetricPanel(title: "Solver solve rate (answers to this step's queries)", key: "solve_rate", yLabel: "solve rate", yRange: 0...1),
         MetricPanel(title: "Query value V(q): mean solver reward per query", key: "query_value", yLabel: "V(q)"),
         MetricPanel(title: "Valid queries", key: "valid_rate", yLabel: "valid rate", yRange: 0...1),
         MetricPanel(title: "Self-reward: mean judge score R_Q", key: "judge_score", yLabel: "score / 7", yRange: 0...1),
         MetricPanel(title: "Judge outputs without a score, by reason", key: "judge_failures", yLabel: "outputs"),
         MetricPanel(title: "Invalid queries by task type and reason", key: "invalid", yLabel: "queries"),
         MetricPanel(title: "Buffer size", key: "buffer_size", yLabel: "triples")]
    }
}
