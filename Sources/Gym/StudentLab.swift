import Foundation
import Trainer

/// What a game that trains throwaway students needs from the training loop (SOAR's inner loop): a student that
/// starts as the current shared weights, learns from records, answers prompts, and is then dropped or kept to be
/// promoted after the loop's own update. The loop attaches one to every game (`Game.attach(students:)`); games
/// that do not train students ignore it.
public protocol StudentLab: AnyObject {
    /// Starts a student from the current weights; one at a time, each ended by `Student.end(keep:)`.
    func begin() throws -> any Student
    /// After the loop's update of the shared weights: adds a kept student's change to them. True if one was kept.
    func promoteAfterUpdate() throws -> Bool
    /// One line on what a student costs (memory), for the run's log.
    var costSummary: String { get }
}

/// A student: answers through `policy`, learns from records whose `reward` is already its advantage.
public protocol Student: AnyObject {
    var policy: Policy { get }
    /// One update on `records` (advantages in `reward`); returns the gradient norm, nil when nothing was trained.
    @discardableResult
    func learn(_ records: [TrainingRecord]) throws -> Double?
    /// Ends the student; with `keep`, it is promoted after the loop's update (replacing one kept before).
    func end(keep: Bool)
}

/// The model's student lab: the student trains in place on the shared model's weights (`StudentTrainer`), samples
/// through the run's own `ModelPolicy`, and ends with the teacher's weights written back bit for bit.
public final class ModelStudentLab: StudentLab {
    public let trainer: TRRTrainer
    public let policy: ModelPolicy
    let learningRate: Float, weightDecay: Float, maxGradientNorm: Float?
    /// Allocated by the first student: a game that never begins one costs nothing.
    public private(set) lazy var students = StudentTrainer(trainer: trainer, learningRate: learningRate, weightDecay: weightDecay,
                                                           maxGradientNorm: maxGradientNorm)

    public init(trainer: TRRTrainer, policy: ModelPolicy, learningRate: Float, weightDecay: Float, maxGradientNorm: Float?) {
        self.trainer = trainer
        self.policy = policy
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.maxGradientNorm = maxGradientNorm
    }

    final class ModelStudent: Student {
        let lab: ModelStudentLab
        var ended = false
        init(lab: ModelStudentLab) { self.lab = lab }
        var policy: Policy { lab.policy }

        func learn(_ records: [TrainingRecord]) throws -> Double? {
            precondition(!ended, "the student has ended")
            let samples = records.compactMap { record -> PolicySample? in
                guard let trace = record.trace else { return nil }
                return PolicySample(prompt: trace.promptTokens, completion: trace.completionTokens, reward: record.reward,
                                    group: record.group, oldLogProbabilities: trace.logProbabilities,
                                    temperature: trace.temperature, weight: Float(record.weight))
            }
            guard samples.contains(where: { !$0.completion.isEmpty }) else { return nil }
            return Double(try lab.students.step(samples).gradientNorm)
        }

        func end(keep: Bool) {
            precondition(!ended, "the student has ended")
            ended = true
            lab.students.end(keep: keep)
        }
    }

    public func begin() throws -> any Student {
        started = true
        students.begin()
        return ModelStudent(lab: self)
    }

    public func promoteAfterUpdate() throws -> Bool {
        // No student begun: nothing allocated, nothing kept.
        guard started else { return false }
        return students.promote()
    }

    private var started = false

    public var costSummary: String {
        let parameters = trainer.model.parameters
        let range = StudentTrainer.blocks(of: parameters)
        let gb = Double(range.count * MemoryLayout<Float>.size) / 1e9
        return String(format: "student: trains %.0fM of %.0fM weights in place (the embedding and output matrix shared, frozen); "
                      + "its saved copy and AdamW moments take %.1f GB, reused by every inner loop, no second model",
                      Double(range.count) / 1e6, Double(parameters.count) / 1e6, 3 * gb)
    }
}
