import Foundation

/// One sequence's result from batched sampling.
public struct GeneratedSequence: Sendable {
    public var tokens: [Int32]
    public var logProbabilities: [Float]
}

extension LlamaModel {
    /// Samples continuations for many prompts at once, with continuous batching: at most `slots` sequences decode
    /// together (all of them by default), and a finished sequence's slot goes to the next waiting prompt at once.
    /// Identical prompts are prefilled once and their samples share the prompt's keys and values (`KVCache`'s
    /// prefix). Each decoding step runs the projections for every active sequence as one GEMM.
    /// Sequence i samples from its own generator (`seeds[i]`, or seed + i), so its result does not depend on the
    /// others or on the schedule.
    ///
    /// `stopWhen(index, tokens)` is asked after every token of prompt `index` whether that sequence is done (for
    /// stop strings); `progress(tokens)` hears the running total of generated tokens after every decode step.
    public func generate(prompts: [[Int32]], maxTokens: Int, temperature: Float, topP: Float = 1, seed: UInt64 = 0,
                         seeds: [UInt64]? = nil, slots: Int? = nil, stop: Int32? = nil,
                         stopWhen: ((Int, [Int32]) -> Bool)? = nil,
                         progress: ((Int) -> Void)? = nil) throws -> [GeneratedSequence] {
        guard !prompts.isEmpty else { return [] }
        precondition(seeds == nil || seeds!.count == prompts.count, "one seed per prompt")
        precondition(prompts.allSatisfy { !$0.isEmpty }, "every prompt needs a token")
        let slots = max(1, slots ?? prompts.count)
        var samplers = prompts.indices.map { Sampler(temperature: temperature, topP: topP, seed: seeds?[$0] ?? seed &+ UInt64($0)) }
        var results = prompts.map { _ in GeneratedSequence(tokens: [], logProbabilities: []) }
        let buffers = ForwardBuffers()
        let V = config.vocabulary
        // One shared prefill per distinct prompt, kept while any of its samples still waits or runs.
        var prefillOf: [[Int32]: Int] = [:]
        var prefills: [(prompt: [Int32], cache: KVCache?, logits: [Float], users: Int)] = []
        var prefillIndex = [Int](repeating: 0, count: prompts.count)
        for (index, prompt) in prompts.enumerated() {
            if let known = prefillOf[prompt] {
                prefillIndex[index] = known
                prefills[known].users += 1
            } else {
                prefillOf[prompt] = prefills.count
                prefillIndex[index] = prefills.count
                prefills.append((prompt, KVCache(config: config, capacity: prompt.count), [], 1))
            }
        }
        var waiting = prompts.indices.makeIterator()
        var nextWaiting = waiting.next()
        var caches = [KVCache?](repeating: nil, count: prompts.count)
        var active: [Int] = [], feed: [Int32] = []
        var total = 0

        /// Records a drawn token; true while the sequence goes on.
        func record(_ index: Int, _ drawn: (Int32, Float)) -> Bool {
            results[index].tokens.append(drawn.0)
            results[index].logProbabilities.append(drawn.1)
            total += 1
            let goesOn = drawn.0 != stop && results[index].tokens.count < maxTokens && !(stopWhen?(index, results[index].tokens) ?? false)
            if !goesOn {
                caches[index] = nil
                let shared = prefillIndex[index]
                prefills[shared].users -= 1
                if prefills[shared].users == 0 { prefills[shared] = ([], nil, [], 0) } // frees its keys and values
            }
            return goesOn
        }

        while true {
            // Admit waiting prompts into free slots: prefill the new distinct prompts together, then draw each
            // admitted sample's first token from its prompt's last logits.
            var admitted: [Int] = []
            while active.count + admitted.count < slots, let index = nextWaiting {
                admitted.append(index)
                nextWaiting = waiting.next()
            }
            let unprefilled = Array(Set(admitted.map { prefillIndex[$0] }.filter { prefills[$0].logits.isEmpty })).sorted()
            if !unprefilled.isEmpty {
                try forward(batch: unprefilled.map { prefills[$0].prompt }, caches: unprefilled.map { prefills[$0].cache! }, buffers: buffers)
                for (row, shared) in unprefilled.enumerated() {
                    prefills[shared].logits = Array(UnsafeBufferPointer(start: buffers.logits + row * V, count: V))
                }
            }
            for index in admitted {
                let shared = prefills[prefillIndex[index]]
                caches[index] = KVCache(config: config, capacity: prompts[index].count + maxTokens, prefix: shared.cache!)
                let drawn = shared.logits.withUnsafeBufferPointer { samplers[index].draw($0) }
                if record(index, drawn) {
                    active.append(index)
                    feed.append(drawn.0)
                }
            }
            if !admitted.isEmpty { progress?(total) }
            if active.isEmpty {
                if nextWaiting == nil { break }
                continue
            }
            try forward(batch: feed.map { [$0] }, caches: active.map { caches[$0]! }, buffers: buffers)
            var drawn = [(Int32, Float)](repeating: (0, 0), count: active.count)
            samplers.withUnsafeMutableBufferPointer { samplers in
                drawn.withUnsafeMutableBufferPointer { drawn in
                    Self.parallelRows(active.count, threads: threads) { row in
                        drawn[row] = samplers[active[row]].draw(UnsafeBufferPointer(start: buffers.logits + row * V, count: V))
                    }
                }
            }
            var stillActive: [Int] = [], nextFeed: [Int32] = []
            for (row, index) in active.enumerated() where record(index, drawn[row]) {
                stillActive.append(index)
                nextFeed.append(drawn[row].0)
            }
            (active, feed) = (stillActive, nextFeed)
            progress?(total)
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
    private(set) var x, h, q, k, v, attention, gate, up, logits, transposed: UnsafeMutablePointer<Float>
    private var scoreBlocks: UnsafeMutablePointer<Float>
    private var storage: UnsafeMutableBufferPointer<Float>
    private var capacity = (rows: 0, outputRows: 0, scores: 0, workers: 0)

    public init() {
        storage = .allocate(capacity: 1)
        let base = storage.baseAddress!
        (x, h, q, k, v, attention, gate, up, logits, transposed, scoreBlocks) = (base, base, base, base, base, base, base, base, base, base, base)
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
        let transposedRows = min(n, LlamaModel.transposedProductRows)
        storage = .allocate(capacity: n * (4 * d + 2 * kv + 2 * hidden) + transposedRows * LlamaModel.transposedProductColumns
                                      + capacity.outputRows * c.vocabulary + capacity.workers * capacity.scores)
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
        transposed = take(transposedRows * LlamaModel.transposedProductColumns)
        logits = take(capacity.outputRows * c.vocabulary)
        scoreBlocks = take(capacity.workers * capacity.scores)
    }
}
