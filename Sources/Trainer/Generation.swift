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

    /// log p(tokens[t+1] | tokens[...t]) for positions t = `from` ..< tokens.count − 1, by the inference path (no
    /// activations kept; the vocabulary projection runs only for those positions, a chunk of rows at a time).
    public func logProbabilities(of tokens: [Int32], from first: Int = 0) throws -> [Float] {
        precondition(first >= 0 && first < tokens.count - 1, "at least one position")
        let buffers = ForwardBuffers()
        try forward(batch: [tokens], caches: [KVCache(config: config, capacity: tokens.count)], buffers: buffers, output: .hiddenStates)
        let p = parameters, d = config.dimension
        return OutputLoss.logProbabilities(hidden: buffers.h + first * d, targets: tokens[(first + 1)...], weight: p[p.output ?? p.embedding],
                                           vocabulary: config.vocabulary, dimension: d)
    }
}
