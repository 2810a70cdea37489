import Dispatch
import Foundation
import Sandbox
import Tasks
import Trainer

/// Batch sizes and rewards of one self-play step (DESIGN.md §1; the paper uses 64 per task×role batch).
public struct SelfPlaySettings: Codable, Sendable, Equatable {
    public var proposalsPerType = 4
    public var solverTasksPerType = 4
    /// n: solver rollouts per valid proposal to measure its solve rate (learnability).
    public var learnabilityRollouts = 8
    public var learnabilityTemperature = 1.0
    /// Also train the solver on the learnability rollouts, each proposal's n answers whitened among themselves
    /// (a GRPO-style group): an answer gets an advantage only where its task's rollouts got different rewards, so
    /// a task every rollout solves (or every one fails the same way) adds nothing. Off in the paper, which only
    /// scores proposals with them.
    public var reuseLearnabilityRollouts = false
    public var temperature = 1.0
    public var rewards = RewardSettings()
    public var answerFormat = AnswerFormat.Mode.strict
    /// The part of each buffer references and solver tasks are drawn from.
    public var bufferWindow = BufferWindow()

    public init() {}

    enum CodingKeys: String, CodingKey {
        case proposalsPerType = "proposals_per_type"
        case solverTasksPerType = "solver_tasks_per_type"
        case learnabilityRollouts = "learnability_rollouts"
        case learnabilityTemperature = "learnability_temperature"
        case reuseLearnabilityRollouts = "reuse_learnability_rollouts"
        case temperature, rewards
        case answerFormat = "answer_format"
        case bufferWindow = "buffer_window"
    }
}

/// One sample the trainer learns from.
public struct TrainingRecord: Sendable, Equatable {
    public var prompt: String
    public var completion: String
    public var reward: Double
    public var taskType: String
    public var role: Role
    /// The sampled tokens, when a model wrote the completion.
    public var trace: CompletionTrace?
    /// The baseline group when it is not task type × role (LSP: one query's answers).
    public var baseline: String?
    /// Scales the sample's loss (LSP's α_Ch on the challenger's samples).
    public var weight = 1.0

    public init(prompt: String, completion: String, reward: Double, taskType: String, role: Role,
                trace: CompletionTrace? = nil, baseline: String? = nil, weight: Double = 1) {
        self.prompt = prompt
        self.completion = completion
        self.reward = reward
        self.taskType = taskType
        self.role = role
        self.trace = trace
        self.baseline = baseline
        self.weight = weight
    }

    /// Task type × role: what the metrics' mean reward is keyed by.
    public var kind: String { "\(taskType).\(role.rawValue)" }
    /// The group the advantage estimator takes its baseline over (TRR++: task type × role).
    public var group: String { baseline ?? kind }
}

/// One judged solver answer, for the samples log.
public struct JudgedAnswer: Sendable {
    public var taskType: String
    public var prompt: String
    public var task: Triple
    public var completion: String
    public var outcome: SolveOutcome
    public var reward: Double
    /// True for a learnability rollout trained on (`reuseLearnabilityRollouts`), false for the solver batch.
    public var fromLearnability = false
}

/// What a step did, for metrics.
public struct StepCounters: Codable, Sendable, Equatable {
    public var proposals: [String: Int] = [:]
    public var valid: [String: Int] = [:]
    public var added: [String: Int] = [:]
    /// Invalid proposals by task type and reason.
    public var invalid: [String: [String: Int]] = [:]
    /// Learnability solve rates of the valid proposals, averaged, by task type.
    public var proposalSolveRate: [String: Double] = [:]
    /// Solver batch solve rates by task type.
    public var solveRate: [String: Double] = [:]
    /// Learnability rollouts trained on, by task type, and how many of them had a nonzero advantage (their
    /// proposal's rollouts got different rewards); empty unless `reuseLearnabilityRollouts`.
    public var reusedRollouts: [String: Int] = [:]
    public var informativeRollouts: [String: Int] = [:]
    /// Mean reward by group (task type.role).
    public var rewardMean: [String: Double] = [:]
    public var bufferSize: [String: Int] = [:]
    public var sandboxJobs = 0
    /// Wall seconds spent waiting on the sandbox (validation and answer checks), for runs per second.
    public var sandboxSeconds = 0.0
    public var seconds: [String: Double] = [:]
}

public struct StepResult: Sendable {
    public var step: Int
    public var records: [TrainingRecord]
    public var counters: StepCounters
    /// Every judged proposal and answer, for the samples log.
    public var proposals: [(taskType: String, prompt: String, completion: String, outcome: ProposalOutcome, reward: Double)]
    public var answers: [JudgedAnswer]
}

/// AZR's self-play loop over any set of environments, one buffer each.
public final class SelfPlay {
    public let registry: EnvironmentRegistry
    public let buffers: [String: TaskBuffer]
    public var settings: SelfPlaySettings
    public let runner: ProgramRunner
    public var generator: SeededGenerator
    /// The next step's number (0 before the first).
    public private(set) var stepNumber: Int
    /// Hears each phase as it starts ("proposing", "validating", "learnability", "solving").
    public var onPhase: ((String) -> Void)?

    /// Opens (or creates) one buffer per environment in `directory` (`NAME.jsonl`), or in memory when nil.
    /// The triples an environment's proposer may be shown as references: the window of each buffer it reads.
    func referencePool(for environment: any Environment) -> [Triple] {
        environment.referenceBuffers.compactMap { buffers[$0] }.flatMap { settings.bufferWindow.apply($0.triples) }
    }

    /// Proposer requests, `count` per task type in the order given, each with its references freshly drawn.
    func proposalRequests(for counts: [(name: String, count: Int)], scoringOnly: Bool,
                          role: Role = .propose) -> ([PolicyRequest], [[Triple]]) {
        var requests: [PolicyRequest] = []
        var references: [[Triple]] = []
        for (name, count) in counts {
            let environment = registry[name]!
            let pool = referencePool(for: environment)
            for _ in 0..<count {
                let chosen = Array(pool.shuffled(using: &generator).prefix(environment.referenceCount))
                references.append(chosen)
                requests.append(PolicyRequest(prompt: environment.proposerPrompt(references: chosen), role: role,
                                              taskType: name, temperature: settings.temperature, scoringOnly: scoringOnly,
                                              stop: environment.proposerStop))
            }
        }
        return (requests, references)
    }

    /// Validates each proposal in the sandbox, concurrently across the pool.
    func validate(_ requests: [PolicyRequest], _ completions: [String], _ references: [[Triple]],
                          context: TaskContext) -> [ProposalOutcome] {
        concurrentMap(requests.indices) { index -> ProposalOutcome in
            self.registry[requests[index].taskType]!.propose(completion: completions[index], references: references[index],
                                                             context: context)
        }
    }

    public init(registry: EnvironmentRegistry = .standard, runner: ProgramRunner, settings: SelfPlaySettings = .init(),
                directory: URL? = nil, seed: UInt64 = 0, step: Int = 0) throws {
        self.registry = registry
        self.runner = runner
        self.settings = settings
        generator = SeededGenerator(seed: seed)
        stepNumber = step
        var buffers: [String: TaskBuffer] = [:]
        for name in registry.names {
            let environment = registry[name]!
            buffers[name] = try TaskBuffer(name: name, url: directory?.appendingPathComponent("\(name).jsonl"),
                                           seed: environment.seed)
        }
        self.buffers = buffers
    }

    /// One AZR iteration: propose for each task type, validate, score learnability, add to the buffers, solve
    /// a batch per type, score. Returns the records for the trainer and the step's counters.
    public func step(policy: Policy) throws -> StepResult {
        let step = stepNumber
        let context = TaskContext(runner: runner, step: step, format: settings.answerFormat)
        var counters = StepCounters()
        let jobsBefore = runner.pool.jobCount
        var clock = StepClock()

        // Propose.
        onPhase?("proposing")
        let (proposalRequests, proposalReferences) = proposalRequests(for: registry.names.map { ($0, settings.proposalsPerType) },
                                                                      scoringOnly: false)
        let proposalTraced = try policy.completeTraced(proposalRequests)
        let proposalCompletions = proposalTraced.map(\.text)
        clock.lap("propose")

        // Validate, concurrently across the sandbox pool. Only the sandbox waits count towards runs per second.
        onPhase?("validating")
        let outcomes = clock.inSandbox { validate(proposalRequests, proposalCompletions, proposalReferences, context: context) }
        clock.lap("validate")

        // Learnability: n solver rollouts per valid proposal, scored (and trained on only when reused).
        var scoringRequests: [PolicyRequest] = []
        var scoringOwner: [Int] = []
        for (index, outcome) in outcomes.enumerated() {
            guard let triple = outcome.triple else { continue }
            let environment = registry[triple.type]!
            for _ in 0..<settings.learnabilityRollouts {
                scoringRequests.append(PolicyRequest(prompt: environment.solverPrompt(for: triple), role: .solve,
                                                     taskType: triple.type, temperature: settings.learnabilityTemperature,
                                                     scoringOnly: true, stop: environment.solverStop))
                scoringOwner.append(index)
            }
        }
        onPhase?("learnability")
        // Traced sampling draws the same tokens as untraced, so a run without reuse samples exactly as before.
        let scoringTraced = try policy.completeTraced(scoringRequests)
        let scoringCompletions = scoringTraced.map(\.text)
        let scoringOutcomes = clock.inSandbox {
            concurrentMap(scoringRequests.indices) { index -> SolveOutcome in
                let triple = outcomes[scoringOwner[index]].triple!
                return self.registry[triple.type]!.check(completion: scoringCompletions[index], for: triple, context: context)
            }
        }
        var solved: [Int: (correct: Int, total: Int)] = [:]
        for (index, owner) in scoringOwner.enumerated() {
            solved[owner, default: (0, 0)].total += 1
            if scoringOutcomes[index].isCorrect { solved[owner, default: (0, 0)].correct += 1 }
        }
        clock.lap("learnability")

        var records: [TrainingRecord] = []
        var proposals: [(String, String, String, ProposalOutcome, Double)] = []
        var rates: [String: [Double]] = [:]
        for (index, outcome) in outcomes.enumerated() {
            let request = proposalRequests[index]
            let type = request.taskType
            counters.proposals[type, default: 0] += 1
            let reward: Double
            switch outcome {
            case let .valid(triple):
                counters.valid[type, default: 0] += 1
                let tally = solved[index] ?? (0, 0)
                let rate = tally.total == 0 ? 0 : Double(tally.correct) / Double(tally.total)
                rates[type, default: []].append(rate)
                reward = settings.rewards.proposer(solveRate: rate)
                if try buffers[type]!.add(triple) { counters.added[type, default: 0] += 1 }
            case let .invalid(invalid):
                counters.invalid[type, default: [:]][invalid.reason.rawValue, default: 0] += 1
                reward = settings.rewards.proposer(invalid: invalid.reason)
            }
            proposals.append((type, request.prompt, proposalCompletions[index], outcome, reward))
            records.append(TrainingRecord(prompt: request.prompt, completion: proposalCompletions[index], reward: reward,
                                          taskType: type, role: .propose, trace: proposalTraced[index].trace))
        }
        counters.proposalSolveRate = rates.mapValues { $0.reduce(0, +) / Double($0.count) }

        // Solve: this step's new tasks first, the rest drawn uniformly from the buffer.
        var solverRequests: [PolicyRequest] = []
        var solverTasks: [Triple] = []
        for name in registry.names {
            let environment = registry[name]!
            let buffer = buffers[name]!
            var chosen = Array(buffer.created(since: step).filter { $0.source != "seed" }.prefix(settings.solverTasksPerType))
            let chosenKeys = Set(chosen.map(\.dedupKey))
            let window = settings.bufferWindow.apply(buffer.triples)
            let rest = window.filter { !chosenKeys.contains($0.dedupKey) }.shuffled(using: &generator)
            chosen += rest.prefix(settings.solverTasksPerType - chosen.count)
            // A small buffer repeats tasks rather than shrinking the batch.
            while chosen.count < settings.solverTasksPerType, let any = window.randomElement(using: &generator) {
                chosen.append(any)
            }
            for triple in chosen {
                solverTasks.append(triple)
                solverRequests.append(PolicyRequest(prompt: environment.solverPrompt(for: triple), role: .solve,
                                                    taskType: name, temperature: settings.temperature, stop: environment.solverStop))
            }
        }
        onPhase?("solving")
        let solverTraced = try policy.completeTraced(solverRequests)
        let solverCompletions = solverTraced.map(\.text)
        let solverOutcomes = clock.inSandbox {
            concurrentMap(solverRequests.indices) { index -> SolveOutcome in
                self.registry[solverRequests[index].taskType]!.check(completion: solverCompletions[index],
                                                                     for: solverTasks[index], context: context)
            }
        }
        counters.sandboxSeconds = clock.sandboxSeconds
        var solverTally: [String: (Int, Int)] = [:]
        var answers: [JudgedAnswer] = []
        for index in solverRequests.indices {
            let type = solverRequests[index].taskType
            let outcome = solverOutcomes[index]
            solverTally[type, default: (0, 0)].1 += 1
            if outcome.isCorrect { solverTally[type, default: (0, 0)].0 += 1 }
            let reward = settings.rewards.solver(outcome)
            answers.append(JudgedAnswer(taskType: type, prompt: solverRequests[index].prompt, task: solverTasks[index], completion: solverCompletions[index],
                                        outcome: outcome, reward: reward))
            records.append(TrainingRecord(prompt: solverRequests[index].prompt, completion: solverCompletions[index],
                                          reward: reward, taskType: type, role: .solve, trace: solverTraced[index].trace))
        }
        counters.solveRate = solverTally.mapValues { Double($0.0) / Double(max($0.1, 1)) }
        clock.lap("solve")
        counters.seconds = clock.seconds

        var sums: [String: (Double, Int)] = [:]
        for record in records {
            sums[record.group, default: (0, 0)].0 += record.reward
            sums[record.group, default: (0, 0)].1 += 1
        }
        counters.rewardMean = sums.mapValues { $0.0 / Double($0.1) }
        if settings.reuseLearnabilityRollouts {
            // After the reward means, so `deduction.solve` stays the solver batch's figure, comparable across runs.
            let rolloutRewards = scoringOutcomes.map { settings.rewards.solver($0) }
            var rewardsByOwner: [Int: Set<Double>] = [:]
            for (index, owner) in scoringOwner.enumerated() { rewardsByOwner[owner, default: []].insert(rolloutRewards[index]) }
            for index in scoringRequests.indices {
                let owner = scoringOwner[index], triple = outcomes[owner].triple!
                let reward = rolloutRewards[index]
                counters.reusedRollouts[triple.type, default: 0] += 1
                // Counted from 0, so every type with reused rollouts appears, 0 when none had an advantage.
                counters.informativeRollouts[triple.type, default: 0] += rewardsByOwner[owner]!.count > 1 ? 1 : 0
                answers.append(JudgedAnswer(taskType: triple.type, prompt: scoringRequests[index].prompt, task: triple,
                                            completion: scoringCompletions[index], outcome: scoringOutcomes[index],
                                            reward: reward, fromLearnability: true))
                records.append(TrainingRecord(prompt: scoringRequests[index].prompt, completion: scoringCompletions[index],
                                              reward: reward, taskType: triple.type, role: .solve,
                                              trace: scoringTraced[index].trace,
                                              baseline: "\(triple.type).solve.learnability-\(owner)"))
            }
        }
        counters.bufferSize = buffers.mapValues(\.count)
        counters.sandboxJobs = runner.pool.jobCount - jobsBefore
        stepNumber += 1
        return StepResult(step: step, records: records, counters: counters, proposals: proposals, answers: answers)
    }

    /// Grows every buffer with the policy's own proposals (validated, not trained on) until each holds
    /// `size` triples or `maxRounds` rounds pass, as the reference does before training. Seeded triples carry
    /// step −1. Returns the number added per type; `judged` hears every proposal with how it was judged.
    @discardableResult
    public func seedBuffers(policy: Policy, size: Int, maxRounds: Int = 8,
                            progress: ((Int, [String: Int]) -> Void)? = nil,
                            judged: ((_ taskType: String, _ prompt: String, _ completion: String, ProposalOutcome) -> Void)? = nil)
        throws -> [String: Int] {
        let context = TaskContext(runner: runner, step: -1, format: settings.answerFormat)
        var added: [String: Int] = [:]
        for round in 0..<maxRounds {
            let wanting = registry.names.filter { buffers[$0]!.count < size }
            if wanting.isEmpty { break }
            let (requests, references) = proposalRequests(
                for: wanting.map { ($0, max(1, min(settings.proposalsPerType, size - buffers[$0]!.count))) }, scoringOnly: true)
            let completions = try policy.complete(requests)
            let outcomes = validate(requests, completions, references, context: context)
            for (index, outcome) in outcomes.enumerated() {
                judged?(requests[index].taskType, requests[index].prompt, completions[index], outcome)
                guard let triple = outcome.triple, buffers[triple.type]!.count < size else { continue }
                if try buffers[triple.type]!.add(triple) { added[triple.type, default: 0] += 1 }
            }
            progress?(round + 1, buffers.mapValues(\.count))
        }
        return added
    }
}

/// Maps `indices` concurrently; the sandbox pool bounds how many run at once.
func concurrentMap<T>(_ indices: Range<Int>, _ transform: @escaping (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: indices.count)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: indices.count) { offset in
        let value = transform(indices.lowerBound + offset)
        lock.lock()
        results[offset] = value
        lock.unlock()
    }
    return results.map { $0! }
}
