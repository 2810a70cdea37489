import CBLAS
import Foundation

/// Trainer throughput on this machine: OpenBLAS sgemm, a training micro-batch, decoding, group decoding.
public struct TrainerBenchmark {
    public struct Figures: Codable, Sendable {
        public var model: String
        public var architecture: String
        public var parameters: Int
        public var threads: Int
        /// The OpenBLAS kernel that ran, and how it was chosen.
        public var blas_kernel: String
        public var blas_selection: String
        public var sgemm_gflops: Double
        public var train_tokens_per_s: Double
        public var train_sequences: Int
        public var train_length: Int
        /// Whether the training workspace recomputed layer activations in the backward pass (long sequences).
        public var train_recomputes_layers: Bool
        /// The model's training FLOPs per second (`trainingFLOPs`) over the best sgemm rate.
        public var mfu_train: Double
        public var decode_tokens_per_s_batch1: Double
        /// 32 prompts of 8 tokens, 64 new tokens each, prefill included.
        public var decode_tokens_per_s_batch32: Double
        /// Learnability-style groups: `groupSamples` samples of each of `groupPrompts` prompts of `groupPromptLength`
        /// tokens, `groupNewTokens` new tokens each, at temperature 1, prefill included (shared per prompt).
        public var group_decode_tokens_per_s: Double
        /// The process's peak resident set size over the whole benchmark. Training state (gradients, AdamW
        /// moments, workspaces) is released before decoding, so this is the larger of the two phases' peaks.
        public var peak_rss_gb: Double
        /// Peak resident set size at the end of the training phase.
        public var train_peak_rss_gb: Double
    }

    public static let groupSamples = 8, groupPrompts = 4, groupPromptLength = 512, groupNewTokens = 128

    public var threads: Int
    public var sequences: Int
    public var length: Int
    /// Measure training only, in one step without a warm-up (its time then includes first-touch allocation).
    public var skipDecoding = false

    public init(threads: Int, sequences: Int = 4, length: Int = 512) {
        self.threads = threads
        self.sequences = sequences
        self.length = length
    }

    /// Forward + backward FLOPs of training on `sequences` × `length` tokens of `config`'s model, scoring every
    /// position but the first `unscored` of each sequence: 6 per weight per token for the layers' projections,
    /// 6 per output weight per scored token, and causal attention's 6·T·d per token and layer (Q·Kᵀ and P·V over
    /// T/2 positions on average, forward 2, backward 4). Embedding lookups are not FLOPs.
    public static func trainingFLOPs(config c: LlamaConfig, sequences: Int, length: Int, unscored: Int) -> Double {
        let d = Double(c.dimension), kv = Double(c.kvDimension), h = Double(c.hiddenDimension), L = Double(c.layers)
        let T = Double(length)
        let perLayerWeights = 2 * d * d + 2 * kv * d + 3 * h * d
        let perToken = 6 * L * perLayerWeights + 6 * L * T * d
        let output = 6 * Double(c.vocabulary) * d * (T - 1 - Double(unscored))
        return Double(sequences) * (T * perToken + output)
    }

    public func run(model: LlamaModel, name: String, progress: (String) -> Void = { _ in }) throws -> Figures {
        openblas_set_num_threads(Int32(threads))
        model.threads = threads
        progress("sgemm")
        let gflops = Self.sgemm(size: 1536)
        let vocabulary = Int32(model.config.vocabulary)
        var state: UInt64 = 1
        func randomTokens(_ count: Int) -> [Int32] {
            (0..<count).map { _ -> Int32 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int32(truncatingIfNeeded: state >> 33) % vocabulary
            }
        }
        let trainingSequences = (0..<sequences).map { _ in randomTokens(length) }
        let unscored = min(16, length - 2)
        var trainSeconds = 0.0, recomputes = false
        do {
            progress("training micro-batch \(sequences) × \(length)")
            let trainer = TRRTrainer(model: model, learningRate: 0, threads: threads)
            let samples = trainingSequences.map {
                PolicySample(prompt: Array($0.prefix(unscored + 1)), completion: Array($0.dropFirst(unscored + 1)),
                             reward: Double.random(in: 0...1), group: "bench")
            }
            // A first step allocates and touches the gradients, moments and workspaces; the second is the steady state.
            // Without decoding (a memory measurement, often at long lengths) the one step is timed as it is.
            if !skipDecoding { try trainer.step(Array(samples.prefix(threads))) }
            let started = Date()
            try trainer.step(samples)
            trainSeconds = Date().timeIntervalSince(started)
            recomputes = trainer.recomputesLayers
        }
        let trainPeak = Self.peakResidentGigabytes()
        let flops = Self.trainingFLOPs(config: model.config, sequences: sequences, length: length, unscored: unscored)
        var figures = Figures(model: name, architecture: model.config.architecture, parameters: model.parameters.count, threads: threads,
                              blas_kernel: BLASKernel.current, blas_selection: BLASKernel.summary, sgemm_gflops: gflops,
                              train_tokens_per_s: Double(sequences * length) / trainSeconds, train_sequences: sequences,
                              train_length: length, train_recomputes_layers: recomputes,
                              mfu_train: flops / trainSeconds / 1e9 / gflops, decode_tokens_per_s_batch1: 0,
                              decode_tokens_per_s_batch32: 0, group_decode_tokens_per_s: 0, peak_rss_gb: trainPeak,
                              train_peak_rss_gb: trainPeak)
        guard !skipDecoding else { return figures }

        progress("decoding")
        let cache = KVCache(config: model.config, capacity: 160)
        _ = try model.forward(randomTokens(32), cache: cache)
        let decodeStart = Date()
        var token = randomTokens(1)[0]
        for _ in 0..<96 {
            let logits = try model.forward([token], cache: cache)
            token = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        }
        figures.decode_tokens_per_s_batch1 = 96 / Date().timeIntervalSince(decodeStart)

        progress("decoding, batch 32")
        let prompts = (0..<32).map { _ in randomTokens(8) }
        let batchStart = Date()
        let generated = try model.generate(prompts: prompts, maxTokens: 64, temperature: 0)
        figures.decode_tokens_per_s_batch32 = Double(generated.reduce(0) { $0 + $1.tokens.count }) / Date().timeIntervalSince(batchStart)

        progress("group decoding, \(Self.groupSamples) samples × \(Self.groupPrompts) prompts of \(Self.groupPromptLength) tokens")
        let groupPrompts = (0..<Self.groupPrompts).map { _ in randomTokens(Self.groupPromptLength) }
        let repeated = groupPrompts.flatMap { Array(repeating: $0, count: Self.groupSamples) }
        let groupStart = Date()
        let groups = try model.generate(prompts: repeated, maxTokens: Self.groupNewTokens, temperature: 1, seed: 7)
        figures.group_decode_tokens_per_s = Double(groups.reduce(0) { $0 + $1.tokens.count }) / Date().timeIntervalSince(groupStart)
        figures.peak_rss_gb = Self.peakResidentGigabytes()
        return figures
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
