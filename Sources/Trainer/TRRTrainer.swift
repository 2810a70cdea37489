import CBLAS
import Foundation

/// One sample to learn from: the trainer knows groups (the gym passes task type × role), never task types.
public struct PolicySample: Sendable {
    public var prompt: [Int32]
    public var completion: [Int32]
    public var reward: Double
    public var group: String
    /// Log-probabilities of the completion's tokens when it was sampled; nil means "the current model" (ratio 1).
    public var oldLogProbabilities: [Float]?
    /// The sampling temperature: the policy trained is softmax(logits / temperature), the one sampled from.
    public var temperature: Float
    /// Scales this sample's whole loss (policy term, KL and entropy): LSP's α_Ch on the challenger's samples.
    public var weight: Float

    public init(prompt: [Int32], completion: [Int32], reward: Double, group: String, oldLogProbabilities: [Float]? = nil,
                temperature: Float = 1, weight: Float = 1) {
        self.temperature = temperature > 0 ? temperature : 1
        self.weight = weight
        self.prompt = prompt
        self.completion = completion
        self.reward = reward
        self.group = group
        self.oldLogProbabilities = oldLogProbabilities
    }
}

/// TRR++: group-whitened advantages broadcast to every completion token, the PPO clipped surrogate averaged
/// per token, optionally an entropy bonus and a KL penalty to a frozen reference, one AdamW step. The
/// advantage rule is the game's (`advantages`): TRR++'s whitening by default, LSP's group mean as an option.
public final class TRRTrainer {
    public let model: LlamaModel
    public let optimizer: AdamW
    public var advantages: any AdvantageEstimator
    public var clip: Float
    /// Weight of the entropy bonus per token (the reference's optional 0.001); 0 disables it.
    public var entropyCoefficient: Float
    /// Weight of the per-token KL(current ‖ reference) penalty (k3 estimator); used only with a reference model.
    public var klCoefficient: Float
    /// A frozen copy of the starting weights, for the KL anchor (LSP); nil when no KL term is wanted.
    public let reference: LlamaModel?
    /// Sequences are processed this many at a time, each on its own thread with single-threaded BLAS, their
    /// gradients summed: attention, norms and the log-softmax then run in parallel too.
    public let threads: Int
    /// Most bytes one worker keeps for activations before it switches to recomputing each layer's activations in
    /// the backward pass (`TrainingWorkspace.recomputesLayers`): about a third more compute for long sequences,
    /// in exchange for memory that no longer grows with the number of layers.
    public var activationBudgetBytes = 2 << 30
    /// Whether the last step's workspaces recomputed layer activations (see `activationBudgetBytes`).
    public var recomputesLayers: Bool { workspaces.contains { $0?.recomputesLayers == true } }
    private var gradients: [LlamaGradients]
    private var workspaces: [TrainingWorkspace?]

    public struct Statistics: Sendable {
        public var loss: Double
        public var gradientNorm: Float
        public var tokens: Int
        public var clippedFraction: Double
        public var meanAdvantage: [String: Double]
        /// Mean per-token entropy of the completions (only when the entropy bonus is on).
        public var entropy: Double?
        /// Mean per-token KL estimate to the reference (only with a reference).
        public var kl: Double?
    }

    public init(model: LlamaModel, learningRate: Float, weightDecay: Float = 0.01, maxGradientNorm: Float? = 1,
                advantages: any AdvantageEstimator = TRRAdvantages(), clip: Float = 0.2, entropyCoefficient: Float = 0,
                reference: LlamaModel? = nil, klCoefficient: Float = 0, threads: Int = 1) {
        self.model = model
        self.advantages = advantages
        self.clip = clip
        self.entropyCoefficient = entropyCoefficient
        self.reference = reference
        self.klCoefficient = klCoefficient
        self.threads = max(1, threads)
        gradients = [LlamaGradients(like: model.parameters)]
        workspaces = [nil]
        optimizer = AdamW(parameterCount: model.parameters.count, learningRate: learningRate, weightDecay: weightDecay,
                          maxGradientNorm: maxGradientNorm)
    }

    /// Frees the per-worker gradients and activation workspaces (for a 0.5B model, 2 GB per worker and up to
    /// `activationBudgetBytes` each) until the next `step`, which allocates them again. For long evaluations
    /// between or after training steps; the optimizer's moments and the reference are kept.
    public func releaseWorkingMemory() {
        gradients = []
        workspaces = []
    }

    /// Per-sequence contributions, summed over a step.
    private struct Totals {
        var loss = 0.0, clipped = 0, entropy = 0.0, kl = 0.0
        mutating func add(_ other: Totals) {
            loss += other.loss
            clipped += other.clipped
            entropy += other.entropy
            kl += other.kl
        }
    }

    /// An update refused because its loss or gradient norm is NaN or infinite; the model and optimizer are
    /// left as they were before it.
    public struct NonFiniteUpdate: Error, CustomStringConvertible {
        public var loss: Double
        public var gradientNorm: Double
        public var description: String {
            "the update's loss is \(loss) and its gradient norm \(gradientNorm): not finite, so it was not applied"
        }
    }

    /// One TRR++ update over `samples`; throws `NonFiniteUpdate`, changing nothing, when the loss or the gradient
    /// is not finite.
    @discardableResult
    public func step(_ samples: [PolicySample]) throws -> Statistics {
        try step(samples, optimizer: optimizer, over: 0..<model.parameters.count)
    }

    /// One TRR++ update over `samples` of the parameters in `range` only (flat offsets), by `optimizer`, whose
    /// moments cover exactly that range: a student trained in place (`StudentTrainer`) updates its own slice with
    /// its own AdamW and reuses this trainer's gradient buffers and workspaces. Gradients outside `range` are
    /// computed and dropped. `estimator` replaces this trainer's advantage rule for the update.
    @discardableResult
    public func step(_ samples: [PolicySample], optimizer: AdamW, over range: Range<Int>,
                     estimator: (any AdvantageEstimator)? = nil) throws -> Statistics {
        precondition(range.lowerBound >= 0 && range.upperBound <= model.parameters.count)
        let usable = samples.filter { !$0.completion.isEmpty }
        let advantage = (estimator ?? advantages).advantages(rewards: usable.map(\.reward), groups: usable.map(\.group),
                                              lengths: usable.map(\.completion.count))
        let tokens = usable.reduce(0) { $0 + $1.completion.count }
        let workers = min(threads, max(usable.count, 1))
        while gradients.count < workers {
            gradients.append(LlamaGradients(like: model.parameters))
            workspaces.append(nil)
        }
        for worker in 0..<workers {
            gradients[worker].zero()
            let longest = stride(from: worker, to: usable.count, by: workers).map { usable[$0].prompt.count + usable[$0].completion.count }.max() ?? 0
            if (workspaces[worker]?.capacity ?? 0) < longest {
                workspaces[worker] = nil // release before allocating the larger one
                let recompute = TrainingWorkspace.needsRecomputation(config: model.config, capacity: longest,
                                                                     budgetBytes: activationBudgetBytes)
                workspaces[worker] = TrainingWorkspace(config: model.config, capacity: longest, recomputesLayers: recompute)
            }
        }
        var totals = [Totals](repeating: Totals(), count: workers)
        var failure: Error?
        let lock = NSLock()
        let run = { (worker: Int) in
            var local = Totals()
            do {
                for index in stride(from: worker, to: usable.count, by: workers) {
                    local.add(try self.accumulate(usable[index], advantage: Float(advantage[index]), tokens: tokens,
                                                  gradients: self.gradients[worker], workspace: self.workspaces[worker]!))
                }
            } catch {
                lock.lock(); failure = failure ?? error; lock.unlock()
            }
            lock.lock(); totals[worker] = local; lock.unlock()
        }
        if workers > 1 {
            openblas_set_num_threads(1)
            DispatchQueue.concurrentPerform(iterations: workers, execute: run)
            openblas_set_num_threads(Int32(threads))
            for worker in 1..<workers { gradients[0].add(gradients[worker]) }
        } else {
            run(0)
        }
        if let failure { throw failure }
        var sum = Totals()
        totals.forEach { sum.add($0) }
        // A NaN or infinite loss or gradient would poison every weight and both moments: nothing is applied.
        let parameters = UnsafeMutableBufferPointer(rebasing: model.parameters.storage[range])
        let gradient = UnsafeMutableBufferPointer(rebasing: gradients[0].storage[range])
        let norm = AdamW.norm(UnsafeBufferPointer(gradient))
        guard sum.loss.isFinite, norm.isFinite else { throw NonFiniteUpdate(loss: sum.loss, gradientNorm: Double(norm)) }
        optimizer.update(parameters: parameters, gradient: gradient, norm: norm)
        var byGroup: [String: [Double]] = [:]
        for (sample, a) in zip(usable, advantage) { byGroup[sample.group, default: []].append(a) }
        let perToken = { (value: Double) in tokens == 0 ? 0 : value / Double(tokens) }
        return Statistics(loss: sum.loss, gradientNorm: norm, tokens: tokens, clippedFraction: perToken(Double(sum.clipped)),
                          meanAdvantage: byGroup.mapValues { $0.reduce(0, +) / Double($0.count) },
                          entropy: entropyCoefficient > 0 ? perToken(sum.entropy) : nil,
                          kl: reference != nil && klCoefficient > 0 ? perToken(sum.kl) : nil)
    }

    /// One sequence: its loss terms and their gradient. The gradient accumulated is the loss's: for each completion
    /// token, d loss / d log p = −r·A/N where the unclipped PPO term is the minimum (0 where clipping holds it
    /// constant), + β(1 − e^(ref − log p))/N for the KL, and d loss / d H = −η/N for the entropy bonus; all of
    /// it times the sample's `weight`.
    private func accumulate(_ sample: PolicySample, advantage A: Float, tokens: Int, gradients: LlamaGradients,
                            workspace: TrainingWorkspace) throws -> Totals {
        let sequence = sample.prompt + sample.completion
        let first = sample.prompt.count - 1 // position predicting the first completion token
        // The sample's weight enters as a larger token count would: every term of its loss scales by it.
        let N = Float(tokens) / sample.weight
        var referenceLogProbabilities: [Float]?
        if let reference, klCoefficient > 0 {
            referenceLogProbabilities = try reference.logProbabilities(of: sequence, from: first, temperature: sample.temperature)
        }
        var totals = Totals()
        let entropyWeight = -entropyCoefficient / N
        let result = try model.accumulateGradient(tokens: sequence, scoredFrom: first, workspace: workspace, into: gradients,
                                                  temperature: sample.temperature) { j, current in
            let r = sample.oldLogProbabilities.map { expf(current - $0[j]) } ?? 1
            let unclipped = r * A, bounded = min(max(r, 1 - self.clip), 1 + self.clip) * A
            totals.loss -= Double(min(unclipped, bounded)) / Double(N)
            var weight: Float = 0
            if unclipped <= bounded { weight = -A * r / N } else { totals.clipped += 1 }
            if let referenceLogProbabilities {
                let difference = referenceLogProbabilities[j] - current
                let kl = expf(difference) - difference - 1
                totals.kl += Double(kl)
                totals.loss += Double(self.klCoefficient * kl / N)
                weight += self.klCoefficient * (1 - expf(difference)) / N
            }
            return TokenWeight(logProbability: weight, entropy: entropyWeight)
        }
        if entropyCoefficient > 0 {
            let sum = result.entropies.reduce(0.0) { $0 + Double($1) }
            totals.entropy += sum
            totals.loss -= Double(entropyCoefficient) * sum / Double(N)
        }
        return totals
    }
}
