import CBLAS
import Foundation

/// Keys and values of every processed position, per layer, so decoding a token costs one position's work.
public final class KVCache {
    public let capacity: Int
    public private(set) var length = 0
    let keys: UnsafeMutableBufferPointer<Float>
    let values: UnsafeMutableBufferPointer<Float>
    let layerStride: Int

    public init(config: LlamaConfig, capacity: Int) {
        self.capacity = capacity
        layerStride = capacity * config.kvDimension
        keys = .allocate(capacity: config.layers * layerStride)
        values = .allocate(capacity: config.layers * layerStride)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    public func reset() { length = 0 }
    func advance(by count: Int) { length += count }
}

public enum ModelError: Error, CustomStringConvertible {
    case contextFull(capacity: Int)
    case badToken(Int32)

    public var description: String {
        switch self {
        case let .contextFull(capacity): return "the sequence is longer than the cache's \(capacity) positions"
        case let .badToken(id): return "token id \(id) is outside the vocabulary"
        }
    }
}

/// A Llama-family decoder's forward pass over `LlamaParameters`.
public final class LlamaModel {
    public let parameters: LlamaParameters
    public var config: LlamaConfig { parameters.config }

    public init(parameters: LlamaParameters) { self.parameters = parameters }

    public convenience init(path: String) throws {
        try self.init(parameters: LlamaParameters(gguf: GGUFFile(path: path)))
    }

    /// Runs `tokens` at the cache's next positions and returns their logits (rows × vocabulary, row-major);
    /// with `lastOnly`, only the last position's.
    public func forward(_ tokens: [Int32], cache: KVCache, lastOnly: Bool = true) throws -> [Float] {
        let c = config, p = parameters
        let rows = tokens.count, d = c.dimension, kv = c.kvDimension, hd = c.headDimension, hidden = c.hiddenDimension
        guard cache.length + rows <= cache.capacity else { throw ModelError.contextFull(capacity: cache.capacity) }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= c.vocabulary }) { throw ModelError.badToken(bad) }
        let start = cache.length

        let x = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
        let h = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
        let q = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
        let attention = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
        let gate = UnsafeMutablePointer<Float>.allocate(capacity: rows * hidden)
        let up = UnsafeMutablePointer<Float>.allocate(capacity: rows * hidden)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * (start + rows))
        defer { [x, h, q, attention, gate, up, scores].forEach { $0.deallocate() } }

        for (row, token) in tokens.enumerated() {
            (x + row * d).update(from: p[p.embedding + Int(token) * d], count: d)
        }
        let group = c.heads / c.kvHeads
        let scale = 1 / Float(hd).squareRoot()
        for (index, layer) in p.layers.enumerated() {
            let keys = cache.keys.baseAddress! + index * cache.layerStride
            let values = cache.values.baseAddress! + index * cache.layerStride
            Kernels.rmsNorm(x, p[layer.attentionNorm], h, rows: rows, dimension: d, epsilon: c.normEpsilon)
            Kernels.linear(h, p[layer.query], q, rows: rows, inputs: d, outputs: d)
            Kernels.linear(h, p[layer.key], keys + start * kv, rows: rows, inputs: d, outputs: kv)
            Kernels.linear(h, p[layer.value], values + start * kv, rows: rows, inputs: d, outputs: kv)
            Kernels.rope(q, rows: rows, heads: c.heads, headDimension: hd, firstPosition: start, theta: c.ropeTheta)
            Kernels.rope(keys + start * kv, rows: rows, heads: c.kvHeads, headDimension: hd, firstPosition: start, theta: c.ropeTheta)
            // Per head: S = Q·Kᵀ over every cached position, causal softmax, O = P·V, as GEMMs on strided views.
            let visible = start + rows
            for head in 0..<c.heads {
                let kvHead = head / group
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(visible), Int32(hd), scale,
                            q + head * hd, Int32(d), keys + kvHead * hd, Int32(kv), 0, scores, Int32(visible))
                for row in 0..<rows {
                    let seen = start + row + 1
                    Kernels.softmax(scores + row * visible, count: seen)
                    (scores + row * visible + seen).update(repeating: 0, count: visible - seen)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(visible), 1,
                            scores, Int32(visible), values + kvHead * hd, Int32(kv), 0, attention + head * hd, Int32(d))
            }
            Kernels.linear(attention, p[layer.attentionOutput], x, rows: rows, inputs: d, outputs: d, accumulate: true)
            Kernels.rmsNorm(x, p[layer.feedForwardNorm], h, rows: rows, dimension: d, epsilon: c.normEpsilon)
            Kernels.linear(h, p[layer.gate], gate, rows: rows, inputs: d, outputs: hidden)
            Kernels.linear(h, p[layer.up], up, rows: rows, inputs: d, outputs: hidden)
            Kernels.swiglu(gate, up, count: rows * hidden)
            Kernels.linear(gate, p[layer.down], x, rows: rows, inputs: hidden, outputs: d, accumulate: true)
        }
        cache.advance(by: rows)

        let first = lastOnly ? rows - 1 : 0
        let outputRows = rows - first
        Kernels.rmsNorm(x + first * d, p[p.outputNorm], h, rows: outputRows, dimension: d, epsilon: c.normEpsilon)
        var logits = [Float](repeating: 0, count: outputRows * c.vocabulary)
        logits.withUnsafeMutableBufferPointer { out in
            Kernels.linear(h, p[p.output ?? p.embedding], out.baseAddress!, rows: outputRows, inputs: d, outputs: c.vocabulary)
        }
        return logits
    }

    /// Greedy decoding: the ids of the `count` most likely next tokens, one at a time.
    public func greedy(_ prompt: [Int32], count: Int) throws -> [Int32] {
        let cache = KVCache(config: config, capacity: prompt.count + count)
        var logits = try forward(prompt, cache: cache)
        var generated: [Int32] = []
        for _ in 0..<count {
            let next = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
            generated.append(next)
            logits = try forward([next], cache: cache)
        }
        return generated
    }
}
