import CBLAS
import Foundation

/// Trainer throughput on this machine: OpenBLAS sgemm, a training micro-batch, decoding.
public struct TrainerBenchmark {
    public struct Figures: Codable, Sendable {
        public var threads: Int
        public var sgemm_gflops: Double
        public var train_tokens_per_s: Double
        public var train_batch: Int
        public var train_length: Int
        public var decode_tokens_per_s_batch1: Double
        /// 32 prompts of 8 tokens, 64 new tokens each, prefill included.
        public var decode_tokens_per_s_batch32: Double
        public var mfu_train: Double
        /// The process's peak resident memory after the whole benchmark (model, gradients, AdamW moments,
        /// one training workspace per thread, inference copy).
        public var peak_resident_gb: Double
    }

    public var threads: Int
    public var batch: Int
    public var length: Int

    public init(threads: Int, batch: Int = 4, length: Int = 512) {
        self.threads = threads
        self.batch = batch
        self.length = length
    }

    public func run(model: LlamaModel, progress: (String) -> Void = { _ in }) throws -> Figures {
        openblas_set_num_threads(Int32(threads))
        progress("sgemm")
        let gflops = Self.sgemm(size: 1536)
        progress("training micro-batch \(batch) × \(length)")
        let vocabulary = Int32(model.config.vocabulary)
        var state: UInt64 = 1
        let sequences = (0..<batch).map { _ in
            (0..<length).map { _ -> Int32 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int32(truncatingIfNeeded: state >> 33) % vocabulary
            }
        }
        let trainer = TRRTrainer(model: model, learningRate: 0, threads: threads)
        let samples = sequences.map { PolicySample(prompt: Array($0.prefix(16)), completion: Array($0.dropFirst(16)), reward: Double.random(in: 0...1), group: "bench") }
        model.threads = threads
        // A first step allocates and touches the gradients, moments and workspaces; the second is the steady state.
        try trainer.step(Array(samples.prefix(threads)))
        let started = Date()
        try trainer.step(samples)
        let trainSeconds = Date().timeIntervalSince(started)
        let trainTokens = Double(batch * length)
        progress("decoding")
        let cache = KVCache(config: model.config, capacity: 160)
        _ = try model.forward(Array(sequences[0].prefix(32)), cache: cache)
        let decodeStart = Date()
        var token = sequences[0][32]
        for _ in 0..<96 {
            let logits = try model.forward([token], cache: cache)
            token = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        }
        let decodeRate = 96 / Date().timeIntervalSince(decodeStart)
        progress("decoding, batch 32")
        let prompts = (0..<32).map { index -> [Int32] in
            let start = (index * 7) % (length - 8)
            return Array(sequences[index % sequences.count][start..<start + 8])
        }
        let batchStart = Date()
        let generated = try model.generate(prompts: prompts, maxTokens: 64, temperature: 0)
        let batchRate = Double(generated.reduce(0) { $0 + $1.tokens.count }) / Date().timeIntervalSince(batchStart)
        // Training costs about 6 FLOPs per parameter per token (forward 2, backward 4).
        let flops = 6 * Double(model.parameters.count) * trainTokens / trainSeconds / 1e9
        return Figures(threads: threads, sgemm_gflops: gflops, train_tokens_per_s: trainTokens / trainSeconds, train_batch: batch,
                       train_length: length, decode_tokens_per_s_batch1: decodeRate, decode_tokens_per_s_batch32: batchRate,
                       mfu_train: flops / gflops, peak_resident_gb: Self.peakResidentGigabytes())
    }

    static func peakResidentGigabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) * 1024 / 1e9 // Linux reports kilobytes
    }

    /// The best of several 1536³ products: the other vCPU is sometimes busy, and a peak that is too low would
    /// inflate the MFU figure.
    static func sgemm(size n: Int) -> Double {
        var a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n), c = [Float](repeating: 0, count: n * n)
        var best = 0.0
        for _ in 0..<10 {
            let start = Date()
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, &a, Int32(n), &b, Int32(n), 0, &c, Int32(n))
            best = max(best, 2 * Double(n * n * n) / Date().timeIntervalSince(start) / 1e9)
        }
        return best
    }
}
