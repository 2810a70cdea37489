import CBLAS
import Foundation

/// How much the objective weighs one scored position's log-probability and entropy, chosen from that position's
/// current log-probability (PPO's ratio and the KL estimate need it).
public struct TokenWeight: Sendable {
    public var logProbability: Float
    public var entropy: Float

    public init(logProbability: Float, entropy: Float = 0) {
        self.logProbability = logProbability
        self.entropy = entropy
    }
}

/// The output projection, log-softmax and objective J = Σₜ cₜ·log pₜ(targetₜ) + eₜ·Hₜ, fused and run in chunks of
/// rows: the logits of `chunkRows` positions exist at a time (never T × vocabulary), each chunk's gradient is
/// formed in place and sent back through the projection at once.
enum OutputLoss {
    static let chunkRows = 64

    struct Result {
        var objective: Double
        var logProbabilities: [Float]
        /// Empty unless some position had an entropy weight.
        var entropies: [Float]
    }

    /// Scratch floats for a vocabulary of `vocabulary`.
    static func scratchFloats(vocabulary: Int, rows: Int) -> Int { min(chunkRows, max(rows, 1)) * vocabulary }

    /// `hidden` (rows × d) are the final normed states of the scored positions, `targets` the tokens they predict.
    /// Adds dJ/dW to `weightGradient` and writes dJ/dhidden to `hiddenGradient`. `weight(r, log p)` is asked once
    /// per row, in order. At `temperature` T the distribution is softmax(logits / T) (the sampling policy's).
    static func forwardBackward(hidden: UnsafePointer<Float>, targets: ArraySlice<Int32>, weight w: UnsafePointer<Float>,
                                weightGradient: UnsafeMutablePointer<Float>, hiddenGradient: UnsafeMutablePointer<Float>,
                                vocabulary V: Int, dimension d: Int, scratch logits: UnsafeMutablePointer<Float>,
                                temperature: Float = 1,
                                weights: (Int, Float) throws -> TokenWeight) rethrows -> Result {
        let inverseTemperature = 1 / temperature
        let rows = targets.count
        var result = Result(objective: 0, logProbabilities: [Float](repeating: 0, count: rows), entropies: [])
        var entropies = [Float](repeating: 0, count: rows)
        var anyEntropy = false
        for first in stride(from: 0, to: rows, by: chunkRows) {
            let count = min(chunkRows, rows - first)
            Kernels.linear(hidden + first * d, w, logits, rows: count, inputs: d, outputs: V)
            if inverseTemperature != 1 { Kernels.scale(logits, count: count * V, by: inverseTemperature) }
            for r in 0..<count {
                let row = logits + r * V, target = Int(targets[targets.startIndex + first + r])
                let (logZ, H) = Kernels.logSumExpAndEntropy(row, count: V)
                let logP = row[target] - logZ
                result.logProbabilities[first + r] = logP
                entropies[first + r] = H
                let chosen = try weights(first + r, logP)
                let c = chosen.logProbability, e = chosen.entropy
                result.objective += Double(c) * Double(logP) + Double(e) * Double(H)
                // dJ/dlogit_i = c·(onehot − p_i) − e·p_i·(log p_i + H).
                if e == 0 {
                    VectorExp.expInPlace(row, count: V, shift: logZ, scale: -c)
                } else {
                    anyEntropy = true
                    for i in 0..<V {
                        let logPi = row[i] - logZ, p = expf(logPi)
                        row[i] = -c * p - e * p * (logPi + H)
                    }
                }
                row[target] += c
            }
            // z = logits / T: dJ/dlogits = dJ/dz / T.
            if inverseTemperature != 1 { Kernels.scale(logits, count: count * V, by: inverseTemperature) }
            Linear.backward(logits, x: hidden + first * d, weight: w, weightGradient: weightGradient,
                            into: hiddenGradient + first * d, accumulate: false, rows: count, inputs: d, outputs: V)
        }
        if anyEntropy { result.entropies = entropies }
        return result
    }

    /// log p(target) of each row, chunked, without gradients (the reference model's KL anchor).
    static func logProbabilities(hidden: UnsafePointer<Float>, targets: ArraySlice<Int32>, weight w: UnsafePointer<Float>,
                                 vocabulary V: Int, dimension d: Int, temperature: Float = 1) -> [Float] {
        let rows = targets.count
        var result = [Float](repeating: 0, count: rows)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats(vocabulary: V, rows: rows))
        defer { logits.deallocate() }
        for first in stride(from: 0, to: rows, by: chunkRows) {
            let count = min(chunkRows, rows - first)
            Kernels.linear(hidden + first * d, w, logits, rows: count, inputs: d, outputs: V)
            if temperature != 1 { Kernels.scale(logits, count: count * V, by: 1 / temperature) }
            for r in 0..<count {
                let row = UnsafeBufferPointer(start: logits + r * V, count: V)
                result[first + r] = row[Int(targets[targets.startIndex + first + r])] - Kernels.logSumExp(row)
            }
        }
        return result
    }
}
