import Foundation

/// One line of a run's metrics.jsonl: the loop's and trainer's figures for a step, and beside them (same level,
/// so Python reads it with `pandas.read_json(lines=True)`) whatever the game reports — AZR's `valid_rate`,
/// `solve_rate`, `buffer_size`, …; LSP's `query_value`, `judge_score`, ….
public struct StepMetrics: Codable, Sendable, Equatable {
    public var step: Int
    public var time: String
    /// Mean reward per task type × role ("deduction.propose", "deduction.challenge", …).
    public var reward: [String: Double]
    public var loss: Double
    public var gradNorm: Double
    public var clippedFraction: Double
    public var entropy: Double?
    /// Mean per-token KL estimate to the starting model (only with `kl_coefficient` above 0).
    public var kl: Double?
    public var trainTokens: Int
    public var trainTokensPerS: Double
    public var generatedTokens: Int
    public var generateTokensPerS: Double
    public var sandboxRuns: Int
    public var sandboxRunsPerS: Double
    /// Seconds per phase: the game's (AZR: propose, validate, learnability, solve), then update, checkpoint.
    public var seconds: [String: Double]
    public var totalSeconds: Double
    /// The game's own figures; every key not named above.
    public var game: GameMetrics

    public init(step: Int, time: String, reward: [String: Double], loss: Double, gradNorm: Double, clippedFraction: Double,
                entropy: Double? = nil, kl: Double? = nil, trainTokens: Int, trainTokensPerS: Double, generatedTokens: Int,
                generateTokensPerS: Double, sandboxRuns: Int, sandboxRunsPerS: Double, seconds: [String: Double],
                totalSeconds: Double, game: GameMetrics = [:]) {
        self.step = step
        self.time = time
        self.reward = reward
        self.loss = loss
        self.gradNorm = gradNorm
        self.clippedFraction = clippedFraction
        self.entropy = entropy
        self.kl = kl
        self.trainTokens = trainTokens
        self.trainTokensPerS = trainTokensPerS
        self.generatedTokens = generatedTokens
        self.generateTokensPerS = generateTokensPerS
        self.sandboxRuns = sandboxRuns
        self.sandboxRunsPerS = sandboxRunsPerS
        self.seconds = seconds
        self.totalSeconds = totalSeconds
        self.game = game
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case step, time, reward, loss, entropy, kl, seconds
        case gradNorm = "grad_norm", clippedFraction = "clipped_fraction"
        case trainTokens = "train_tokens", trainTokensPerS = "train_tokens_per_s", generatedTokens = "generated_tokens"
        case generateTokensPerS = "generate_tokens_per_s", sandboxRuns = "sandbox_runs", sandboxRunsPerS = "sandbox_runs_per_s"
        case totalSeconds = "total_seconds"
    }

    /// The loop's own keys, which a game's figures may not reuse.
    public static let reservedKeys = Set(CodingKeys.allCases.map(\.stringValue))

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        time = try c.decode(String.self, forKey: .time)
        reward = try c.decode([String: Double].self, forKey: .reward)
        loss = try c.decode(Double.self, forKey: .loss)
        gradNorm = try c.decode(Double.self, forKey: .gradNorm)
        clippedFraction = try c.decode(Double.self, forKey: .clippedFraction)
        entropy = try c.decodeIfPresent(Double.self, forKey: .entropy)
        kl = try c.decodeIfPresent(Double.self, forKey: .kl)
        trainTokens = try c.decode(Int.self, forKey: .trainTokens)
        trainTokensPerS = try c.decode(Double.self, forKey: .trainTokensPerS)
        generatedTokens = try c.decode(Int.self, forKey: .generatedTokens)
        generateTokensPerS = try c.decode(Double.self, forKey: .generateTokensPerS)
        sandboxRuns = try c.decode(Int.self, forKey: .sandboxRuns)
        sandboxRunsPerS = try c.decode(Double.self, forKey: .sandboxRunsPerS)
        seconds = try c.decode([String: Double].self, forKey: .seconds)
        totalSeconds = try c.decode(Double.self, forKey: .totalSeconds)
        let all = try decoder.container(keyedBy: TrainingConfig.AnyKey.self)
        var game: GameMetrics = [:]
        for key in all.allKeys where !Self.reservedKeys.contains(key.stringValue) {
            game[key.stringValue] = try all.decode(MetricValue.self, forKey: key)
        }
        self.game = game
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: TrainingConfig.AnyKey.self)
        func put<T: Encodable>(_ key: CodingKeys, _ value: T) throws { try c.encode(value, forKey: .init(stringValue: key.stringValue)) }
        try put(.step, step); try put(.time, time); try put(.reward, reward); try put(.loss, loss)
        try put(.gradNorm, gradNorm); try put(.clippedFraction, clippedFraction)
        if let entropy { try put(.entropy, entropy) }
        if let kl { try put(.kl, kl) }
        try put(.trainTokens, trainTokens); try put(.trainTokensPerS, trainTokensPerS)
        try put(.generatedTokens, generatedTokens); try put(.generateTokensPerS, generateTokensPerS)
        try put(.sandboxRuns, sandboxRuns); try put(.sandboxRunsPerS, sandboxRunsPerS)
        try put(.seconds, seconds); try put(.totalSeconds, totalSeconds)
        for (key, value) in game {
            guard !Self.reservedKeys.contains(key) else {
                throw EncodingError.invalidValue(key, .init(codingPath: [], debugDescription: "game metric \"\(key)\" reuses a loop key"))
            }
            try c.encode(value, forKey: .init(stringValue: key))
        }
    }

    /// The loop's part of the line printed after each step; the game adds its own after it.
    public var trainerSummary: String {
        String(format: "step %d  %.0fs  loss %.4f  |g| %.3f", step + 1, totalSeconds, loss, gradNorm)
            + (kl.map { String(format: "  kl %.4f", $0) } ?? "")
    }

    /// The throughput tail of the step line.
    public var throughputSummary: String {
        String(format: "%.0f gen tok/s, %.0f train tok/s, %.0f sandbox runs/s", generateTokensPerS, trainTokensPerS, sandboxRunsPerS)
    }
}
