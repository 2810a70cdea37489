import Foundation

/// Picks the next token from logits: greedy at temperature 0, otherwise temperature and nucleus (top-p)
/// sampling from a seeded generator, so a seed reproduces a sample.
public struct Sampler {
    public var temperature: Float
    public var topP: Float
    private var generator: SeededGenerator

    public init(temperature: Float, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        // One increment past the seed, as the sampler has always started, so a seed keeps its samples.
        generator = SeededGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
    }

    /// A uniform draw in [0, 1): the top 53 bits of the next SplitMix64 output.
    private mutating func uniform() -> Double {
        Double(generator.next() >> 11) / Double(1 << 53)
    }

    public mutating func next(_ logits: [Float]) -> Int32 {
        logits.withUnsafeBufferPointer { next($0) }
    }

    /// The next token and its log-probability under the policy it was sampled from: softmax(logits / T) at
    /// temperature T > 0 (top-p's truncation aside, as PPO implementations do), the plain softmax when greedy.
    /// The trainer recomputes log-probabilities at the same temperature, so PPO's ratio compares one policy with
    /// itself. At temperature 1 without top-p one exp pass and a partial second one suffice.
    public mutating func draw(_ logits: UnsafeBufferPointer<Float>) -> (token: Int32, logProbability: Float) {
        guard temperature == 1, topP >= 1 else {
            let token = next(logits)
            return (token, Self.logProbability(of: token, logits, temperature: temperature))
        }
        let base = logits.baseAddress!
        let maximum = VectorExp.maximum(base, count: logits.count)
        let total = VectorExp.sumExp(base, count: logits.count, shift: maximum)
        let logNormaliser = log(total) + maximum
        // Walk the cumulative mass a lane block at a time, then within the block that crosses the draw.
        var remaining = Float(uniform()) * total
        var i = 0
        let width = VectorExp.width
        while i + width <= logits.count {
            let block = VectorExp.exp(VectorExp.load(base + i) - VectorExp.Lanes(repeating: maximum)).sum()
            if remaining < block { break }
            remaining -= block
            i += width
        }
        while i < logits.count {
            remaining -= expf(logits[i] - maximum)
            if remaining < 0 { return (Int32(i), logits[i] - logNormaliser) }
            i += 1
        }
        let last = logits.indices.last { logits[$0] - maximum > -80 } ?? 0
        return (Int32(last), logits[last] - logNormaliser)
    }

    /// log softmax(logits / T)[token] (T ≤ 0: T = 1).
    public static func logProbability(of token: Int32, _ logits: UnsafeBufferPointer<Float>, temperature: Float) -> Float {
        guard temperature > 0, temperature != 1 else { return logits[Int(token)] - Kernels.logSumExp(logits) }
        let inverse = 1 / temperature, base = logits.baseAddress!
        let maximum = VectorExp.maximum(base, count: logits.count)
        let total = VectorExp.sumExp(base, count: logits.count, shift: maximum, scale: inverse)
        return (logits[Int(token)] - maximum) * inverse - log(total)
    }

    /// Without top-p this makes two passes and allocates nothing; top-p sorts the candidates.
    public mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var maximum = -Float.infinity, best = 0
        for i in 0..<logits.count where logits[i] > maximum {
            maximum = logits[i]
            best = i
        }
        guard temperature > 0 else { return Int32(best) }
        let inverseTemperature = 1 / temperature
        if topP >= 1 {
            var total = 0.0
            for value in logits { total += Double(expf((value - maximum) * inverseTemperature)) }
            var draw = uniform() * total
            for i in 0..<logits.count {
                draw -= Double(expf((logits[i] - maximum) * inverseTemperature))
                if draw < 0 { return Int32(i) }
            }
            return Int32(best)
        }
        var probabilities = logits.map { Double(expf(($0 - maximum) * inverseTemperature)) }
        let total = probabilities.reduce(0, +)
        for i in probabilities.indices { probabilities[i] /= total }
        var candidates = Array(probabilities.indices)
        candidates.sort { probabilities[$0] > probabilities[$1] }
        var mass = 0.0, keep = 0
        while keep < candidates.count, mass < Double(topP) {
            mass += probabilities[candidates[keep]]
            keep += 1
        }
        candidates = Array(candidates.prefix(max(keep, 1)))
        var draw = uniform() * mass
        for candidate in candidates {
            draw -= probabilities[candidate]
            if draw < 0 { return Int32(candidate) }
        }
        return Int32(candidates.last!)
    }
}
