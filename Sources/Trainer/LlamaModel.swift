import CBLAS
import Foundation

/// What `LlamaModel.forward(batch:…)` leaves in its buffers.
public enum ForwardOutput: Sendable {
    /// Each sequence's last row's logits (what sampling needs).
    case lastLogits
    /// Every row's logits.
    case allLogits
    /// No logits: every row's final normed hidden state, in `ForwardBuffers.h` (for chunked projections).
    case hiddenStates
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
        let rows = try forward(batch: [tokens], caches: [cache], buffers: buffers, output: lastOnly ? .lastLogits : .allLogits)
        return Array(UnsafeBufferPointer(start: buffers.logits, count: rows * config.vocabulary))
    }

    /// Runs several sequences' new tokens, each at its own cache's next positions, as one batch of rows through
    /// the projections (one GEMM per weight matrix for the whole batch); attention reads each sequence's own
    /// cache (and the prefix it continues). Leaves in `buffers` what `output` asks for and returns how many rows
    /// of logits (or hidden states) it wrote.
    @discardableResult
    public func forward(batch: [[Int32]], caches: [KVCache], buffers b: ForwardBuffers, output: ForwardOutput = .lastLogits) throws -> Int {
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
        let outputRows = output == .lastLogits ? batch.count : rows
        // Score rows per sequence: the query heads sharing a K/V head when decoding one token, else a block of rows.
        let longest = zip(batch, caches).map { tokens, cache in
            (tokens.count == 1 ? c.heads / c.kvHeads : min(tokens.count, Self.attentionBlock)) * (cache.length + tokens.count)
        }.max()!
        b.reserve(config: c, rows: rows, outputRows: output == .hiddenStates ? 0 : outputRows, scores: longest, threads: threads)
        for (sequence, tokens) in batch.enumerated() {
            for (j, token) in tokens.enumerated() {
                (b.x + (firstRow[sequence] + j) * d).update(from: p[p.embedding + Int(token) * d], count: d)
            }
        }
        /// y (rows × outputs) (+)= x · wᵀ. A few rows (decoding) go through yᵀ = w · xᵀ, which OpenBLAS runs
        /// 15–50% faster than x · wᵀ at these shapes (it packs the small operand, not the weights), in slices of
        /// at most `transposedProductColumns` outputs (the vocabulary projection's full width runs slower), each
        /// transposed into place; long prefills use x · wᵀ directly; one row is a GEMV.
        func linear(_ x: UnsafePointer<Float>, _ offset: Int, _ y: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int,
                    accumulate: Bool = false) {
            guard rows > 1, rows <= Self.transposedProductRows else {
                return Kernels.linear(x, p[offset], y, rows: rows, inputs: inputs, outputs: outputs, accumulate: accumulate)
            }
            for first in stride(from: 0, to: outputs, by: Self.transposedProductColumns) {
                let count = min(Self.transposedProductColumns, outputs - first)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(rows), Int32(inputs), 1,
                            p[offset] + first * inputs, Int32(inputs), x, Int32(inputs), 0, b.transposed, Int32(rows))
                Kernels.transpose(b.transposed, rows: count, columns: rows, into: y + first, stride: outputs, accumulate: accumulate)
            }
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
                Kernels.rope(q, rows: count, heads: c.heads, firstPosition: start, table: rope, style: c.ropeStyle)
                Kernels.rope(b.k + row0 * kv, rows: count, heads: c.kvHeads, firstPosition: start, table: rope, style: c.ropeStyle)
                let own = cache.ownRow(layer: index, position: start)
                own.keys.update(from: b.k + row0 * kv, count: count * kv)
                own.values.update(from: b.v + row0 * kv, count: count * kv)
                let segments = cache.segments(layer: index, length: start + count)
                let scores = b.scores(worker: sequence % attentionThreads)
                if count == 1 {
                    // One new row: the `group` query heads that share a K/V head form a small matrix (rows hd apart),
                    // so S = Q_g·Kᵀ and O = P·V are GEMMs over each contiguous run of the cache.
                    let visible = start + 1
                    for kvHead in 0..<c.kvHeads {
                        let queries = q + kvHead * group * hd
                        for segment in segments {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(group), Int32(segment.count), Int32(hd), scale,
                                        queries, Int32(hd), segment.keys + kvHead * hd, Int32(kv), 0, scores + segment.first, Int32(visible))
                        }
                        for row in 0..<group { Kernels.softmax(scores + row * visible, count: visible) }
                        var beta: Float = 0
                        for segment in segments {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(group), Int32(hd), Int32(segment.count), 1,
                                        scores + segment.first, Int32(visible), segment.values + kvHead * hd, Int32(kv), beta,
                                        out + kvHead * group * hd, Int32(hd))
                            beta = 1
                        }
                    }
                } else {
                    // Per head and block of query rows: S = Q·Kᵀ over every visible position, causal softmax,
                    // O = P·V, as GEMMs on strided views, one pair per contiguous run of the cache.
                    for head in 0..<c.heads {
                        let kvHead = head / group
                        for first in stride(from: 0, to: count, by: Self.attentionBlock) {
                            let blockRows = min(Self.attentionBlock, count - first), visible = start + first + blockRows
                            for segment in segments where segment.first < visible {
                                let columns = min(segment.count, visible - segment.first)
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(blockRows), Int32(columns), Int32(hd), scale,
                                            q + first * d + head * hd, Int32(d), segment.keys + kvHead * hd, Int32(kv), 0,
                                            scores + segment.first, Int32(visible))
                            }
                            for row in 0..<blockRows {
                                let seen = start + first + row + 1, line = scores + row * visible
                                Kernels.softmax(line, count: seen)
                                (line + seen).update(repeating: 0, count: visible - seen)
                            }
                            var beta: Float = 0
                            for segment in segments where segment.first < visible {
                                let columns = min(segment.count, visible - segment.first)
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(blockRows), Int32(hd), Int32(columns), 1,
                                            scores + segment.first, Int32(visible), segment.values + kvHead * hd, Int32(kv), beta,
                                            out + first * d + head * hd, Int32(d))
                                beta = 1
                            }
                        }
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
        if output == .lastLogits {
            // Only each sequence's last row is projected onto the vocabulary.
            for (sequence, tokens) in batch.enumerated() {
                (b.attention + sequence * d).update(from: b.x + (firstRow[sequence] + tokens.count - 1) * d, count: d)
            }
            b.x.update(from: b.attention, count: outputRows * d)
        }
        Kernels.rmsNorm(b.x, p[p.outputNorm], b.h, rows: outputRows, dimension: d, epsilon: c.normEpsilon)
        if output != .hiddenStates {
            linear(b.h, p.output ?? p.embedding, b.logits, rows: outputRows, inputs: d, outputs: c.vocabulary)
        }
        return outputRows
    }

    /// Up to this many rows, projections run as yᵀ = w · xᵀ, in slices of at most this many outputs (see
    /// `linear` in `forward`).
    static let transposedProductRows = 48, transposedProductColumns = 4864

    /// Query rows per attention tile in a multi-row (prefill) forward pass: the score scratch is
    /// block × visible positions, not T².
    static let attentionBlock = 128

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
