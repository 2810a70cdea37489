import Foundation

/// Sampling continuations with their log-probabilities (the "old" log-probs PPO's ratio needs).
extension LlamaModel {
    /// Samples up to `count` tokens after `prompt`, stopping after `stop`; returns the tokens and each one's
    /// log-probability under the sampling policy (`Sampler.draw`: at the sampler's temperature).
    public func sample(prompt: [Int32], count: Int, sampler: inout Sampler, stop: Int32? = nil) throws -> (tokens: [Int32], logProbabilities: [Float]) {
        let cache = KVCache(config: config, capacity: prompt.count + count)
        var logits = try forward(prompt, cache: cache)
        var tokens: [Int32] = [], logProbabilities: [Float] = []
        for _ in 0..<count {
            let (next, logProbability) = logits.withUnsafeBufferPointer { sampler.draw($0) }
            tokens.append(next)
            logProbabilities.append(logProbability)
            if next == stop { break }
            logits = try forward([next], cache: cache)
        }
        return (tokens, logProbabilities)
    }

    /// log p(tokens[t+1] | tokens[...t]) for positions t = `from` ..< tokens.count − 1, by the inference path (no
    /// activations kept; the vocabulary projection runs only for those positions, a chunk of rows at a time).
    /// At `temperature` T the log-probabilities are log softmax(logits / T), the sampling policy's.
    public func logProbabilities(of tokens: [Int32], from first: Int = 0, temperature: Float = 1) throws -> [Float] {
        precondition(first >= 0 && first < tokens.count - 1, "at least one position")
        let buffers = ForwardBuffers()
        try forward(batch: [tokens], caches: [KVCache(config: config, capacity: tokens.count)], buffers: buffers, output: .hiddenStates)
        let p = parameters, d = config.dimension
        return OutputLoss.logProbabilities(hidden: buffers.h + first * d, targets: tokens[(first + 1)...], weight: p[p.output ?? p.embedding],
                                           vocabulary: config.vocabulary, dimension: d, temperature: temperature)
    }
}
