import Foundation
import Sandbox
import Tasks
import Trainer

/// Absolute Zero as a `Game`: `SelfPlay`'s propose → validate → learnability → solve step, TRR++ advantages
/// (one whitened baseline per task type × role), and its buffers grown from the model's own proposals before
/// step 0.
public final class AZRGame: Game {
    public let play: SelfPlay
    public let advantages: any AdvantageEstimator
    /// Buffers are grown to this many triples per type, in at most `seedingRounds` rounds, before step 0.
    public let seedSize: Int
    public let seedingRounds: Int

    public init(play: SelfPlay, advantages: any AdvantageEstimator = TRRAdvantages(), seedSize: Int, seedingRounds: Int) {
        self.play = play
        self.advantages = advantages
        self.seedSize = seedSize
        self.seedingRounds = seedingRounds
    }

    public var generator: SeededGenerator {
        get { play.generator }
        set { play.generator = newValue }
    }

    public var onPhase: ((String) -> Void)? {
        get { play.onPhase }
        set { play.onPhase = newValue }
    }

    public var buffers: [String: TaskBuffer] { play.buffers }

    public private(set) var preparationSamples: [TrainingRun.SampleLine] = []

    public func prepare(policy: Policy) throws -> String? {
        let before = play.buffers.values.reduce(0) { $0 + $1.count }
        preparationSamples = []
        try play.seedBuffers(policy: policy, size: seedSize, maxRounds: seedingRounds) { type, prompt, completion, outcome in
            self.preparationSamples.append(Self.proposalLine(step: TrainingRun.seedingStep, type: type, prompt: prompt,
                                                             completion: completion, outcome: outcome, reward: 0))
        }
        let after = play.buffers.values.reduce(0) { $0 + $1.count }
        return "seeded the buffers with \(after - before) of the model's own tasks: "
            + play.buffers.keys.sorted().map { "\($0) \(play.buffers[$0]!.count)" }.joined(separator: ", ")
    }

    public func step(policy: Policy) throws -> GameStep {
        let result = try play.step(policy: policy)
        return GameStep(step: result.step, records: result.records, metrics: Self.metrics(result.counters),
                        samples: Self.samples(result), seconds: result.counters.seconds,
                        sandboxJobs: result.counters.sandboxJobs, sandboxSeconds: result.counters.sandboxSeconds)
    }

    /// AZR's figures, under the keys metrics.jsonl has always had.
    static func metrics(_ counters: StepCounters) -> GameMetrics {
        var metrics: GameMetrics = [:]
        metrics.setRates("valid_rate", valid: counters.valid, of: counters.proposals)
        metrics.set("invalid", counters.invalid)
        metrics.set("solve_rate", counters.solveRate)
        metrics.set("proposal_solve_rate", counters.proposalSolveRate)
        metrics.set("buffer_size", counters.bufferSize)
        metrics.set("added", counters.added)
        if !counters.reusedRollouts.isEmpty {
            metrics.set("reused_rollouts", counters.reusedRollouts)
            metrics.set("informative_rollouts", counters.informativeRollouts)
        }
        return metrics
    }

    /// A proposal's samples line, with how it was judged (a step's proposals and seeding's alike).
    static func proposalLine(step: Int, type: String, prompt: String, completion: String, outcome: ProposalOutcome,
                             reward: Double) -> TrainingRun.SampleLine {
        var line = TrainingRun.SampleLine(step: step, role: Role.propose.rawValue, task_type: type, prompt: prompt,
                                          completion: completion, reward: reward)
        line.describe(outcome)
        return line
    }

    /// One line per proposal and per answer, with how each was judged.
    static func samples(_ result: StepResult) -> [TrainingRun.SampleLine] {
        var lines: [TrainingRun.SampleLine] = []
        for proposal in result.proposals {
            lines.append(proposalLine(step: result.step, type: proposal.taskType, prompt: proposal.prompt,
                                      completion: proposal.completion, outcome: proposal.outcome, reward: proposal.reward))
        }
        for answer in result.answers {
            var line = TrainingRun.SampleLine(step: result.step, role: Role.solve.rawValue, task_type: answer.taskType,
                                              prompt: answer.prompt, completion: answer.completion, reward: answer.reward,
                                              task: answer.task)
            line.describe(answer.outcome)
            if answer.fromLearnability { line.source = "learnability" }
            lines.append(line)
        }
        return lines
    }

    public func summary(_ metrics: GameMetrics) -> String {
        "valid [\(Self.rates(metrics.numbers("valid_rate")))]  solve [\(Self.rates(metrics.numbers("solve_rate")))]  "
            + "buffer \(Self.rates(metrics.numbers("buffer_size"), format: "%.0f"))"
    }

    /// "ded 0.50 abd 0.25": each task type's first three letters and its figure.
    static func rates(_ values: [String: Double], format: String = "%.2f") -> String {
        values.keys.sorted().map { "\($0.prefix(3)) \(String(format: format, values[$0]!))" }.joined(separator: " ")
    }

    public static var panels: [MetricPanel] {
        [MetricPanel(title: "Solver solve rate (training batch)", key: "solve_rate", yLabel: "solve rate", yRange: 0...1),
         MetricPanel(title: "Learnability solve rate of valid proposals", key: "proposal_solve_rate", yLabel: "solve rate", yRange: 0...1),
         MetricPanel(title: "Valid proposals", key: "valid_rate", yLabel: "valid rate", yRange: 0...1),
         MetricPanel(title: "Buffer size", key: "buffer_size", yLabel: "triples"),
         MetricPanel(title: "Invalid proposals by task type and reason", key: "invalid", yLabel: "proposals"),
         MetricPanel(title: "Triples added to the buffers", key: "added", yLabel: "triples"),
         MetricPanel(title: "Learnability rollouts trained on (reuse_learnability_rollouts)", key: "reused_rollouts",
                     yLabel: "answers"),
         MetricPanel(title: "… of them with an advantage (their task's rollouts differed)", key: "informative_rollouts",
                     yLabel: "answers")]
    }
}

extension TrainingRun.SampleLine {
    /// Records how a proposal was judged: "valid" with its triple, or "invalid: REASON" with the detail.
    mutating func describe(_ outcome: ProposalOutcome) {
        switch outcome {
        case let .valid(triple): self.outcome = "valid"; task = triple
        case let .invalid(invalid): self.outcome = "invalid: \(invalid.reason.rawValue)"; detail = invalid.detail
        }
    }

    /// Records how an answer was judged: correct, wrong or malformed, with why.
    mutating func describe(_ outcome: SolveOutcome) {
        switch outcome {
        case .correct: self.outcome = "correct"
        case let .wrong(why): self.outcome = "wrong"; detail = why
        case let .malformed(why): self.outcome = "malformed"; detail = why
        }
    }
}
