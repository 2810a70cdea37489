import Foundation
import Sandbox
import Tasks
import Trainer

/// SOAR's settings ("Teaching Models to Teach Themselves: Reasoning at the Edge of Learnability"; seed 003).
public struct SOARSettings: Sendable, Equatable {
    /// Teacher batches per outer step; each trains its own student, and each batch's advantage is its gain
    /// minus the mean gain of the others (leave-one-out), so at least 2.
    public var teacherBatches = 3
    /// Problems the teacher writes per batch.
    public var batchSize = 4
    /// The task type the teacher writes (program and input; the sandbox gives the output).
    public var taskType = "deduction"
    /// The student's updates per inner loop, each on fresh attempts at the batch's valid problems.
    public var studentSteps = 2
    /// The student's attempts per problem per update.
    public var studentAttempts = 2
    /// Hard problems (of the reward part) drawn per outer step; every student of the step is measured on them.
    public var hardSample = 8
    /// Seeded samples per hard problem in each measurement (the same seeds before and after).
    public var hardSamples = 2
    /// After the teacher's update, the best student of the step is promoted (its change added to the shared
    /// weights) when its gain reaches `promoteGain`; `off`: every student is discarded.
    public var promotion = Promotion.best
    public var promoteGain = 0.1
    /// An invalid teacher problem gets AZR's format-aware penalty (−1 format error, −0.5 failed to run);
    /// false: it is left out of the teacher's update.
    public var invalidPenalty = true
    /// Every this many steps (0: never), the held-out hard problems are measured (scoring only).
    public var heldOutEvalEvery = 1
    /// Held-out problems in that measurement (0: all).
    public var heldOutEvalSize = 0
    public var temperature = 1.0
    public var rewards = RewardSettings()
    public var answerFormat = AnswerFormat.Mode.lenient

    public enum Promotion: String, Codable, Sendable, CaseIterable {
        case best
        case off
    }

    public init() {}

    /// Leave-one-out advantages of the batches' rewards: each minus the mean of the others.
    public static func leaveOneOut(_ rewards: [Double]) -> [Double] {
        guard rewards.count > 1 else { return rewards.map { _ in 0 } }
        let total = rewards.reduce(0, +)
        return rewards.map { $0 - (total - $0) / Double(rewards.count - 1) }
    }
}

/// SOAR in the code domain: a teacher and a student, both the shared model. Each outer step the teacher writes
/// `teacherBatches` batches of problems (program + input, run in the sandbox for the output; invalid ones count).
/// For each batch an inner loop trains a student — a copy of the current weights (`StudentLab`) — for a few
/// TRR updates on its own sandbox-judged attempts at the batch, and measures it on a sample of the hard set with
/// the same problems and sampling seeds as the teacher's weights were measured on before. The teacher's reward
/// for a batch is that measured difference (after − before); its advantage is leave-one-out over the step's
/// batches; the loop then updates the shared weights with the teacher's records only. The best student is
/// promoted after that update when its gain reaches `promote_gain`, else all are discarded. Held-out hard
/// problems are measured, never rewarded. A kill inside an inner loop resumes at the step's start, and seeded
/// sampling repeats it exactly.
public final class SOARGame: Game {
    public let play: SelfPlay
    public var settings: SOARSettings
    /// Candidates split by program, before screening.
    public let candidates: SGSTargets
    /// Selected before step 0 by screening (`prepare`), or read back from targets.json on resume.
    public internal(set) var hardSet: SOARHardSet?
    public let advantages: any AdvantageEstimator = GivenAdvantages()
    public var onPhase: ((String) -> Void)?
    public private(set) var stepNumber: Int
    /// The hard set's screening: problems and seeded samples per problem.
    let hardCount: Int, heldOutCount: Int, screenSamples: Int, screenLimit: Int
    let folder: URL?
    private var lab: StudentLab?

    public init(play: SelfPlay, settings: SOARSettings, candidates: SGSTargets, hardCount: Int, heldOutCount: Int,
                screenSamples: Int, screenLimit: Int, folder: URL?, step: Int) throws {
        guard play.registry[settings.taskType] != nil else {
            throw TrainingConfig.ConfigError.invalid("teacher_task_type \"\(settings.taskType)\" is not among this run's task_types (\(play.registry.names.joined(separator: ", ")))")
        }
        self.play = play
        self.settings = settings
        self.candidates = candidates
        self.hardCount = hardCount
        self.heldOutCount = heldOutCount
        self.screenSamples = screenSamples
        self.screenLimit = screenLimit
        self.folder = folder
        stepNumber = step
        if let folder, let recorded = try SGSTargets.recorded(in: folder) {
            hardSet = try SOARHardSet(recorded: recorded, candidates: candidates)
        }
    }

    public var generator: SeededGenerator {
        get { play.generator }
        set { play.generator = newValue }
    }

    public var buffers: [String: TaskBuffer] { play.buffers }

    public func attach(students: StudentLab) { lab = students }

    var attempts: SeededAttempts { SeededAttempts(registry: play.registry, temperature: settings.temperature, samples: settings.hardSamples) }

    public func prepare(policy: Policy) throws -> String? {
        let context = TaskContext(runner: play.runner, step: TrainingRun.seedingStep, format: settings.answerFormat)
        let screening = SeededAttempts(registry: play.registry, temperature: settings.temperature, samples: screenSamples)
        onPhase?("screening")
        let (set, screened) = try SOARHardSet.screen(candidates: candidates, count: hardCount, heldOutCount: heldOutCount,
                                                     limit: screenLimit, attempts: screening, policy: policy, context: context)
        guard !set.reward.isEmpty else {
            throw SGSTargets.TargetError.noTargets("the base model solved at least one of \(screenSamples) samples of each of the \(screened.reward) candidates screened: no hard problems (raise hard_screen_limit or lower hard_screen_samples)")
        }
        // Written whole or not at all; a kill during screening screens again, with the same seeds, and must find
        // the same set.
        if let folder { try set.selection.record(in: folder) }
        hardSet = set
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        var line = "hard set: \(count(set.reward.count, "problem")) for the teacher's reward (of \(screened.reward) screened) and \(set.heldOut.count) held out (of \(screened.heldOut)), none solved in \(count(screenSamples, "sample"))"
        if let lab { line += "; " + lab.costSummary }
        return line
    }

    /// One teacher batch within a step.
    struct Batch {
        var proposals: [Int] = []
        var valid: [Triple] = []
        var gain = 0.0
        var after = 0.0
        var studentUpdates = 0
        var studentSolveRate: Double?
    }

    public func step(policy: Policy) throws -> GameStep {
        guard let hardSet else { throw TrainingRun.RunError.stopped("SOAR has no hard set: its screening before step 0 did not run") }
        guard let lab else { throw TrainingRun.RunError.stopped("SOAR needs a student lab, which the training loop attaches") }
        let step = stepNumber
        let runner = play.runner
        let context = TaskContext(runner: runner, step: step, format: settings.answerFormat)
        let jobsBefore = runner.pool.jobCount
        var clock = StepClock()
        let type = settings.taskType

        // The teacher writes G batches of n problems.
        onPhase?("teaching")
        let (requests, references) = play.proposalRequests(for: [(type, settings.teacherBatches * settings.batchSize)],
                                                            scoringOnly: false, role: .teach)
        let written = try policy.completeTraced(requests)
        clock.lap("teach")
        onPhase?("validating")
        let outcomes = clock.inSandbox { play.validate(requests, written.map(\.text), references, context: context) }
        clock.lap("validate")
        var batches = [Batch](repeating: Batch(), count: settings.teacherBatches)
        var invalid: [String: Int] = [:], added = 0
        for (index, outcome) in outcomes.enumerated() {
            let b = index / settings.batchSize
            batches[b].proposals.append(index)
            switch outcome {
            case let .valid(triple):
                batches[b].valid.append(triple)
                if try play.buffers[type]!.add(triple) { added += 1 }
            case let .invalid(why):
                invalid[why.reason.rawValue, default: 0] += 1
            }
        }

        // The hard problems this step measures, and the teacher's weights on them (the students' "before").
        let sample = Array(hardSet.reward.shuffled(using: &play.generator).prefix(settings.hardSample))
        let label = "step \(step)"
        onPhase?("measuring")
        let beforeCounts = try attempts.successes(sample, label: label, policy: policy, context: context)
        let before = rate(beforeCounts)
        clock.lap("measure-before")

        // One inner loop per batch.
        var samples: [TrainingRun.SampleLine] = []
        var best: (batch: Int, gain: Double)?
        for b in batches.indices where !batches[b].valid.isEmpty {
            let student = try lab.begin()
            do {
                let after = try innerLoop(student, batch: batches[b], number: b, of: batches.count, sample: sample, label: label,
                                          step: step, context: context, samples: &samples, clock: &clock)
                batches[b].after = after.rate
                batches[b].gain = after.rate - before
                batches[b].studentUpdates = after.updates
                batches[b].studentSolveRate = after.solveRate
            } catch {
                // The run stops (state.json still names the last checkpoint), but not with a student's weights in place.
                student.end(keep: false)
                throw error
            }
            let promote = settings.promotion == .best && batches[b].gain >= settings.promoteGain && batches[b].gain > (best?.gain ?? -.infinity)
            if promote { best = (b, batches[b].gain) }
            student.end(keep: promote)
            clock.lap("student-end")
        }

        // The teacher's records: a valid problem takes its batch's leave-one-out advantage.
        let gains = batches.map(\.gain)
        let advantage = SOARSettings.leaveOneOut(gains)
        var records: [TrainingRecord] = []
        var shapes: [ProgramShape] = []
        for (b, batch) in batches.enumerated() {
            for index in batch.proposals {
                let reward: Double
                switch outcomes[index] {
                case let .valid(triple):
                    reward = advantage[b]
                    shapes.append(ProgramShape(triple.program))
                case let .invalid(why):
                    guard settings.invalidPenalty else {
                        samples.append(teacherLine(step, requests[index], written[index].text, 0, outcomes[index], batch: b, gain: nil))
                        continue
                    }
                    reward = settings.rewards.proposer(invalid: why.reason)
                }
                records.append(TrainingRecord(prompt: requests[index].prompt, completion: written[index].text, reward: reward,
                                              taskType: type, role: .teach, trace: written[index].trace))
                samples.append(teacherLine(step, requests[index], written[index].text, reward, outcomes[index], batch: b,
                                           gain: batch.gain))
            }
        }

        var metrics: GameMetrics = [:]
        metrics.set("teacher_reward", gains.reduce(0, +) / Double(gains.count))
        let trained = batches.filter { !$0.valid.isEmpty }
        metrics.set("student_gain", trained.isEmpty ? 0 : trained.map(\.gain).reduce(0, +) / Double(trained.count))
        metrics.set("student_gain_best", gains.max() ?? 0)
        // Per batch, the ones that trained a student (a batch without a valid problem has no student).
        metrics.set("student_gain_by_batch", Dictionary(uniqueKeysWithValues: batches.indices.filter { !batches[$0].valid.isEmpty }
            .map { ("batch \($0 + 1)", batches[$0].gain) }))
        metrics.set("batches_without_valid", Double(batches.count - trained.count))
        metrics.set("hard_success_rate", before)
        let solveRates = trained.compactMap(\.studentSolveRate)
        if !solveRates.isEmpty { metrics.set("student_solve_rate", solveRates.reduce(0, +) / Double(solveRates.count)) }
        metrics.set("promoted", best == nil ? 0 : 1)
        metrics.setRates("valid_rate", valid: [type: batches.map(\.valid.count).reduce(0, +)], of: [type: outcomes.count])
        metrics.set("invalid", [type: invalid])
        let programs = batches.flatMap(\.valid).map(\.program)
        if !programs.isEmpty {
            metrics.set("teacher_distinct", Double(Set(programs).count) / Double(programs.count))
            metrics.set("teacher_diversity", Self.diversity(programs))
            metrics.set("program_chars", Double(shapes.map(\.characters).reduce(0, +)) / Double(shapes.count))
        }
        metrics.set("buffer_size", play.buffers.mapValues(\.count))
        metrics.set("added", [type: added])
        if settings.heldOutEvalEvery > 0, (step + 1) % settings.heldOutEvalEvery == 0, !hardSet.heldOut.isEmpty {
            onPhase?("held-out")
            metrics.set("held_out_success_rate", try heldOutSuccessRate(policy: policy, context: context))
            clock.lap("held-out")
        }
        stepNumber += 1
        return GameStep(step: step, records: records, metrics: metrics, samples: samples, seconds: clock.seconds,
                        sandboxJobs: runner.pool.jobCount - jobsBefore, sandboxSeconds: clock.sandboxSeconds)
    }

    /// One student's inner loop on a batch: `studentSteps` rounds of attempts at the batch's valid problems, each
    /// judged and trained on (baseline: the mean of the problem's attempts), then the measurement on the step's
    /// hard sample with the step's seeds. The last round's attempts go to the samples log.
    func innerLoop(_ student: any Student, batch: Batch, number b: Int, of count: Int, sample: [Triple], label: String, step: Int,
                   context: TaskContext, samples: inout [TrainingRun.SampleLine], clock: inout StepClock)
        throws -> (rate: Double, updates: Int, solveRate: Double?) {
        let registry = play.registry
        var solved = 0, tried = 0, updates = 0
        for update in 0..<settings.studentSteps {
            onPhase?("student \(b + 1)/\(count) update \(update + 1)")
            let tasks = batch.valid.flatMap { task in Array(repeating: task, count: settings.studentAttempts) }
            let asks = tasks.map { task in
                PolicyRequest(prompt: registry[task.type]!.solverPrompt(for: task), role: .solve, taskType: task.type,
                              temperature: settings.temperature, stop: registry[task.type]!.solverStop)
            }
            let answers = try student.policy.completeTraced(asks)
            clock.lap("student-solve")
            let judged = clock.inSandbox {
                concurrentMap(tasks.indices) { registry[tasks[$0].type]!.check(completion: answers[$0].text, for: tasks[$0], context: context) }
            }
            let rewards = judged.map { settings.rewards.solver($0) }
            solved += judged.filter(\.isCorrect).count
            tried += judged.count
            let groups = tasks.map(\.problemKey)
            let advantage = GroupMeanAdvantages().advantages(rewards: rewards, groups: groups, lengths: rewards.map { _ in 1 })
            let records = tasks.indices.map { i in
                TrainingRecord(prompt: asks[i].prompt, completion: answers[i].text, reward: advantage[i], taskType: tasks[i].type,
                               role: .solve, trace: answers[i].trace, baseline: groups[i])
            }
            if update == settings.studentSteps - 1 {
                for i in tasks.indices {
                    var line = TrainingRun.SampleLine(step: step, role: "student", task_type: tasks[i].type, prompt: asks[i].prompt,
                                                      completion: answers[i].text, reward: rewards[i], task: tasks[i])
                    line.describe(judged[i])
                    line.detail = "batch \(b + 1), update \(update + 1)" + (line.detail.map { ": " + $0 } ?? "")
                    samples.append(line)
                }
            }
            if try student.learn(records) != nil { updates += 1 }
            clock.lap("student-update")
        }
        onPhase?("student \(b + 1)/\(count) measuring")
        let afterCounts = try attempts.successes(sample, label: label, policy: student.policy, context: context)
        clock.lap("measure-after")
        return (rate(afterCounts), updates, tried > 0 ? Double(solved) / Double(tried) : nil)
    }

    /// The success rate of the current weights on the held-out hard problems, with the same seeds every time
    /// (scoring only: never trained on, never a reward).
    func heldOutSuccessRate(policy: Policy, context: TaskContext) throws -> Double {
        guard let hardSet else { return 0 }
        let tasks = settings.heldOutEvalSize > 0 ? Array(hardSet.heldOut.prefix(settings.heldOutEvalSize)) : hardSet.heldOut
        return rate(try attempts.successes(tasks, label: "held-out", policy: policy, context: context))
    }

    private func rate(_ counts: [Int]) -> Double {
        counts.isEmpty ? 0 : Double(counts.reduce(0, +)) / Double(counts.count * settings.hardSamples)
    }

    private func teacherLine(_ step: Int, _ request: PolicyRequest, _ text: String, _ reward: Double, _ outcome: ProposalOutcome,
                             batch: Int, gain: Double?) -> TrainingRun.SampleLine {
        var line = TrainingRun.SampleLine(step: step, role: Role.teach.rawValue, task_type: request.taskType, prompt: request.prompt,
                                          completion: text, reward: reward)
        line.describe(outcome)
        line.detail = "batch \(batch + 1)" + (gain.map { String(format: ", student gain %+.3f", $0) } ?? "") + (line.detail.map { ": " + $0 } ?? "")
        return line
    }

    /// Mean pairwise Jaccard distance of the programs' token sets (0: all alike; 1: no token shared): the
    /// teacher's diversity, which intrinsic rewards tend to collapse.
    static func diversity(_ programs: [String]) -> Double {
        let sets = programs.map { program in
            Set(program.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init))
        }
        guard sets.count > 1 else { return 0 }
        var total = 0.0, pairs = 0
        for i in sets.indices {
            for j in sets.indices where j > i {
                let union = sets[i].union(sets[j]).count
                total += union == 0 ? 0 : 1 - Double(sets[i].intersection(sets[j]).count) / Double(union)
                pairs += 1
            }
        }
        return total / Double(pairs)
    }

    public func summary(_ metrics: GameMetrics) -> String {
        var line = String(format: "teacher reward %+.3f  hard %.2f", metrics.number("teacher_reward") ?? 0, metrics.number("hard_success_rate") ?? 0)
        line += "  valid [\(AZRGame.rates(metrics.numbers("valid_rate")))]"
        if metrics.number("promoted") == 1 { line += "  promoted" }
        if let heldOut = metrics.number("held_out_success_rate") { line += String(format: "  held-out %.2f", heldOut) }
        return line
    }

    public static var panels: [MetricPanel] {
        [MetricPanel(title: "Teacher reward: mean student gain on the hard sample", key: "teacher_reward", yLabel: "gain"),
         MetricPanel(title: "Best student's gain", key: "student_gain_best", yLabel: "gain"),
         MetricPanel(title: "Student gain per teacher batch", key: "student_gain_by_batch", yLabel: "gain"),
         MetricPanel(title: "Hard-set success rate of the shared weights (this step's sample)", key: "hard_success_rate",
                     yLabel: "success rate", yRange: 0...1),
         MetricPanel(title: "Held-out hard success rate", key: "held_out_success_rate", yLabel: "success rate", yRange: 0...1),
         MetricPanel(title: "Valid teacher problems", key: "valid_rate", yLabel: "valid rate", yRange: 0...1),
         MetricPanel(title: "Students' solve rate on the teacher's problems", key: "student_solve_rate", yLabel: "solve rate", yRange: 0...1),
         MetricPanel(title: "Teacher diversity (mean pairwise Jaccard distance)", key: "teacher_diversity", yLabel: "distance", yRange: 0...1),
         MetricPanel(title: "Distinct teacher programs", key: "teacher_distinct", yLabel: "fraction", yRange: 0...1),
         MetricPanel(title: "Student promoted", key: "promoted", yLabel: "promoted", yRange: 0...1),
         MetricPanel(title: "Invalid teacher problems by reason", key: "invalid", yLabel: "problems"),
         MetricPanel(title: "Mean characters of valid teacher problems", key: "program_chars", yLabel: "characters")]
    }
}
