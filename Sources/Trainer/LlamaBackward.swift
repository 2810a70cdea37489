import CBLAS
import Foundation

/// Gradients in the same flat layout as `LlamaParameters`, so one loop (AdamW) covers every tensor.
public final class LlamaGradients {
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(like parameters: LlamaParameters) {
        storage = .allocate(capacity: parameters.count)
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    public func zero() { storage.update(repeating: 0) }
    public subscript(offset: Int) -> UnsafeMutablePointer<Float> { storage.baseAddress! + offset }

    /// self += other, for gradients accumulated on separate threads.
    public func add(_ other: LlamaGradients) {
        precondition(other.storage.count == storage.count)
        let target = storage.baseAddress!, source = other.storage.baseAddress!
        for i in 0..<storage.count { target[i] += source[i] }
    }
}

/// How much the objective weighs each scored position's log-probability and entropy. Chosen after the forward
/// pass, from the current log-probabilities (PPO's ratio and a KL estimate need them).
public struct TokenWeights {
    public var logProbability: [Float]
    /// nil: no entropy term.
    public var entropy: [Float]?

    public init(logProbability: [Float], entropy: [Float]? = nil) {
        self.logProbability = logProbability
        self.entropy = entropy
    }
}

/// What one sequence's training pass measured.
public struct SequenceGradient {
    /// J = Σₜ cₜ·log pₜ + Σₜ eₜ·Hₜ over the scored positions.
    public var objective: Double
    /// log p(tokens[t+1] | tokens[...t]) for each scored position t.
    public var logProbabilities: [Float]
    /// The entropy of each scored position's next-token distribution (computed only when weighted).
    public var entropies: [Float]
}

extension LlamaModel {
    /// For one sequence, J = Σₜ cₜ · log p(tokens[t+1] | tokens[...t]) over every position, and its gradient added
    /// to `gradients`. Returns J and each position's log-probability.
    public func accumulateGradient(tokens: [Int32], coefficients: [Float], into gradients: LlamaGradients) throws
        -> (objective: Double, logProbabilities: [Float]) {
        precondition(coefficients.count == tokens.count - 1, "one coefficient per predicted token")
        let result = try accumulateGradient(tokens: tokens, scoredFrom: 0, into: gradients) { _ in TokenWeights(logProbability: coefficients) }
        return (result.objective, result.logProbabilities)
    }

    /// The training pass: forward keeping activations in `workspace`, then `weights` chooses each scored
    /// position's weights from the current log-probabilities (positions `scoredFrom ..< tokens.count − 1`;
    /// the output projection runs only for them), then the backward pass adds dJ/dθ to `gradients`.
    public func accumulateGradient(tokens: [Int32], scoredFrom: Int, workspace: TrainingWorkspace? = nil,
                                   into gradients: LlamaGradients,
                                   weights: ([Float]) throws -> TokenWeights) throws -> SequenceGradient {
        let c = config, p = parameters
        let T = tokens.count, d = c.dimension, kv = c.kvDimension, hd = c.headDimension, hidden = c.hiddenDimension
        let V = c.vocabulary, heads = c.heads, group = c.heads / c.kvHeads
        precondition(scoredFrom >= 0 && scoredFrom < T - 1, "at least one scored position")
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= V }) { throw ModelError.badToken(bad) }
        let w = (workspace?.capacity ?? 0) >= T ? workspace! : TrainingWorkspace(config: c, capacity: T)
        let scale = 1 / Float(hd).squareRoot()
        let scored = T - 1 - scoredFrom

        // Forward, keeping what the backward pass needs.
        for (t, token) in tokens.enumerated() {
            (w.layers[0].input + t * d).update(from: p[p.embedding + Int(token) * d], count: d)
        }
        for (index, layer) in p.layers.enumerated() {
            let a = w.layers[index]
            Kernels.rmsNorm(a.input, p[layer.attentionNorm], a.normed1, rows: T, dimension: d, epsilon: c.normEpsilon, inverseRMS: a.rms1)
            Kernels.linear(a.normed1, p[layer.query], a.query, rows: T, inputs: d, outputs: d)
            Kernels.linear(a.normed1, p[layer.key], a.key, rows: T, inputs: d, outputs: kv)
            Kernels.linear(a.normed1, p[layer.value], a.value, rows: T, inputs: d, outputs: kv)
            if let offset = layer.queryBias { Kernels.addBias(a.query, p[offset], rows: T, count: d) }
            if let offset = layer.keyBias { Kernels.addBias(a.key, p[offset], rows: T, count: kv) }
            if let offset = layer.valueBias { Kernels.addBias(a.value, p[offset], rows: T, count: kv) }
            Kernels.rope(a.query, rows: T, heads: heads, firstPosition: 0, table: rope, style: c.ropeStyle)
            Kernels.rope(a.key, rows: T, heads: c.kvHeads, firstPosition: 0, table: rope, style: c.ropeStyle)
            // Per head, S = Q·Kᵀ and O = P·V as GEMMs over strided views (heads share K/V in groups).
            for head in 0..<heads {
                let kvHead = head / group
                let P = a.probabilities + head * T * T
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(T), Int32(hd), scale,
                            a.query + head * hd, Int32(d), a.key + kvHead * hd, Int32(kv), 0, P, Int32(T))
                for t in 0..<T {
                    Kernels.softmax(P + t * T, count: t + 1)
                    (P + t * T + t + 1).update(repeating: 0, count: T - t - 1)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), 1,
                            P, Int32(T), a.value + kvHead * hd, Int32(kv), 0, a.attention + head * hd, Int32(d))
            }
            a.middle.update(from: a.input, count: T * d)
            Kernels.linear(a.attention, p[layer.attentionOutput], a.middle, rows: T, inputs: d, outputs: d, accumulate: true)
            Kernels.rmsNorm(a.middle, p[layer.feedForwardNorm], a.normed2, rows: T, dimension: d, epsilon: c.normEpsilon, inverseRMS: a.rms2)
            Kernels.linear(a.normed2, p[layer.gate], a.gate, rows: T, inputs: d, outputs: hidden)
            Kernels.linear(a.normed2, p[layer.up], a.up, rows: T, inputs: d, outputs: hidden)
            a.activated.update(from: a.gate, count: T * hidden)
            Kernels.swiglu(a.activated, a.up, count: T * hidden)
            let next = index + 1 < c.layers ? w.layers[index + 1].input : w.output
            next.update(from: a.middle, count: T * d)
            Kernels.linear(a.activated, p[layer.down], next, rows: T, inputs: hidden, outputs: d, accumulate: true)
        }
        Kernels.rmsNorm(w.output, p[p.outputNorm], w.finalNormed, rows: T, dimension: d, epsilon: c.normEpsilon, inverseRMS: w.finalRMS)
        let outputWeights = p[p.output ?? p.embedding]
        let scoredNormed = w.finalNormed + scoredFrom * d
        Kernels.linear(scoredNormed, outputWeights, w.logits, rows: scored, inputs: d, outputs: V)

        // Log-softmax of each scored row, then the weights, then d J / d logits in place:
        // c·(onehot − p) − e·p·(log p + H).
        var logNormalizers = [Float](repeating: 0, count: scored)
        var logProbabilities = [Float](repeating: 0, count: scored)
        var entropies = [Float](repeating: 0, count: scored)
        for r in 0..<scored {
            let row = w.logits + r * V
            (logNormalizers[r], entropies[r]) = Kernels.logSumExpAndEntropy(row, count: V)
            logProbabilities[r] = row[Int(tokens[scoredFrom + r + 1])] - logNormalizers[r]
        }
        let chosen = try weights(logProbabilities)
        precondition(chosen.logProbability.count == scored && (chosen.entropy?.count ?? scored) == scored, "one weight per scored position")
        var objective = 0.0
        for r in 0..<scored {
            let row = w.logits + r * V
            let weight = chosen.logProbability[r], entropyWeight = chosen.entropy?[r] ?? 0
            let logZ = logNormalizers[r], H = entropies[r]
            objective += Double(weight) * Double(logProbabilities[r]) + Double(entropyWeight) * Double(H)
            if entropyWeight == 0 {
                for i in 0..<V { row[i] = -weight * expf(row[i] - logZ) }
            } else {
                for i in 0..<V {
                    let logP = row[i] - logZ, probability = expf(logP)
                    row[i] = -weight * probability - entropyWeight * probability * (logP + H)
                }
            }
            row[Int(tokens[scoredFrom + r + 1])] += weight
        }

        // Output projection (tied: the gradient goes to the embedding too).
        w.dNormed.update(repeating: 0, count: T * d)
        backLinear(w.logits, outputWeights, into: w.dNormed + scoredFrom * d, rows: scored, inputs: d, outputs: V, accumulate: false)
        weightGradient(w.logits, scoredNormed, into: gradients[p.output ?? p.embedding], rows: scored, inputs: d, outputs: V)
        rmsBackward(w.dNormed, input: w.output, rms: w.finalRMS, weight: p[p.outputNorm], weightGradient: gradients[p.outputNorm],
                    into: w.dx, accumulate: false, rows: T, dimension: d)

        for (index, layer) in p.layers.enumerated().reversed() {
            let a = w.layers[index]
            // Feed-forward.
            backLinear(w.dx, p[layer.down], into: w.dActivated, rows: T, inputs: hidden, outputs: d, accumulate: false)
            weightGradient(w.dx, a.activated, into: gradients[layer.down], rows: T, inputs: hidden, outputs: d)
            for i in 0..<T * hidden {
                let g = a.gate[i], sigmoid = 1 / (1 + expf(-g)), upstream = w.dActivated[i]
                w.dUp[i] = upstream * g * sigmoid
                w.dGate[i] = upstream * a.up[i] * sigmoid * (1 + g * (1 - sigmoid))
            }
            backLinear(w.dGate, p[layer.gate], into: w.dNormed, rows: T, inputs: d, outputs: hidden, accumulate: false)
            backLinear(w.dUp, p[layer.up], into: w.dNormed, rows: T, inputs: d, outputs: hidden, accumulate: true)
            weightGradient(w.dGate, a.normed2, into: gradients[layer.gate], rows: T, inputs: d, outputs: hidden)
            weightGradient(w.dUp, a.normed2, into: gradients[layer.up], rows: T, inputs: d, outputs: hidden)
            rmsBackward(w.dNormed, input: a.middle, rms: a.rms2, weight: p[layer.feedForwardNorm],
                        weightGradient: gradients[layer.feedForwardNorm], into: w.dx, accumulate: true, rows: T, dimension: d)

            // Attention.
            backLinear(w.dx, p[layer.attentionOutput], into: w.dAttention, rows: T, inputs: d, outputs: d, accumulate: false)
            weightGradient(w.dx, a.attention, into: gradients[layer.attentionOutput], rows: T, inputs: d, outputs: d)
            w.dKey.update(repeating: 0, count: T * kv)
            w.dValue.update(repeating: 0, count: T * kv)
            // Per head: dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = dS·K·scale, dK += dSᵀ·Q·scale.
            let dS = w.dScores
            for head in 0..<heads {
                let kvHead = head / group
                let P = a.probabilities + head * T * T
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(T), Int32(hd), 1,
                            w.dAttention + head * hd, Int32(d), a.value + kvHead * hd, Int32(kv), 0, dS, Int32(T))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), 1,
                            P, Int32(T), w.dAttention + head * hd, Int32(d), 1, w.dValue + kvHead * hd, Int32(kv))
                for t in 0..<T {
                    let pRow = P + t * T, dRow = dS + t * T
                    let weighted = Kernels.dot(pRow, dRow, count: t + 1)
                    for s in 0...t { dRow[s] = pRow[s] * (dRow[s] - weighted) }
                    (dRow + t + 1).update(repeating: 0, count: T - t - 1)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), scale,
                            dS, Int32(T), a.key + kvHead * hd, Int32(kv), 0, w.dQuery + head * hd, Int32(d))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), scale,
                            dS, Int32(T), a.query + head * hd, Int32(d), 1, w.dKey + kvHead * hd, Int32(kv))
            }
            // RoPE is a rotation: its backward rotates the gradient by the opposite angle.
            Kernels.rope(w.dQuery, rows: T, heads: heads, firstPosition: 0, table: rope, style: c.ropeStyle, inverse: true)
            Kernels.rope(w.dKey, rows: T, heads: c.kvHeads, firstPosition: 0, table: rope, style: c.ropeStyle, inverse: true)
            if let offset = layer.queryBias { Kernels.sumRows(w.dQuery, into: gradients[offset], rows: T, count: d) }
            if let offset = layer.keyBias { Kernels.sumRows(w.dKey, into: gradients[offset], rows: T, count: kv) }
            if let offset = layer.valueBias { Kernels.sumRows(w.dValue, into: gradients[offset], rows: T, count: kv) }
            backLinear(w.dQuery, p[layer.query], into: w.dNormed, rows: T, inputs: d, outputs: d, accumulate: false)
            backLinear(w.dKey, p[layer.key], into: w.dNormed, rows: T, inputs: d, outputs: kv, accumulate: true)
            backLinear(w.dValue, p[layer.value], into: w.dNormed, rows: T, inputs: d, outputs: kv, accumulate: true)
            weightGradient(w.dQuery, a.normed1, into: gradients[layer.query], rows: T, inputs: d, outputs: d)
            weightGradient(w.dKey, a.normed1, into: gradients[layer.key], rows: T, inputs: d, outputs: kv)
            weightGradient(w.dValue, a.normed1, into: gradients[layer.value], rows: T, inputs: d, outputs: kv)
            rmsBackward(w.dNormed, input: a.input, rms: a.rms1, weight: p[layer.attentionNorm],
                        weightGradient: gradients[layer.attentionNorm], into: w.dx, accumulate: true, rows: T, dimension: d)
        }
        for (t, token) in tokens.enumerated() {
            let row = gradients[p.embedding + Int(token) * d], source = w.dx + t * d
            for i in 0..<d { row[i] += source[i] }
        }
        return SequenceGradient(objective: objective, logProbabilities: logProbabilities,
                                entropies: chosen.entropy == nil ? [] : entropies)
    }

    // MARK: building blocks

    /// dx (rows × inputs) (+)= dy (rows × outputs) · w (outputs × inputs).
    private func backLinear(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                            rows: Int, inputs: Int, outputs: Int, accumulate: Bool) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inputs), Int32(outputs), 1,
                    dy, Int32(outputs), w, Int32(inputs), accumulate ? 1 : 0, dx, Int32(inputs))
    }

    /// dw (outputs × inputs) += dyᵀ (outputs × rows) · x (rows × inputs).
    private func weightGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>,
                                rows: Int, inputs: Int, outputs: Int) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(rows), 1,
                    dy, Int32(outputs), x, Int32(inputs), 1, dw, Int32(inputs))
    }

    /// y = x · r · w with r = (mean(x²) + ε)^(−½): dw += Σ dy·x·r, dx (+)= r·w·dy − x · r³/n · Σ(dy·w·x).
    private func rmsBackward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, rms: UnsafePointer<Float>,
                             weight: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
                             into dx: UnsafeMutablePointer<Float>, accumulate: Bool, rows: Int, dimension: Int) {
        for row in 0..<rows {
            let r = rms[row], base = row * dimension
            let dyRow = dy + base, xRow = x + base, dxRow = dx + base
            var dot: Float = 0
            for i in 0..<dimension {
                dot += dyRow[i] * weight[i] * xRow[i]
                weightGradient[i] += dyRow[i] * xRow[i] * r
            }
            let coefficient = r * r * r / Float(dimension) * dot
            if accumulate {
                for i in 0..<dimension { dxRow[i] += r * weight[i] * dyRow[i] - xRow[i] * coefficient }
            } else {
                for i in 0..<dimension { dxRow[i] = r * weight[i] * dyRow[i] - xRow[i] * coefficient }
            }
        }
    }
}
