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

/// What one sequence's training pass measured.
public struct SequenceGradient {
    /// J = Σₜ cₜ·log pₜ + Σₜ eₜ·Hₜ over the scored positions.
    public var objective: Double
    /// log p(tokens[t+1] | tokens[...t]) for each scored position t.
    public var logProbabilities: [Float]
    /// The entropy of each scored position's next-token distribution (only when some position weighs it).
    public var entropies: [Float]
}

extension LlamaModel {
    /// For one sequence, J = Σₜ cₜ · log p(tokens[t+1] | tokens[...t]) over every position, and its gradient added
    /// to `gradients`. Returns J and each position's log-probability.
    public func accumulateGradient(tokens: [Int32], coefficients: [Float], into gradients: LlamaGradients) throws
        -> (objective: Double, logProbabilities: [Float]) {
        precondition(coefficients.count == tokens.count - 1, "one coefficient per predicted token")
        let result = try accumulateGradient(tokens: tokens, scoredFrom: 0, into: gradients) { r, _ in TokenWeight(logProbability: coefficients[r]) }
        return (result.objective, result.logProbabilities)
    }

    /// The training pass over one sequence: the forward pass keeping what `workspace` keeps, then for each scored
    /// position (`scoredFrom ..< tokens.count − 1`, in order) `weight(index, log p)` chooses its weights from its
    /// current log-probability, and the backward pass adds dJ/dθ to `gradients`. The output projection runs
    /// only for scored positions, a chunk of rows at a time. At `temperature` T the policy is softmax(logits / T),
    /// the one the tokens were sampled from.
    public func accumulateGradient(tokens: [Int32], scoredFrom: Int, workspace: TrainingWorkspace? = nil,
                                   into gradients: LlamaGradients, temperature: Float = 1,
                                   weight: (Int, Float) throws -> TokenWeight) throws -> SequenceGradient {
        let c = config, p = parameters
        let T = tokens.count, d = c.dimension
        precondition(scoredFrom >= 0 && scoredFrom < T - 1, "at least one scored position")
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= c.vocabulary }) { throw ModelError.badToken(bad) }
        let w = (workspace?.capacity ?? 0) >= T ? workspace! : TrainingWorkspace(config: c, capacity: T)

        Embedding.forward(tokens, table: p[p.embedding], into: w.layers[0].input, dimension: d)
        for index in 0..<c.layers {
            layerForward(index, workspace: w, rows: T, writesOutput: true)
        }
        RMSNorm.forward(w.output, weight: p[p.outputNorm], into: w.finalNormed, inverseRMS: w.finalRMS, rows: T, dimension: d,
                        epsilon: c.normEpsilon)
        let outputWeights = p.output ?? p.embedding
        // Rows that predict nothing (before `scoredFrom`, and the last) get no gradient from the loss.
        w.dNormed.update(repeating: 0, count: scoredFrom * d)
        (w.dNormed + (T - 1) * d).update(repeating: 0, count: d)
        let loss = try OutputLoss.forwardBackward(
            hidden: w.finalNormed + scoredFrom * d, targets: tokens[(scoredFrom + 1)...], weight: p[outputWeights],
            weightGradient: gradients[outputWeights], hiddenGradient: w.dNormed + scoredFrom * d, vocabulary: c.vocabulary,
            dimension: d, scratch: w.logitScratch, temperature: temperature, weights: weight)
        RMSNorm.backward(w.dNormed, x: w.output, inverseRMS: w.finalRMS, weight: p[p.outputNorm],
                         weightGradient: gradients[p.outputNorm], into: w.dx, accumulate: false, rows: T, dimension: d)
        for index in (0..<c.layers).reversed() {
            if w.recomputesLayers { layerForward(index, workspace: w, rows: T, writesOutput: false) }
            layerBackward(index, workspace: w, gradients: gradients, rows: T)
        }
        Embedding.backward(w.dx, tokens: tokens, tableGradient: gradients[p.embedding], dimension: d)
        return SequenceGradient(objective: loss.objective, logProbabilities: loss.logProbabilities, entropies: loss.entropies)
    }

    private var attentionShape: (Int) -> CausalAttention.Shape {
        let c = config
        return { rows in CausalAttention.Shape(rows: rows, heads: c.heads, kvHeads: c.kvHeads, headDimension: c.headDimension) }
    }

    /// One decoder layer's forward pass, saving what its backward needs; `writesOutput` also writes the residual
    /// stream after the layer (the next layer's input), which a recomputation before the backward does not need.
    private func layerForward(_ index: Int, workspace w: TrainingWorkspace, rows T: Int, writesOutput: Bool) {
        let c = config, p = parameters, layer = p.layers[index], a = w.layers[index]
        let d = c.dimension, kv = c.kvDimension, hidden = c.hiddenDimension
        RMSNorm.forward(a.input, weight: p[layer.attentionNorm], into: a.normed1, inverseRMS: a.rms1, rows: T, dimension: d, epsilon: c.normEpsilon)
        Linear.forward(a.normed1, weight: p[layer.query], into: a.query, rows: T, inputs: d, outputs: d)
        Linear.forward(a.normed1, weight: p[layer.key], into: a.key, rows: T, inputs: d, outputs: kv)
        Linear.forward(a.normed1, weight: p[layer.value], into: a.value, rows: T, inputs: d, outputs: kv)
        if let offset = layer.queryBias { Bias.forward(a.query, bias: p[offset], rows: T, count: d) }
        if let offset = layer.keyBias { Bias.forward(a.key, bias: p[offset], rows: T, count: kv) }
        if let offset = layer.valueBias { Bias.forward(a.value, bias: p[offset], rows: T, count: kv) }
        Rope.forward(a.query, rows: T, heads: c.heads, firstPosition: 0, table: rope, style: c.ropeStyle)
        Rope.forward(a.key, rows: T, heads: c.kvHeads, firstPosition: 0, table: rope, style: c.ropeStyle)
        CausalAttention.forward(query: a.query, key: a.key, value: a.value, into: a.attention, logSumExp: a.logSumExp,
                                shape: attentionShape(T), scratch: w.attentionScratch)
        a.middle.update(from: a.input, count: T * d)
        Linear.forward(a.attention, weight: p[layer.attentionOutput], into: a.middle, rows: T, inputs: d, outputs: d, accumulate: true)
        RMSNorm.forward(a.middle, weight: p[layer.feedForwardNorm], into: a.normed2, inverseRMS: a.rms2, rows: T, dimension: d, epsilon: c.normEpsilon)
        Linear.forward(a.normed2, weight: p[layer.gate], into: a.gate, rows: T, inputs: d, outputs: hidden)
        Linear.forward(a.normed2, weight: p[layer.up], into: a.up, rows: T, inputs: d, outputs: hidden)
        SwiGLU.forward(gate: a.gate, up: a.up, into: a.activated, count: T * hidden)
        guard writesOutput else { return }
        let next = index + 1 < c.layers ? w.layers[index + 1].input : w.output
        next.update(from: a.middle, count: T * d)
        Linear.forward(a.activated, weight: p[layer.down], into: next, rows: T, inputs: hidden, outputs: d, accumulate: true)
    }

    /// One decoder layer's backward pass: `w.dx` holds dJ/d(layer output) on entry and dJ/d(layer input) on exit.
    private func layerBackward(_ index: Int, workspace w: TrainingWorkspace, gradients g: LlamaGradients, rows T: Int) {
        let c = config, p = parameters, layer = p.layers[index], a = w.layers[index]
        let d = c.dimension, kv = c.kvDimension, hidden = c.hiddenDimension
        // Feed-forward: out = middle + down(swiglu(gate(n2), up(n2))), n2 = rms(middle).
        Linear.backward(w.dx, x: a.activated, weight: p[layer.down], weightGradient: g[layer.down], into: w.dActivated,
                        accumulate: false, rows: T, inputs: hidden, outputs: d)
        SwiGLU.backward(w.dActivated, gate: a.gate, up: a.up, gateGradient: w.dGate, upGradient: w.dUp, count: T * hidden)
        Linear.backward(w.dGate, x: a.normed2, weight: p[layer.gate], weightGradient: g[layer.gate], into: w.dNormed,
                        accumulate: false, rows: T, inputs: d, outputs: hidden)
        Linear.backward(w.dUp, x: a.normed2, weight: p[layer.up], weightGradient: g[layer.up], into: w.dNormed,
                        accumulate: true, rows: T, inputs: d, outputs: hidden)
        RMSNorm.backward(w.dNormed, x: a.middle, inverseRMS: a.rms2, weight: p[layer.feedForwardNorm],
                         weightGradient: g[layer.feedForwardNorm], into: w.dx, accumulate: true, rows: T, dimension: d)
        // Attention: middle = input + o(attention(rope(q(n1)), rope(k(n1)), v(n1))), n1 = rms(input).
        Linear.backward(w.dx, x: a.attention, weight: p[layer.attentionOutput], weightGradient: g[layer.attentionOutput],
                        into: w.dAttention, accumulate: false, rows: T, inputs: d, outputs: d)
        w.dKey.update(repeating: 0, count: T * kv)
        w.dValue.update(repeating: 0, count: T * kv)
        CausalAttention.backward(w.dAttention, query: a.query, key: a.key, value: a.value, output: a.attention, logSumExp: a.logSumExp,
                                 queryGradient: w.dQuery, keyGradient: w.dKey, valueGradient: w.dValue, shape: attentionShape(T),
                                 scratch: w.attentionScratch)
        Rope.backward(w.dQuery, rows: T, heads: c.heads, firstPosition: 0, table: rope, style: c.ropeStyle)
        Rope.backward(w.dKey, rows: T, heads: c.kvHeads, firstPosition: 0, table: rope, style: c.ropeStyle)
        if let offset = layer.queryBias { Bias.backward(w.dQuery, biasGradient: g[offset], rows: T, count: d) }
        if let offset = layer.keyBias { Bias.backward(w.dKey, biasGradient: g[offset], rows: T, count: kv) }
        if let offset = layer.valueBias { Bias.backward(w.dValue, biasGradient: g[offset], rows: T, count: kv) }
        Linear.backward(w.dQuery, x: a.normed1, weight: p[layer.query], weightGradient: g[layer.query], into: w.dNormed,
                        accumulate: false, rows: T, inputs: d, outputs: d)
        Linear.backward(w.dKey, x: a.normed1, weight: p[layer.key], weightGradient: g[layer.key], into: w.dNormed,
                        accumulate: true, rows: T, inputs: d, outputs: kv)
        Linear.backward(w.dValue, x: a.normed1, weight: p[layer.value], weightGradient: g[layer.value], into: w.dNormed,
                        accumulate: true, rows: T, inputs: d, outputs: kv)
        RMSNorm.backward(w.dNormed, x: a.input, inverseRMS: a.rms1, weight: p[layer.attentionNorm],
                         weightGradient: g[layer.attentionNorm], into: w.dx, accumulate: true, rows: T, dimension: d)
    }
}
