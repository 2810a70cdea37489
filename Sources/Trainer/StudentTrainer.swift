import Foundation

/// A throwaway student trained in place on a model's own weights (SOAR's inner loop): `begin` saves the slice it
/// will change, `step` trains that slice with the student's own AdamW through the teacher's `TRRTrainer` (its
/// gradient buffers, activation workspaces and KL reference are reused, not copied), and `end` writes the saved
/// slice back bit for bit, so the teacher's weights are exactly as before. A student worth keeping is `keep`-ed and
/// its change added after the teacher's own update (`promote`).
///
/// The student trains the transformer blocks and the final norm; the token embedding and the output matrix stay
/// frozen and shared (for Qwen2.5-0.5B with its untied output, 272M of 630M weights). Its resident cost is one
/// saved copy of its slice and its AdamW moments, allocated once and reused by every inner loop, plus a second
/// copy only while a student waits to be promoted.
public final class StudentTrainer {
    public let trainer: TRRTrainer
    /// The flat offsets the student trains.
    public let range: Range<Int>
    public let optimizer: AdamW
    private let saved: UnsafeMutableBufferPointer<Float>
    private var kept: UnsafeMutableBufferPointer<Float>?
    public private(set) var isTraining = false
    /// A kept student waits for `promote`.
    public var hasKept: Bool { kept != nil }

    public init(trainer: TRRTrainer, learningRate: Float, weightDecay: Float = 0.01, maxGradientNorm: Float? = 1) {
        self.trainer = trainer
        let parameters = trainer.model.parameters
        range = Self.blocks(of: parameters)
        optimizer = AdamW(parameterCount: range.count, learningRate: learningRate, weightDecay: weightDecay,
                          maxGradientNorm: maxGradientNorm)
        saved = .allocate(capacity: range.count)
        saved.initialize(repeating: 0)
    }

    deinit {
        saved.deallocate()
        kept?.deallocate()
    }

    /// The transformer blocks and the final norm: contiguous in `LlamaParameters`' layout, between the
    /// embedding and the (untied) output matrix.
    public static func blocks(of parameters: LlamaParameters) -> Range<Int> {
        let start = parameters.layers.first?.attentionNorm ?? parameters.outputNorm
        return start..<(parameters.outputNorm + parameters.config.dimension)
    }

    /// Bytes the student holds besides the model: the saved slice and the two moments (and a kept student).
    public var residentBytes: Int { range.count * MemoryLayout<Float>.size * (kept == nil ? 3 : 4) }

    private var slice: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: trainer.model.parameters.storage[range])
    }

    /// Starts a student from the current weights: saves its slice and zeroes its optimizer.
    public func begin() {
        precondition(!isTraining, "a student is already training")
        _ = saved.update(fromContentsOf: slice)
        optimizer.reset()
        isTraining = true
    }

    /// One update of the student's slice over `samples`, whose rewards are already their advantages (the game
    /// that runs the inner loop computes them; the teacher's advantage rule is not applied).
    @discardableResult
    public func step(_ samples: [PolicySample]) throws -> TRRTrainer.Statistics {
        precondition(isTraining, "begin() first")
        return try trainer.step(samples, optimizer: optimizer, over: range, estimator: GivenAdvantages())
    }

    /// Ends the student: with `keep`, its weights are held for `promote` (replacing any kept before); the
    /// teacher's weights are written back either way.
    public func end(keep: Bool) {
        precondition(isTraining, "no student is training")
        if keep {
            if kept == nil {
                kept = .allocate(capacity: range.count)
                kept!.initialize(repeating: 0)
            }
            _ = kept!.update(fromContentsOf: slice)
        }
        _ = slice.update(fromContentsOf: saved)
        isTraining = false
    }

    /// Adds the kept student's change (its weights minus the teacher's at `begin`) to the current weights, which
    /// the teacher's update may have moved since, and frees it. Returns false when no student was kept.
    @discardableResult
    public func promote() -> Bool {
        precondition(!isTraining, "a student is still training")
        guard let kept else { return false }
        let weights = slice.baseAddress!, student = kept.baseAddress!, teacher = saved.baseAddress!
        for i in 0..<range.count { weights[i] += student[i] - teacher[i] }
        kept.deallocate()
        self.kept = nil
        return true
    }

    /// Drops a kept student without promoting it.
    public func discardKept() {
        kept?.deallocate()
        kept = nil
    }
}
