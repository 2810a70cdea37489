import Foundation

/// One sequence's result from batched sampling.
public struct GeneratedSequence: Sendable {
    public var tokens: [Int32]
    public var logProbabilities: [Float]
}

extension LlamaModel {
    /// Samples continuations for many prompts of different lengths at once. The prompts are prefilled as one
    /// batch, then each decoding step runs the projections for every unfinished sequence as one GEMM.
    /// Sequence i samples from its own generator (seed + i), so its result does not depend on the others.
    ///
    /// `stopWhen(index, tokens)` is asked after every token of prompt `index` whether that sequence is done (for
    /// stop strings); `progress(tokens)` hears the running total of generated tokens after every decode step.
    public func generate(prompts: [[Int32]], maxTokens: Int, temperature: Float, topP: Float = 1, seed: UInt64 = 0,
                         stop: Int32? = nil, stopWhen: ((Int, [Int32]) -> Bool)? = nil,
                         progress: ((Int) -> Void)? = nil) throws -> [GeneratedSequence] {
        guard !prompts.isEmpty else { return [] }
        let caches = prompts.map { KVCache(config: config, capacity: $0.count + maxTokens) }
        var samplers = prompts.indices.map { Sampler(temperature: temperature, topP: topP, seed: seed &+ UInt64($0)) }
        var results = prompts.map { _ in GeneratedSequence(tokens: [], logProbabilities: []) }
        let buffers = ForwardBuffers()
        let V = config.vocabulary
        try forward(batch: prompts, caches: caches, buffers: buffers)
        var active = Array(prompts.indices)
        var drawn = [(Int32, Float)](repeating: (0, 0), count: prompts.count)
        var total = 0
        for _ in 0..<maxTokens where !active.isEmpty {
            var next: [Int32] = []
            var stillActive: [Int] = []
            samplers.withUnsafeMutableBufferPointer { samplers in
                drawn.withUnsafeMutableBufferPointer { drawn in
                    Self.parallelRows(active.count, threads: threads) { row in
                        let logits = UnsafeBufferPointer(start: buffers.logits + row * V, count: V)
                        drawn[row] = samplers[active[row]].draw(logits)
                    }
                }
            }
            for (row, index) in active.enumerated() {
                let (token, logProbability) = drawn[row]
                results[index].tokens.append(token)
                results[index].logProbabilities.append(logProbability)
                total += 1
                if token != stop, results[index].tokens.count < maxTokens, !(stopWhen?(index, results[index].tokens) ?? false) {
                    stillActive.append(index)
                    next.append(token)
                }
            }
            active = stillActive
            progress?(total)
            if active.isEmpty { break }
            try forward(batch: next.map { [$0] }, caches: active.map { caches[$0] }, buffers: buffers)
        }
        return results
    }

    /// Runs `body` for rows 0..<count on `threads` concurrent workers, worker w taking rows w, w + threads, ….
    static func parallelRows(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        let workers = min(threads, count)
        guard workers > 1 else {
            for row in 0..<count { body(row) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for row in stride(from: worker, to: count, by: workers) { body(row) }
        }
    }
}

/// Scratch for `forward(batch:)`, kept across calls so decoding allocates nothing per token; grows on demand.
public final class ForwardBuffers {
    private(set) var x, h, q, k, v, attention, gate, up, logits: UnsafeMutablePointer<Float>
    private var scoreBlocks: UnsafeMutablePointer<Float>
    private var storage: UnsafeMutableBufferPointer<Float>
    private var capacity = (rows: 0, outputRows: 0, scores: 0, workers: 0)

    public init() {
        storage = .allocate(capacity: 1)
        let base = storage.baseAddress!
        (x, h, q, k, v, attention, gate, up, logits, scoreBlocks) = (base, base, base, base, base, base, base, base, base, base)
    }

    deinit { storage.deallocate() }

    /// Room for `scores` floats per worker.
    func scores(worker: Int) -> UnsafeMutablePointer<Float> { scoreBlocks + worker * capacity.scores }

    func reserve(config c: LlamaConfig, rows: Int, outputRows: Int, scores: Int, threads: Int) {
        let workers = max(1, threads)
        guard rows > capacity.rows || outputRows > capacity.outputRows || scores > capacity.scores || workers > capacity.workers else { return }
        capacity = (max(rows, capacity.rows), max(outputRows, capacity.outputRows), max(scores, capacity.scores), max(workers, capacity.workers))
        let d = c.dimension, kv = c.kvDimension, hidden = c.hiddenDimension, n = capacity.rows
        storage.deallocate()
        storage = .allocate(capacity: n * (4 * d + 2 * kv + 2 * hidden) + capacity.outputRows * c.vocabulary + capacity.workers * capacity.scores)
        var next = storage.baseAddress!
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { next += count }
            return next
        }
        x = take(n * d)
        h = take(n * d)
        q = take(n * d)
        attention = take(n * d)
        k = take(n * kv)
        v = take(n * kv)
        gate = take(n * hidden)
        up = take(n * hidden)
        logits = take(capacity.outputRows * c.vocabulary)
        scoreBlocks = take(capacity.workers * capacity.scores)
    }
}
