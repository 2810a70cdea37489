import Foundation

/// Picks the next token from logits: greedy at temperature 0, otherwise temperature and nucleus (top-p)
/// sampling from a seeded generator, so a seed reproduces a sample.
public struct Sampler {
    public var temperature: Float
    public var topP: Float
    private var state: UInt64

    public init(temperature: Float, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        state = seed &+ 0x9E37_79B9_7F4A_7C15
    }

    /// A uniform draw in [0, 1) (SplitMix64).
    private mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }

    public mutating func next(_ logits: [Float]) -> Int32 {
        guard temperature > 0 else { return Int32(logits.indices.max { logits[$0] < logits[$1] }!) }
        let maximum = logits.max()!
        var probabilities = logits.map { Double(expf(($0 - maximum) / temperature)) }
        let total = probabilities.reduce(0, +)
        for i in probabilities.indices { probabilities[i] /= total }
        var candidates = Array(probabilities.indices)
        if topP < 1 {
            candidates.sort { probabilities[$0] > probabilities[$1] }
            var mass = 0.0, keep = 0
            while keep < candidates.count, mass < Double(topP) {
                mass += probabilities[candidates[keep]]
                keep += 1
            }
            candidates = Array(candidates.prefix(max(keep, 1)))
        }
        let mass = candidates.reduce(0.0) { $0 + probabilities[$1] }
        var draw = uniform() * mass
        for candidate in candidates {
            draw -= probabilities[candidate]
            if draw < 0 { return Int32(candidate) }
        }
        return Int32(candidates.last!)
    }
}
