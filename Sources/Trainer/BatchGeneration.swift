import Foundation

/// One sequence's result from batched sampling.
public struct GeneratedSequence: Sendable {
    public var tokens: [Int32]
    public var logProbabilities: [Float]
}

extension LlamaModel {
    /// Samples continuations for many prompts of different lengths at once. Each decoding step runs the
    /// projections for every unfinished sequence as one GEMM; attention reads each sequence's own cache.
    /// Sequence i samples from its own generator (seed + i), so its result does not depend on the others.
    public func generate(prompts: [[Int32]], maxTokens: Int, temperature: Float, topP: Float = 1, seed: UInt64 = 0,
                         stop: Int32? = nil) throws -> [GeneratedSequence] {
        let caches = prompts.map { KVCache(config: config, capacity: $0.count + maxTokens) }
        var samplers = prompts.indices.map { Sampler(temperature: temperature, topP: topP, seed: seed &+ UInt64($0)) }
        var results = prompts.map { _ in GeneratedSequence(tokens: [], logProbabilities: []) }
        var logits = try zip(prompts, caches).map { try forward($0, cache: $1) }
        var active = Array(prompts.indices)
        for _ in 0..<maxTokens where !active.isEmpty {
            var next: [Int32] = []
            var stillActive: [Int] = []
            for (row, index) in active.enumerated() {
                let token = samplers[index].next(logits[row])
                let logSum = Kernels.logSumExp(logits[row][...])
                results[index].tokens.append(token)
                results[index].logProbabilities.append(logits[row][Int(token)] - logSum)
                if token != stop, results[index].tokens.count < maxTokens {
                    stillActive.append(index)
                    next.append(token)
                }
            }
            active = stillActive
            if active.isEmpty { break }
            logits = try decodeStep(next, caches: active.map { caches[$0] })
        }
        return results
    }

    /// One new token for each sequence, each at its own cache position; returns each row's logits.
    func decodeStep(_ tokens: [Int32], caches: [KVCache]) throws -> [[Float]] {
        let c = config, p = parameters
        let rows = tokens.count, d = c.dimension, kv = c.kvDimension, hd = c.headDimension, hidden = c.hiddenDimension
        for cache in caches where cache.length + 1 > cache.capacity { throw ModelError.contextFull(capacity: cache.capacity) }
        var x = [Float](repeating: 0, count: rows * d)
        for (row, token) in tokens.enumerated() {
            for i in 0..<d { x[row * d + i] = p[p.embedding + Int(token) * d][i] }
        }
        let group = c.heads / c.kvHeads, scale = 1 / Float(hd).squareRoot()
        let longest = caches.map(\.length).max()! + 1
        var scores = [Float](repeating: 0, count: longest)
        for (index, layer) in p.layers.enumerated() {
            let (h, _) = Self.rmsForward(x, weight: p[layer.attentionNorm], rows: rows, dimension: d, epsilon: c.normEpsilon)
            var q = Self.linear(h, p[layer.query], rows: rows, inputs: d, outputs: d)
            var k = Self.linear(h, p[layer.key], rows: rows, inputs: d, outputs: kv)
            let v = Self.linear(h, p[layer.value], rows: rows, inputs: d, outputs: kv)
            var attention = [Float](repeating: 0, count: rows * d)
            for (row, cache) in caches.enumerated() {
                let position = cache.length
                q.withUnsafeMutableBufferPointer { Kernels.rope($0.baseAddress! + row * d, rows: 1, heads: c.heads, headDimension: hd, firstPosition: position, theta: c.ropeTheta) }
                k.withUnsafeMutableBufferPointer { Kernels.rope($0.baseAddress! + row * kv, rows: 1, heads: c.kvHeads, headDimension: hd, firstPosition: position, theta: c.ropeTheta) }
                let keys = cache.keys.baseAddress! + index * cache.layerStride
                let values = cache.values.baseAddress! + index * cache.layerStride
                for i in 0..<kv {
                    keys[position * kv + i] = k[row * kv + i]
                    values[position * kv + i] = v[row * kv + i]
                }
                for head in 0..<c.heads {
                    let kvHead = head / group
                    for s in 0...position {
                        var dot: Float = 0
                        for i in 0..<hd { dot += q[row * d + head * hd + i] * keys[s * kv + kvHead * hd + i] }
                        scores[s] = dot * scale
                    }
                    scores.withUnsafeMutableBufferPointer { Kernels.softmax($0.baseAddress!, count: position + 1) }
                    for s in 0...position {
                        let weight = scores[s]
                        for i in 0..<hd { attention[row * d + head * hd + i] += weight * values[s * kv + kvHead * hd + i] }
                    }
                }
            }
            Self.linearAccumulate(attention, p[layer.attentionOutput], into: &x, rows: rows, inputs: d, outputs: d)
            let (h2, _) = Self.rmsForward(x, weight: p[layer.feedForwardNorm], rows: rows, dimension: d, epsilon: c.normEpsilon)
            var gate = Self.linear(h2, p[layer.gate], rows: rows, inputs: d, outputs: hidden)
            let up = Self.linear(h2, p[layer.up], rows: rows, inputs: d, outputs: hidden)
            gate.withUnsafeMutableBufferPointer { g in up.withUnsafeBufferPointer { Kernels.swiglu(g.baseAddress!, $0.baseAddress!, count: rows * hidden) } }
            Self.linearAccumulate(gate, p[layer.down], into: &x, rows: rows, inputs: hidden, outputs: d)
        }
        caches.forEach { $0.advance(by: 1) }
        let (final, _) = Self.rmsForward(x, weight: p[p.outputNorm], rows: rows, dimension: d, epsilon: c.normEpsilon)
        let logits = Self.linear(final, p[p.output ?? p.embedding], rows: rows, inputs: d, outputs: c.vocabulary)
        return (0..<rows).map { Array(logits[$0 * c.vocabulary..<($0 + 1) * c.vocabulary]) }
    }
}
