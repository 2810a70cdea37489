import Foundation
import Sandbox
import Tasks
import Trainer

/// SGS's settings (arXiv 2604.20209; seed 000).
public struct SGSSettings: Sendable, Equatable {
    /// B: targets drawn per round; the unsolved ones get conjectures.
    public var targetsPerRound = 4
    /// Synthetic tasks the conjecturer writes per unsolved target (the paper: 1).
    public var conjecturesPerTarget = 1
    /// k: solver attempts per target and per valid synthetic task, all trained on; a synthetic task's solve
    /// rate s is its attempts' mean.
    public var solverAttempts = 4
    /// How the guide's score g constrains the conjecturer's difficulty reward R_solve.
    public var guideGate = GuideGate.product
    /// `threshold` gate: R_solve when g reaches this, else 0.
    public var guideThreshold = 0.5
    /// The paper's "too easy" cut: a synthetic task whose solve rate is in this top fraction of the round's rates
    /// strictly between 0 and 1 gets R_solve = 0 (the paper: 0.3). With 0, R_solve is AZR's learnability, 1 − s
    /// for 0 < s < 1.
    public var easyCut = 0.3
    public var guideTemperature = 0.6
    /// Before step 0, one greedy attempt at every target marks the ones the base model already solves, so the
    /// cumulative curve starts at the base model's solve rate (R0) instead of at 0.
    public var initialSweep = true
    /// Every this many rounds (0: never), a greedy attempt at held-out targets measures the held-out solve rate:
    /// scoring only, never trained on, never shown to the conjecturer or the guide.
    public var heldOutEvalEvery = 0
    /// Held-out targets in that measurement (0: all), the first of the held-out part.
    public var heldOutEvalSize = 64
    /// The task type conjectured for a target whose own type has no conjecture prompt (induction, and so
    /// HumanEval+ and MBPP+ targets).
    public var conjectureType = "deduction"
    public var temperature = 1.0
    public var rewards = RewardSettings()
    public var answerFormat = AnswerFormat.Mode.lenient

    public enum GuideGate: String, Codable, Sendable, CaseIterable {
        /// R = R_solve · g (the paper's R_synth).
        case product
        /// R = R_solve when g ≥ `guide_threshold`, else 0.
        case threshold
    }

    public init() {}

    /// The conjecturer's reward for a valid synthetic task with difficulty reward `solve` and guide score `guide`.
    public func gated(solve: Double, guide: Double) -> Double {
        switch guideGate {
        case .product: return solve * guide
        case .threshold: return guide >= guideThreshold ? solve : 0
        }
    }

    /// R_solve of each synthetic task from its solve rate, against the round's rates (the paper's Algorithm 1,
    /// lines 12–14, as its code computes the cut: the rates strictly between 0 and 1, sorted, at index
    /// ⌊count · (1 − easyCut)⌋). A task nobody solved, or one at or above the cut that is not below it, gets 0.
    public func difficultyRewards(_ rates: [Double]) -> [Double] {
        let open = rates.filter { $0 > 0 && $0 < 1 }.sorted()
        let cut = open.isEmpty ? 0 : open[min(open.count - 1, Int(Double(open.count) * (1 - easyCut)))]
        return rates.map { $0 > 0 && $0 <= cut && $0 < 1 ? 1 - $0 : 0 }
    }
}

/// Self-Guided Self-Play in the code domain. Three roles of one model: for each unsolved target drawn this round
/// the conjecturer writes a related, simpler task (`Environment.conjecturePrompt(for:)`, of the target's type, or
/// `conjecture_type` for a type without one), shown the target as its solver sees it (`statement(of:)`),
/// validated in the sandbox like a proposal; the solver makes k attempts at every drawn target and every valid
/// synthetic task, all judged in the sandbox and trained on with AZR's solver reward; the guide scores each
/// synthetic task the solver solved at least once against its target (`SGSGuide`, scored, never trained on, as
/// the paper's guide is a fixed model). The conjecturer's reward is the difficulty reward R_solve gated by the
/// guide's score (`SGSSettings.gated`); an invalid conjecture gets AZR's format-aware penalty. A target any
/// attempt solves counts as solved from then on: the `targets-solved` buffer holds them, so the cumulative solve
/// rate rewinds with the other buffers on resume. TRR++ advantages per task type × role, as AZR; the paper
/// min–max normalises R_synth per batch before REINFORCE, an affine map the per-group whitening cancels.
public final class SGSGame: Game {
    public let play: SelfPlay
    public var settings: SGSSettings
    public let targets: SGSTargets
    public let advantages: any AdvantageEstimator = TRRAdvantages()
    /// Targets any attempt has solved (before step 0 or since), with the step that first solved each.
    public let solved: TaskBuffer
    public private(set) var stepNumber: Int
    public var onPhase: ((String) -> Void)?

    /// The buffer of solved targets.
    public static let solvedBufferName = "targets-solved"

    public init(play: SelfPlay, settings: SGSSettings, targets: SGSTargets, directory: URL?, step: Int) throws {
        // Every target must have a type to conjecture in: its own, or `conjecture_type` when the run plays it.
        if targets.targets.contains(where: { play.registry[$0.type]?.conjecturePrompt(for: "") == nil }) {
            guard play.registry[settings.conjectureType]?.conjecturePrompt(for: "") != nil else {
                throw TrainingConfig.ConfigError.invalid("targets of type \(Set(targets.targets.map(\.type)).sorted().joined(separator: ", ")) are conjectured as conjecture_type \"\(settings.conjectureType)\", which this run's task_types must include and which must be deduction, abduction or another type with a conjecture prompt")
            }
        }
        self.play = play
        self.settings = settings
        self.targets = targets
        solved = try TaskBuffer(name: Self.solvedBufferName, url: directory?.appendingPathComponent("\(Self.solvedBufferName).jsonl"))
        stepNumber = step
    }

    public var generator: SeededGenerator {
        get { play.generator }
        set { play.generator = newValue }
    }

    public var buffers: [String: TaskBuffer] {
        var all = play.buffers
        all[Self.solvedBufferName] = solved
        return all
    }

    /// The fraction of the game's targets solved so far.
    public var cumulativeSolveRate: Double { Double(solvedCount) / Double(targets.targets.count) }

    var solvedCount: Int { targets.targets.filter { solved.contains($0) }.count }

    /// Marks `target` solved at `step` (its first solve only).
    func markSolved(_ target: Triple, step: Int) throws {
        var entry = target
        entry.step = step
        entry.source = "target"
        _ = try solved.add(entry)
    }

    public func prepare(policy: Policy) throws -> String? {
        guard settings.initialSweep else { return nil }
        let context = TaskContext(runner: play.runner, step: TrainingRun.seedingStep, format: settings.answerFormat)
        let solvedNow = try greedySolved(targets.targets, policy: policy, context: context)
        for (target, isSolved) in zip(targets.targets, solvedNow) where isSolved {
            try markSolved(target, step: TrainingRun.seedingStep)
        }
        return "the base model solves \(solvedCount) of \(targets.targets.count) targets greedily (\(targets.heldOut.count) more are held out)"
    }

    /// One conjecture's bookkeeping within a round.
    struct Conjecture {
        var request: PolicyRequest
        var target: Triple
        var outcome: ProposalOutcome?
        var attempts: [Int] = []
    }

    public func step(policy: Policy) throws -> GameStep {
        let step = stepNumber
        let runner = play.runner
        let registry = play.registry
        let context = TaskContext(runner: runner, step: step, format: settings.answerFormat)
        let jobsBefore = runner.pool.jobCount
        var clock = StepClock()

        // Draw B targets; the unsolved ones get conjectures.
        let drawn = Array(targets.targets.indices.shuffled(using: &play.generator).prefix(settings.targetsPerRound)).sorted()
            .map { targets.targets[$0] }
        onPhase?("conjecturing")
        var conjectures: [Conjecture] = []
        for target in drawn where !solved.contains(target) {
            // The target's own type conjectures when it can; otherwise `conjecture_type` (checked at start).
            guard let statement = registry[target.type]!.statement(of: target) else { continue }
            var environment = registry[target.type]!
            if environment.conjecturePrompt(for: statement) == nil { environment = registry[settings.conjectureType]! }
            guard let prompt = environment.conjecturePrompt(for: statement) else { continue }
            for _ in 0..<settings.conjecturesPerTarget {
                conjectures.append(Conjecture(request: PolicyRequest(prompt: prompt, role: .conjecture, taskType: environment.name,
                                                                     temperature: settings.temperature, stop: environment.proposerStop),
                                              target: target))
            }
        }
        let conjectureTraced = try policy.completeTraced(conjectures.map(\.request))
        clock.lap("conjecture")
        onPhase?("validating")
        let validated = clock.inSandbox {
            play.validate(conjectures.map(\.request), conjectureTraced.map(\.text), conjectures.map { _ in [] }, context: context)
        }
        clock.lap("validate")
        var proposed: [String: Int] = [:], valid: [String: Int] = [:], added: [String: Int] = [:]
        var invalid: [String: [String: Int]] = [:]
        for (index, outcome) in validated.enumerated() {
            let type = conjectures[index].request.taskType
            conjectures[index].outcome = outcome
            proposed[type, default: 0] += 1
            switch outcome {
            case let .valid(triple):
                valid[type, default: 0] += 1
                if try play.buffers[triple.type]!.add(triple) { added[type, default: 0] += 1 }
            case let .invalid(why):
                invalid[type, default: [:]][why.reason.rawValue, default: 0] += 1
            }
        }

        // Solve: k attempts at each drawn target and each valid synthetic task.
        var attempts: [(request: PolicyRequest, task: Triple, isTarget: Bool)] = []
        func attempt(_ task: Triple, isTarget: Bool) -> [Int] {
            let environment = registry[task.type]!
            return (0..<settings.solverAttempts).map { _ in
                attempts.append((PolicyRequest(prompt: environment.solverPrompt(for: task), role: .solve, taskType: task.type,
                                               temperature: settings.temperature, stop: environment.solverStop), task, isTarget))
                return attempts.count - 1
            }
        }
        var targetAttempts: [(target: Triple, attempts: [Int])] = []
        for target in drawn { targetAttempts.append((target, attempt(target, isTarget: true))) }
        for index in conjectures.indices {
            if case let .valid(triple)? = conjectures[index].outcome { conjectures[index].attempts = attempt(triple, isTarget: false) }
        }
        onPhase?("solving")
        let answerTraced = try policy.completeTraced(attempts.map(\.request))
        let answerOutcomes = clock.inSandbox {
            concurrentMap(attempts.indices) { index -> SolveOutcome in
                registry[attempts[index].task.type]!.check(completion: answerTraced[index].text, for: attempts[index].task, context: context)
            }
        }
        clock.lap("solve")
        let solvedBefore = solvedCount
        for (target, indices) in targetAttempts where indices.contains(where: { answerOutcomes[$0].isCorrect }) {
            try markSolved(target, step: step)
        }

        // Guide: every synthetic task the solver solved at least once, against its target.
        let rates = conjectures.map { c -> Double in
            c.attempts.isEmpty ? 0 : Double(c.attempts.filter { answerOutcomes[$0].isCorrect }.count) / Double(c.attempts.count)
        }
        let guided = conjectures.indices.filter { rates[$0] > 0 }
        var guideScores = [Double](repeating: 0, count: conjectures.count)
        var guideFailures: [String: Int] = [:]
        var guideOutputs = [String?](repeating: nil, count: conjectures.count)
        var points: [String: Int] = [:]
        var copiedExample = 0
        if !guided.isEmpty {
            onPhase?("guiding")
            let requests = guided.map { index -> PolicyRequest in
                guard case let .valid(triple)? = conjectures[index].outcome else { preconditionFailure("guided conjectures are valid") }
                let target = conjectures[index].target
                return PolicyRequest(prompt: SGSGuide.prompt(target: registry[target.type]!.statement(of: target)!,
                                                             task: registry[triple.type]!.statement(of: triple) ?? RunReport.describe(triple)),
                                     role: .guide, taskType: triple.type, temperature: settings.guideTemperature, scoringOnly: true,
                                     stop: SGSGuide.stop)
            }
            let verdicts = try policy.complete(requests)
            var readable: [Double] = [], unreadable: [Int] = []
            for (index, verdict) in zip(guided, verdicts) {
                guideOutputs[index] = verdict
                if verdict.trimmingCharacters(in: .whitespacesAndNewlines) == SGSGuide.example { copiedExample += 1 }
                do {
                    let read = try SGSGuide.verdict(verdict)
                    guideScores[index] = read.score
                    readable.append(read.score)
                    points[Self.pointsBin(read.points), default: 0] += 1
                } catch let error as SGSGuide.OutputError {
                    guideFailures[error.reason, default: 0] += 1
                    unreadable.append(index)
                }
            }
            // As the paper's code does: an unreadable verdict takes the mean of the round's readable ones.
            let mean = readable.isEmpty ? 0 : readable.reduce(0, +) / Double(readable.count)
            for index in unreadable { guideScores[index] = mean }
            clock.lap("guide")
        }

        // Rewards and records.
        let difficulty = settings.difficultyRewards(rates)
        var records: [TrainingRecord] = []
        var samples: [TrainingRun.SampleLine] = []
        var solveCounts: [String: (Int, Int)] = [:], targetCounts = (0, 0)
        for (index, item) in attempts.enumerated() {
            let outcome = answerOutcomes[index]
            let reward = settings.rewards.solver(outcome)
            if item.isTarget {
                targetCounts.1 += 1
                if outcome.isCorrect { targetCounts.0 += 1 }
            } else {
                solveCounts[item.task.type, default: (0, 0)].1 += 1
                if outcome.isCorrect { solveCounts[item.task.type, default: (0, 0)].0 += 1 }
            }
            records.append(TrainingRecord(prompt: item.request.prompt, completion: answerTraced[index].text, reward: reward,
                                          taskType: item.task.type, role: .solve, trace: answerTraced[index].trace))
            var line = TrainingRun.SampleLine(step: step, role: Role.solve.rawValue, task_type: item.task.type, prompt: item.request.prompt,
                                              completion: answerTraced[index].text, reward: reward, task: item.task)
            line.describe(outcome)
            if item.isTarget { line.detail = ["target", line.detail].compactMap { $0 }.joined(separator: ": ") }
            samples.append(line)
        }
        var shapes: [ProgramShape] = []
        var conjectureRewards: [Double] = []
        for (index, conjecture) in conjectures.enumerated() {
            let reward: Double
            switch conjecture.outcome! {
            case let .valid(triple):
                shapes.append(ProgramShape(triple.program))
                reward = settings.gated(solve: difficulty[index], guide: guideScores[index])
            case let .invalid(why):
                reward = settings.rewards.proposer(invalid: why.reason)
            }
            conjectureRewards.append(reward)
            records.append(TrainingRecord(prompt: conjecture.request.prompt, completion: conjectureTraced[index].text, reward: reward,
                                          taskType: conjecture.request.taskType, role: .conjecture, trace: conjectureTraced[index].trace))
            var line = TrainingRun.SampleLine(step: step, role: Role.conjecture.rawValue, task_type: conjecture.request.taskType,
                                              prompt: conjecture.request.prompt, completion: conjectureTraced[index].text, reward: reward)
            line.describe(conjecture.outcome!)
            if case .valid = conjecture.outcome! {
                var parts = [String(format: "solve rate %.2f, R_solve %.2f", rates[index], difficulty[index])]
                if let verdict = guideOutputs[index] { parts.append(String(format: "guide %.2f: ", guideScores[index]) + verdict) }
                line.detail = parts.joined(separator: "; ")
            }
            samples.append(line)
        }

        var metrics: GameMetrics = [:]
        metrics.set("target_solve_rate_cumulative", cumulativeSolveRate)
        metrics.set("targets_newly_solved", Double(solvedCount - solvedBefore))
        metrics.set("target_attempt_solve_rate", Double(targetCounts.0) / Double(max(targetCounts.1, 1)))
        metrics.set("conjectures", Double(conjectures.count))
        if !conjectures.isEmpty {
            metrics.setRates("valid_rate", valid: valid, of: proposed)
            metrics.set("invalid", invalid)
        }
        if !solveCounts.isEmpty { metrics.set("synthetic_solve_rate", solveCounts.mapValues { Double($0.0) / Double(max($0.1, 1)) }) }
        if !guided.isEmpty {
            metrics.set("guide_score", guided.map { guideScores[$0] }.reduce(0, +) / Double(guided.count))
            metrics.set("guide_points", points)
            metrics.set("guide_failures", guideFailures)
            // A verdict that is the prompt's worked example word for word says nothing about the task.
            metrics.set("guide_copied_example", Double(copiedExample) / Double(guided.count))
        }
        if !shapes.isEmpty {
            metrics.set("program_chars", Double(shapes.map(\.characters).reduce(0, +)) / Double(shapes.count))
            metrics.set("program_nesting", Double(shapes.map(\.nesting).reduce(0, +)) / Double(shapes.count))
        }
        metrics.set("buffer_size", play.buffers.mapValues(\.count))
        metrics.set("added", added)
        if settings.heldOutEvalEvery > 0, (step + 1) % settings.heldOutEvalEvery == 0, !targets.heldOut.isEmpty {
            onPhase?("held-out")
            metrics.set("held_out_solve_rate", try heldOutSolveRate(policy: policy, context: context))
            clock.lap("held-out")
        }
        stepNumber += 1
        return GameStep(step: step, records: records, metrics: metrics, samples: samples, seconds: clock.seconds,
                        sandboxJobs: runner.pool.jobCount - jobsBefore, sandboxSeconds: clock.sandboxSeconds)
    }

    /// Greedy solve rate on the first `heldOutEvalSize` held-out targets: scoring-only requests, no records.
    func heldOutSolveRate(policy: Policy, context: TaskContext) throws -> Double {
        let tasks = settings.heldOutEvalSize > 0 ? Array(targets.heldOut.prefix(settings.heldOutEvalSize)) : targets.heldOut
        let correct = try greedySolved(tasks, policy: policy, context: context)
        return Double(correct.filter { $0 }.count) / Double(max(tasks.count, 1))
    }

    /// One greedy, scoring-only attempt at each task, judged in the sandbox: the sweep before step 0 and the
    /// held-out measurement.
    func greedySolved(_ tasks: [Triple], policy: Policy, context: TaskContext) throws -> [Bool] {
        let greedy = SeededAttempts(registry: play.registry, temperature: 0, samples: 1)
        return try greedy.successes(tasks, label: "greedy", policy: policy, context: context).map { $0 > 0 }
    }

    /// The guide's points (0…8) in bins for the distribution chart.
    static func pointsBin(_ points: Int) -> String {
        switch points {
        case 0: return "0"
        case 1...2: return "1-2"
        case 3...4: return "3-4"
        case 5...6: return "5-6"
        default: return "7-8"
        }
    }

    public func summary(_ metrics: GameMetrics) -> String {
        var line = String(format: "targets solved %.2f", metrics.number("target_solve_rate_cumulative") ?? 0)
        if let new = metrics.number("targets_newly_solved"), new > 0 { line += String(format: " (+%.0f)", new) }
        line += "  valid [\(AZRGame.rates(metrics.numbers("valid_rate")))]  synth solve [\(AZRGame.rates(metrics.numbers("synthetic_solve_rate")))]"
        if let guide = metrics.number("guide_score") { line += String(format: "  guide %.2f", guide) }
        if let heldOut = metrics.number("held_out_solve_rate") { line += String(format: "  held-out %.2f", heldOut) }
        return line
    }

    public static var panels: [MetricPanel] {
        [MetricPanel(title: "Cumulative target solve rate", key: "target_solve_rate_cumulative", yLabel: "solved", yRange: 0...1,
                     fit: .saturating),
         MetricPanel(title: "Held-out target solve rate (greedy)", key: "held_out_solve_rate", yLabel: "solve rate", yRange: 0...1),
         MetricPanel(title: "Solve rate of this round's target attempts", key: "target_attempt_solve_rate", yLabel: "solve rate", yRange: 0...1),
         MetricPanel(title: "Solver solve rate on synthetic tasks", key: "synthetic_solve_rate", yLabel: "solve rate", yRange: 0...1),
         MetricPanel(title: "Valid conjectures", key: "valid_rate", yLabel: "valid rate", yRange: 0...1),
         MetricPanel(title: "Guide score (mean, 0–1)", key: "guide_score", yLabel: "score", yRange: 0...1),
         MetricPanel(title: "Guide points (0–8), distribution", key: "guide_points", yLabel: "conjectures"),
         MetricPanel(title: "Guide outputs without a verdict, by reason", key: "guide_failures", yLabel: "outputs"),
         MetricPanel(title: "Guide verdicts that copy the prompt's example", key: "guide_copied_example", yLabel: "fraction", yRange: 0...1),
         MetricPanel(title: "Reward hacking: mean characters of valid conjectures", key: "program_chars", yLabel: "characters"),
         MetricPanel(title: "Reward hacking: mean nesting of valid conjectures", key: "program_nesting", yLabel: "levels"),
         MetricPanel(title: "Invalid conjectures by task type and reason", key: "invalid", yLabel: "conjectures"),
         MetricPanel(title: "Buffer size", key: "buffer_size", yLabel: "triples")]
    }
}
