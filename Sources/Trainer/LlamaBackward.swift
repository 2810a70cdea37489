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
}

/// One layer's saved activations for the backward pass.
private struct LayerActivations {
    var input, normed1, rms1, query, key, value, probabilities, attention, middle, normed2, rms2, gate, up, activated: [Float]
}

extension LlamaModel {
    /// For one sequence, the objective J = Σₜ cₜ · log p(tokens[t+1] | tokens[...t]) and its gradient, added to
    /// `gradients`. `coefficients[t]` weighs the prediction made at position t (0 for prompt positions); a
    /// policy-gradient loss passes −advantage / tokens. Returns J and each position's log-probability.
    public func accumulateGradient(tokens: [Int32], coefficients: [Float], into gradients: LlamaGradients) throws
        -> (objective: Double, logProbabilities: [Float]) {
        let c = config, p = parameters
        let T = tokens.count, d = c.dimension, kv = c.kvDimension, hd = c.headDimension, hidden = c.hiddenDimension
        let V = c.vocabulary, heads = c.heads, group = c.heads / c.kvHeads
        precondition(coefficients.count == T - 1, "one coefficient per predicted token")
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= V }) { throw ModelError.badToken(bad) }
        let scale = 1 / Float(hd).squareRoot()

        // Forward, keeping what the backward pass needs.
        var x = [Float](repeating: 0, count: T * d)
        for (t, token) in tokens.enumerated() {
            for i in 0..<d { x[t * d + i] = p[p.embedding + Int(token) * d][i] }
        }
        var saved: [LayerActivations] = []
        for layer in p.layers {
            var a = LayerActivations(input: x, normed1: [], rms1: [], query: [], key: [], value: [], probabilities: [],
                                     attention: [], middle: [], normed2: [], rms2: [], gate: [], up: [], activated: [])
            (a.normed1, a.rms1) = Self.rmsForward(x, weight: p[layer.attentionNorm], rows: T, dimension: d, epsilon: c.normEpsilon)
            a.query = Self.linear(a.normed1, p[layer.query], rows: T, inputs: d, outputs: d)
            a.key = Self.linear(a.normed1, p[layer.key], rows: T, inputs: d, outputs: kv)
            a.value = Self.linear(a.normed1, p[layer.value], rows: T, inputs: d, outputs: kv)
            a.query.withUnsafeMutableBufferPointer { Kernels.rope($0.baseAddress!, rows: T, heads: heads, headDimension: hd, firstPosition: 0, theta: c.ropeTheta) }
            a.key.withUnsafeMutableBufferPointer { Kernels.rope($0.baseAddress!, rows: T, heads: c.kvHeads, headDimension: hd, firstPosition: 0, theta: c.ropeTheta) }
            a.probabilities = [Float](repeating: 0, count: heads * T * T)
            a.attention = [Float](repeating: 0, count: T * d)
            // Per head, S = Q·Kᵀ and O = P·V as GEMMs over strided views (heads share K/V in groups).
            a.query.withUnsafeBufferPointer { q in a.key.withUnsafeBufferPointer { k in a.value.withUnsafeBufferPointer { v in
                a.probabilities.withUnsafeMutableBufferPointer { probabilities in a.attention.withUnsafeMutableBufferPointer { out in
                    for head in 0..<heads {
                        let kvHead = head / group
                        let P = probabilities.baseAddress! + head * T * T
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(T), Int32(hd), scale,
                                    q.baseAddress! + head * hd, Int32(d), k.baseAddress! + kvHead * hd, Int32(kv), 0, P, Int32(T))
                        for t in 0..<T {
                            Kernels.softmax(P + t * T, count: t + 1)
                            (P + t * T + t + 1).update(repeating: 0, count: T - t - 1)
                        }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), 1,
                                    P, Int32(T), v.baseAddress! + kvHead * hd, Int32(kv), 0, out.baseAddress! + head * hd, Int32(d))
                    }
                }}
            }}}
            a.middle = x
            Self.linearAccumulate(a.attention, p[layer.attentionOutput], into: &a.middle, rows: T, inputs: d, outputs: d)
            (a.normed2, a.rms2) = Self.rmsForward(a.middle, weight: p[layer.feedForwardNorm], rows: T, dimension: d, epsilon: c.normEpsilon)
            a.gate = Self.linear(a.normed2, p[layer.gate], rows: T, inputs: d, outputs: hidden)
            a.up = Self.linear(a.normed2, p[layer.up], rows: T, inputs: d, outputs: hidden)
            a.activated = a.gate
            a.activated.withUnsafeMutableBufferPointer { g in a.up.withUnsafeBufferPointer { Kernels.swiglu(g.baseAddress!, $0.baseAddress!, count: T * hidden) } }
            x = a.middle
            Self.linearAccumulate(a.activated, p[layer.down], into: &x, rows: T, inputs: hidden, outputs: d)
            saved.append(a)
        }
        let (finalNormed, finalRMS) = Self.rmsForward(x, weight: p[p.outputNorm], rows: T, dimension: d, epsilon: c.normEpsilon)
        let outputWeights = p[p.output ?? p.embedding]
        var logits = Self.linear(finalNormed, outputWeights, rows: T, inputs: d, outputs: V)

        // Log-softmax, the objective, and d J / d logits = c · (onehot − softmax).
        var objective = 0.0
        var logProbabilities = [Float](repeating: 0, count: T - 1)
        for t in 0..<T {
            let row = t * V
            guard t < T - 1 else {
                for i in 0..<V { logits[row + i] = 0 }
                continue
            }
            let logSum = Kernels.logSumExp(logits[row..<row + V])
            let target = Int(tokens[t + 1])
            logProbabilities[t] = logits[row + target] - logSum
            objective += Double(coefficients[t]) * Double(logProbabilities[t])
            let weight = coefficients[t]
            for i in 0..<V { logits[row + i] = -weight * expf(logits[row + i] - logSum) }
            logits[row + target] += weight
        }
        let dLogits = logits

        // Output projection (tied: the gradient goes to the embedding too).
        var dx = Self.backLinear(dLogits, outputWeights, rows: T, inputs: d, outputs: V)
        Self.weightGradient(dLogits, finalNormed, into: gradients[p.output ?? p.embedding], rows: T, inputs: d, outputs: V)
        dx = Self.rmsBackward(dx, input: x, rms: finalRMS, weight: p[p.outputNorm], weightGradient: gradients[p.outputNorm],
                              rows: T, dimension: d)

        for (index, layer) in p.layers.enumerated().reversed() {
            let a = saved[index]
            // Feed-forward.
            let dActivated = Self.backLinear(dx, p[layer.down], rows: T, inputs: hidden, outputs: d)
            Self.weightGradient(dx, a.activated, into: gradients[layer.down], rows: T, inputs: hidden, outputs: d)
            var dGate = [Float](repeating: 0, count: T * hidden), dUp = [Float](repeating: 0, count: T * hidden)
            for i in 0..<T * hidden {
                let g = a.gate[i], sigmoid = 1 / (1 + expf(-g))
                dUp[i] = dActivated[i] * g * sigmoid
                dGate[i] = dActivated[i] * a.up[i] * sigmoid * (1 + g * (1 - sigmoid))
            }
            var dNormed2 = Self.backLinear(dGate, p[layer.gate], rows: T, inputs: d, outputs: hidden)
            Self.addBackLinear(dUp, p[layer.up], into: &dNormed2, rows: T, inputs: d, outputs: hidden)
            Self.weightGradient(dGate, a.normed2, into: gradients[layer.gate], rows: T, inputs: d, outputs: hidden)
            Self.weightGradient(dUp, a.normed2, into: gradients[layer.up], rows: T, inputs: d, outputs: hidden)
            let fromNorm2 = Self.rmsBackward(dNormed2, input: a.middle, rms: a.rms2, weight: p[layer.feedForwardNorm],
                                             weightGradient: gradients[layer.feedForwardNorm], rows: T, dimension: d)
            for i in 0..<T * d { dx[i] += fromNorm2[i] }

            // Attention.
            let dAttention = Self.backLinear(dx, p[layer.attentionOutput], rows: T, inputs: d, outputs: d)
            Self.weightGradient(dx, a.attention, into: gradients[layer.attentionOutput], rows: T, inputs: d, outputs: d)
            var dQuery = [Float](repeating: 0, count: T * d)
            var dKey = [Float](repeating: 0, count: T * kv), dValue = [Float](repeating: 0, count: T * kv)
            // Per head: dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = dS·K·scale, dK += dSᵀ·Q·scale.
            var dScores = [Float](repeating: 0, count: T * T)
            dAttention.withUnsafeBufferPointer { dO in a.probabilities.withUnsafeBufferPointer { probabilities in
                a.query.withUnsafeBufferPointer { q in a.key.withUnsafeBufferPointer { k in a.value.withUnsafeBufferPointer { v in
                    dQuery.withUnsafeMutableBufferPointer { dq in dKey.withUnsafeMutableBufferPointer { dk in dValue.withUnsafeMutableBufferPointer { dv in
                        dScores.withUnsafeMutableBufferPointer { dS in
                            for head in 0..<heads {
                                let kvHead = head / group
                                let P = probabilities.baseAddress! + head * T * T, dSp = dS.baseAddress!
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(T), Int32(hd), 1,
                                            dO.baseAddress! + head * hd, Int32(d), v.baseAddress! + kvHead * hd, Int32(kv), 0, dSp, Int32(T))
                                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), 1,
                                            P, Int32(T), dO.baseAddress! + head * hd, Int32(d), 1, dv.baseAddress! + kvHead * hd, Int32(kv))
                                for t in 0..<T {
                                    var weighted: Float = 0
                                    for s in 0...t { weighted += P[t * T + s] * dSp[t * T + s] }
                                    for s in 0...t { dSp[t * T + s] = P[t * T + s] * (dSp[t * T + s] - weighted) }
                                    (dSp + t * T + t + 1).update(repeating: 0, count: T - t - 1)
                                }
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), scale,
                                            dSp, Int32(T), k.baseAddress! + kvHead * hd, Int32(kv), 0, dq.baseAddress! + head * hd, Int32(d))
                                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(T), Int32(hd), Int32(T), scale,
                                            dSp, Int32(T), q.baseAddress! + head * hd, Int32(d), 1, dk.baseAddress! + kvHead * hd, Int32(kv))
                            }
                        }
                    }}}
                }}}
            }}
            // RoPE is a rotation: its backward rotates the gradient by the opposite angle.
            dQuery.withUnsafeMutableBufferPointer { Kernels.rope($0.baseAddress!, rows: T, heads: heads, headDimension: hd, firstPosition: 0, theta: c.ropeTheta, inverse: true) }
            dKey.withUnsafeMutableBufferPointer { Kernels.rope($0.baseAddress!, rows: T, heads: c.kvHeads, headDimension: hd, firstPosition: 0, theta: c.ropeTheta, inverse: true) }
            var dNormed1 = Self.backLinear(dQuery, p[layer.query], rows: T, inputs: d, outputs: d)
            Self.addBackLinear(dKey, p[layer.key], into: &dNormed1, rows: T, inputs: d, outputs: kv)
            Self.addBackLinear(dValue, p[layer.value], into: &dNormed1, rows: T, inputs: d, outputs: kv)
            Self.weightGradient(dQuery, a.normed1, into: gradients[layer.query], rows: T, inputs: d, outputs: d)
            Self.weightGradient(dKey, a.normed1, into: gradients[layer.key], rows: T, inputs: d, outputs: kv)
            Self.weightGradient(dValue, a.normed1, into: gradients[layer.value], rows: T, inputs: d, outputs: kv)
            let fromNorm1 = Self.rmsBackward(dNormed1, input: a.input, rms: a.rms1, weight: p[layer.attentionNorm],
                                             weightGradient: gradients[layer.attentionNorm], rows: T, dimension: d)
            for i in 0..<T * d { dx[i] += fromNorm1[i] }
        }
        for (t, token) in tokens.enumerated() {
            let row = gradients[p.embedding + Int(token) * d]
            for i in 0..<d { row[i] += dx[t * d + i] }
        }
        return (objective, logProbabilities)
    }

    // MARK: building blocks

    static func linear(_ x: [Float], _ w: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outputs)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { Kernels.linear(xs.baseAddress!, w, $0.baseAddress!, rows: rows, inputs: inputs, outputs: outputs) }
        }
        return y
    }

    static func linearAccumulate(_ x: [Float], _ w: UnsafePointer<Float>, into y: inout [Float], rows: Int, inputs: Int, outputs: Int) {
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer {
                Kernels.linear(xs.baseAddress!, w, $0.baseAddress!, rows: rows, inputs: inputs, outputs: outputs, accumulate: true)
            }
        }
    }

    /// dx (rows × inputs) = dy (rows × outputs) · w (outputs × inputs).
    static func backLinear(_ dy: [Float], _ w: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: rows * inputs)
        addBackLinear(dy, w, into: &dx, rows: rows, inputs: inputs, outputs: outputs)
        return dx
    }

    static func addBackLinear(_ dy: [Float], _ w: UnsafePointer<Float>, into dx: inout [Float], rows: Int, inputs: Int, outputs: Int) {
        dy.withUnsafeBufferPointer { g in
            dx.withUnsafeMutableBufferPointer {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inputs), Int32(outputs), 1,
                            g.baseAddress!, Int32(outputs), w, Int32(inputs), 1, $0.baseAddress!, Int32(inputs))
            }
        }
    }

    /// dw (outputs × inputs) += dyᵀ (outputs × rows) · x (rows × inputs).
    static func weightGradient(_ dy: [Float], _ x: [Float], into dw: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int) {
        dy.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xs in
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(rows), 1,
                            g.baseAddress!, Int32(outputs), xs.baseAddress!, Int32(inputs), 1, dw, Int32(inputs))
            }
        }
    }

    static func rmsForward(_ x: [Float], weight: UnsafePointer<Float>, rows: Int, dimension: Int, epsilon: Float) -> ([Float], [Float]) {
        var out = [Float](repeating: 0, count: x.count), inverse = [Float](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                inverse.withUnsafeMutableBufferPointer {
                    Kernels.rmsNorm(input.baseAddress!, weight, output.baseAddress!, rows: rows, dimension: dimension,
                                    epsilon: epsilon, inverseRMS: $0.baseAddress!)
                }
            }
        }
        return (out, inverse)
    }

    /// y = x · r · w with r = (mean(x²) + ε)^(−½): dw += Σ dy·x·r, dx = r·w·dy − x · r³/n · Σ(dy·w·x).
    static func rmsBackward(_ dy: [Float], input x: [Float], rms: [Float], weight: UnsafePointer<Float>,
                            weightGradient: UnsafeMutablePointer<Float>, rows: Int, dimension: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: x.count)
        for row in 0..<rows {
            let r = rms[row], base = row * dimension
            var dot: Float = 0
            for i in 0..<dimension {
                dot += dy[base + i] * weight[i] * x[base + i]
                weightGradient[i] += dy[base + i] * x[base + i] * r
            }
            let coefficient = r * r * r / Float(dimension) * dot
            for i in 0..<dimension { dx[base + i] = r * weight[i] * dy[base + i] - x[base + i] * coefficient }
        }
        return dx
    }
}
