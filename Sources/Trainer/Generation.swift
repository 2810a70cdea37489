import Foundation

/// Sampling continuations with their log-probabilities (the "old" log-probs PPO's ratio needs).
extension LlamaModel {
    /// Samples up to `count` tokens after `prompt`, stopping after `stop`; returns the tokens and each one's
    /// log-probability under the model at sampling time (before temperature).
    public func sample(prompt: [Int32], count: Int, sampler: inout Sampler, stop: Int32? = nil) throws -> (tokens: [Int32], logProbabilities: [Float]) {
        let cache = KVCache(config: config, capacity: prompt.count + count)
        var logits = try forward(prompt, cache: cache)
        var tokens: [Int32] = [], logProbabilities: [Float] = []
        for _ in 0..<count {
            let next = sampler.next(logits)
            let logSum = Kernels.logSumExp(logits[...])
            tokens.append(next)
            logProbabilities.append(logits[Int(next)] - logSum)
            if next == stop { break }
            logits = try forward([next], cache: cache)
        }
        return (tokens, logProbabilities)
    }

    /// log p(tokens[t+1] | tokens[...t]) for every position, by the inference path (no activations kept).
    public func logProbabilities(of tokens: [Int32]) throws -> [Float] {
        let vocabulary = config.vocabulary
        let logits = try forward(tokens, cache: KVCache(config: config, capacity: tokens.count), lastOnly: false)
        return (0..<tokens.count - 1).map { t in
            logits[t * vocabulary + Int(tokens[t + 1])] - Kernels.logSumExp(logits[t * vocabulary..<(t + 1) * vocabulary])
        }
    }
}
