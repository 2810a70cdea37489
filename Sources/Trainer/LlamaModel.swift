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
    /// Threads for our own loops over independent rows (attention over each sequence's cache, sampling);
    /// BLAS keeps its own setting (see `setBLASThreads`).
    public var threads = 1

    /// OpenBLAS's thread count, process-wide.
    public static func setBLASThreads(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
    let rope: RopeTable
    private lazy var transposed = TransposedWeights(count: parameters.count)

    public init(parameters: LlamaParameters) {
        self.parameters = parameters
        let c = parameters.config
        rope = RopeTable(theta: c.ropeTheta, headDimension: c.headDimension, positions: min(c.contextLength, 8192))
    }


    public convenience init(path: String) throws {
        try self.init(parameters: LlamaParameters(gguf: GGUFFile(path: path)))
    }

    /// Runs `tokens` at the cache's next positions and returns their logits (rows × vocabulary, row-major);
    /// with `lastOnly`, only the last position's.
    public func forward(_ tokens: [Int32], cache: KVCache, lastOnly: Bool = true) throws -> [Float] {
        let buffers = ForwardBuffers()
        let rows = try forward(batch: [tokens], caches: [cache], buffers: buffers, allLogits: !lastOnly)
        return Array(UnsafeBufferPointer(start: buffers.logits, count: rows * config.vocabulary))
    }

    /// Runs several sequences' new tokens, each at its own cache's next positions, as one batch of rows through
    /// the projections (one GEMM per weight matrix for the whole batch); attention reads each sequence's own
    /// cache. Leaves in `buffers.logits` either every row's logits (`allLogits`) or each sequence's last row's,
    /// and returns how many rows of logits it wrote.
    @discardableResult
    public func forward(batch: [[Int32]], caches: [KVCache], buffers b: ForwardBuffers, allLogits: Bool = false) throws -> Int {
        let c = config, p = parameters
        let d = c.dimension, kv = c.kvDimension, hd = c.headDimension, hidden = c.hiddenDimension
        precondition(batch.count == caches.count && !batch.isEmpty)
        for (tokens, cache) in zip(batch, caches) {
            guard !tokens.isEmpty else { preconditionFailure("every sequence needs a new token") }
            guard cache.length + tokens.count <= cache.capacity else { throw ModelError.contextFull(capacity: cache.capacity) }
            if let bad = tokens.first(where: { $0 < 0 || Int($0) >= c.vocabulary }) { throw ModelError.badToken(bad) }
        }
        var firstRow: [Int] = []
        var rows = 0
        for tokens in batch {
            firstRow.append(rows)
            rows += tokens.count
        }
        let outputRows = allLogits ? rows : batch.count
        let longest = zip(batch, caches).map { $0.count * ($1.length + $0.count) }.max()!
        b.reserve(config: c, rows: rows, outputRows: outputRows, scores: longest, threads: threads)
        for (sequence, tokens) in batch.enumerated() {
            for (j, token) in tokens.enumerated() {
                (b.x + (firstRow[sequence] + j) * d).update(from: p[p.embedding + Int(token) * d], count: d)
            }
        }
        transposed.refresh(from: p)
        let t = transposed
        /// y (rows × outputs) (+)= x · wᵀ, read from the transposed copy except for a single row (a GEMV).
        func linear(_ x: UnsafePointer<Float>, _ offset: Int, _ y: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int,
                    accumulate: Bool = false) {
            guard rows > 1 else {
                return Kernels.linear(x, p[offset], y, rows: rows, inputs: inputs, outputs: outputs, accumulate: accumulate)
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                        x, Int32(inputs), t[offset], Int32(outputs), accumulate ? 1 : 0, y, Int32(outputs))
        }
        let group = c.heads / c.kvHeads, scale = 1 / Float(hd).squareRoot()
        // Prefill attention is GEMMs, which BLAS threads itself; single new rows are split across our threads.
        let attentionThreads = batch.allSatisfy { $0.count == 1 } ? min(threads, batch.count) : 1
        for (index, layer) in p.layers.enumerated() {
            Kernels.rmsNorm(b.x, p[layer.attentionNorm], b.h, rows: rows, dimension: d, epsilon: c.normEpsilon)
            linear(b.h, layer.query, b.q, rows: rows, inputs: d, outputs: d)
            linear(b.h, layer.key, b.k, rows: rows, inputs: d, outputs: kv)
            linear(b.h, layer.value, b.v, rows: rows, inputs: d, outputs: kv)
            if let offset = layer.queryBias { Kernels.addBias(b.q, p[offset], rows: rows, count: d) }
            if let offset = layer.keyBias { Kernels.addBias(b.k, p[offset], rows: rows, count: kv) }
            if let offset = layer.valueBias { Kernels.addBias(b.v, p[offset], rows: rows, count: kv) }
            Self.parallelRows(batch.count, threads: attentionThreads) { sequence in
                let cache = caches[sequence], start = cache.length, count = batch[sequence].count, row0 = firstRow[sequence]
                let q = b.q + row0 * d, out = b.attention + row0 * d
                let keys = cache.keys.baseAddress! + index * cache.layerStride
                let values = cache.values.baseAddress! + index * cache.layerStride
                Kernels.rope(q, rows: count, heads: c.heads, firstPosition: start, table: rope, style: c.ropeStyle)
                Kernels.rope(b.k + row0 * kv, rows: count, heads: c.kvHeads, firstPosition: start, table: rope, style: c.ropeStyle)
                (keys + start * kv).update(from: b.k + row0 * kv, count: count * kv)
                (values + start * kv).update(from: b.v + row0 * kv, count: count * kv)
                let visible = start + count
                let scores = b.scores(worker: sequence % attentionThreads)
                if count == 1 {
                    // One new row: dot products over the cache (a GEMM of one row would repack K).
                    out.update(repeating: 0, count: d)
                    for head in 0..<c.heads {
                        let kvHead = head / group, query = q + head * hd, headOut = out + head * hd
                        for s in 0..<visible { scores[s] = Kernels.dot(query, keys + s * kv + kvHead * hd, count: hd) * scale }
                        Kernels.softmax(scores, count: visible)
                        for s in 0..<visible {
                            let weight = scores[s], value = values + s * kv + kvHead * hd
                            for i in 0..<hd { headOut[i] += weight * value[i] }
                        }
                    }
                } else {
                    // Per head: S = Q·Kᵀ over every cached position, causal softmax, O = P·V, as GEMMs on strided views.
                    for head in 0..<c.heads {
                        let kvHead = head / group
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(visible), Int32(hd), scale,
                                    q + head * hd, Int32(d), keys + kvHead * hd, Int32(kv), 0, scores, Int32(visible))
                        for row in 0..<count {
                            let seen = start + row + 1
                            Kernels.softmax(scores + row * visible, count: seen)
                            (scores + row * visible + seen).update(repeating: 0, count: visible - seen)
                        }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(hd), Int32(visible), 1,
                                    scores, Int32(visible), values + kvHead * hd, Int32(kv), 0, out + head * hd, Int32(d))
                    }
                }
            }
            linear(b.attention, layer.attentionOutput, b.x, rows: rows, inputs: d, outputs: d, accumulate: true)
            Kernels.rmsNorm(b.x, p[layer.feedForwardNorm], b.h, rows: rows, dimension: d, epsilon: c.normEpsilon)
            linear(b.h, layer.gate, b.gate, rows: rows, inputs: d, outputs: hidden)
            linear(b.h, layer.up, b.up, rows: rows, inputs: d, outputs: hidden)
            Kernels.swiglu(b.gate, b.up, count: rows * hidden)
            linear(b.gate, layer.down, b.x, rows: rows, inputs: hidden, outputs: d, accumulate: true)
        }
        for (cache, tokens) in zip(caches, batch) { cache.advance(by: tokens.count) }
        if !allLogits {
            // Only each sequence's last row is projected onto the vocabulary.
            for (sequence, tokens) in batch.enumerated() {
                (b.attention + sequence * d).update(from: b.x + (firstRow[sequence] + tokens.count - 1) * d, count: d)
            }
            b.x.update(from: b.attention, count: outputRows * d)
        }
        Kernels.rmsNorm(b.x, p[p.outputNorm], b.h, rows: outputRows, dimension: d, epsilon: c.normEpsilon)
        linear(b.h, p.output ?? p.embedding, b.logits, rows: outputRows, inputs: d, outputs: c.vocabulary)
        return outputRows
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
