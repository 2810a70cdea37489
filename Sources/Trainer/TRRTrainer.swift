import Foundation

/// One sample to learn from: the trainer knows groups (the gym passes task type × role), never task types.
public struct PolicySample: Sendable {
    public var prompt: [Int32]
    public var completion: [Int32]
    public var reward: Double
    public var group: String
    /// Log-probabilities of the completion's tokens when it was sampled; nil means "the current model" (ratio 1).
    public var oldLogProbabilities: [Float]?

    public init(prompt: [Int32], completion: [Int32], reward: Double, group: String, oldLogProbabilities: [Float]? = nil) {
        self.prompt = prompt
        self.completion = completion
        self.reward = reward
        self.group = group
        self.oldLogProbabilities = oldLogProbabilities
    }
}

/// TRR++: group-whitened advantages broadcast to every completion token, the PPO clipped surrogate averaged
/// per token, one AdamW step.
public final class TRRTrainer {
    public let model: LlamaModel
    public let optimizer: AdamW
    public var advantages: TRRAdvantages
    public var clip: Float
    let gradients: LlamaGradients

    public struct Statistics: Sendable {
        public var loss: Double
        public var gradientNorm: Float
        public var tokens: Int
        public var clippedFraction: Double
        public var meanAdvantage: [String: Double]
    }

    public init(model: LlamaModel, learningRate: Float, weightDecay: Float = 0.01, maxGradientNorm: Float? = 1,
                advantages: TRRAdvantages = TRRAdvantages(), clip: Float = 0.2) {
        self.model = model
        self.advantages = advantages
        self.clip = clip
        gradients = LlamaGradients(like: model.parameters)
        optimizer = AdamW(parameterCount: model.parameters.count, learningRate: learningRate, weightDecay: weightDecay,
                          maxGradientNorm: maxGradientNorm)
    }

    @discardableResult
    public func step(_ samples: [PolicySample]) throws -> Statistics {
        let usable = samples.filter { !$0.completion.isEmpty }
        let advantage = advantages.advantages(rewards: usable.map(\.reward), groups: usable.map(\.group),
                                              lengths: usable.map(\.completion.count))
        let tokens = usable.reduce(0) { $0 + $1.completion.count }
        gradients.zero()
        var loss = 0.0, clipped = 0
        for (sample, a) in zip(usable, advantage) {
            let sequence = sample.prompt + sample.completion
            let first = sample.prompt.count - 1 // position predicting the first completion token
            // With old log-probs, the ratio needs the current ones first; d(−min(rA, clip(r)A))/d log p is −rA
            // where the unclipped term is the minimum and 0 where clipping holds it constant.
            var ratios = [Float](repeating: 1, count: sample.completion.count)
            if let old = sample.oldLogProbabilities {
                let current = try model.logProbabilities(of: sequence)
                for j in ratios.indices { ratios[j] = expf(current[first + j] - old[j]) }
            }
            var coefficients = [Float](repeating: 0, count: sequence.count - 1)
            for j in ratios.indices {
                let r = ratios[j], A = Float(a)
                let unclipped = r * A, bounded = min(max(r, 1 - clip), 1 + clip) * A
                loss -= Double(min(unclipped, bounded)) / Double(tokens)
                if unclipped <= bounded { coefficients[first + j] = -A * r / Float(tokens) } else { clipped += 1 }
            }
            _ = try model.accumulateGradient(tokens: sequence, coefficients: coefficients, into: gradients)
        }
        // accumulateGradient adds dJ/dθ for J = Σ c·log p, and c was chosen so that J's gradient is the loss's.
        let norm = optimizer.update(parameters: model.parameters.storage, gradient: gradients.storage)
        var byGroup: [String: [Double]] = [:]
        for (sample, a) in zip(usable, advantage) { byGroup[sample.group, default: []].append(a) }
        return Statistics(loss: loss, gradientNorm: norm, tokens: tokens,
                          clippedFraction: tokens == 0 ? 0 : Double(clipped) / Double(tokens),
                          meanAdvantage: byGroup.mapValues { $0.reduce(0, +) / Double($0.count) })
    }
}
