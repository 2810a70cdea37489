/// Task-Relative REINFORCE++ baselines: every group (the gym uses task type × role) is whitened on its own,
/// so a hard task type's low rewards do not read as failure next to an easy type's.
public struct TRRAdvantages: AdvantageEstimator {
    public enum Weighting: String, Codable, Sendable {
        /// Mean and variance over all response tokens: a sequence's reward counts once per token (the reference).
        case tokens
        /// Mean and variance over sequences.
        case sequences
    }

    public var weighting: Weighting
    /// Added to the variance before the square root.
    public var epsilon: Double

    public init(weighting: Weighting = .tokens, epsilon: Double = 1e-8) {
        self.weighting = weighting
        self.epsilon = epsilon
    }

    /// One advantage per sample: (reward − group mean) / sqrt(group variance + ε), with the unbiased variance
    /// (n − 1), as the reference's masked whitening. A group of one sample, or of equal rewards, gets 0.
    public func advantages(rewards: [Double], groups: [String], lengths: [Int]) -> [Double] {
        precondition(rewards.count == groups.count && rewards.count == lengths.count)
        var members: [String: [Int]] = [:]
        for (index, group) in groups.enumerated() { members[group, default: []].append(index) }
        var result = [Double](repeating: 0, count: rewards.count)
        for indices in members.values {
            let weights = indices.map { weighting == .tokens ? Double(lengths[$0]) : 1 }
            let count = weights.reduce(0, +)
            guard count > 1 else { continue }
            let mean = zip(indices, weights).reduce(0) { $0 + rewards[$1.0] * $1.1 } / count
            let squares = zip(indices, weights).reduce(0) { $0 + (rewards[$1.0] - mean) * (rewards[$1.0] - mean) * $1.1 }
            let variance = squares / (count - 1)
            for index in indices { result[index] = (rewards[index] - mean) / (variance + epsilon).squareRoot() }
        }
        return result
    }
}
