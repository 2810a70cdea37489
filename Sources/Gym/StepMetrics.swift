import Foundation

/// One line of a run's metrics.jsonl: everything a step did, keyed so Python reads it with `pandas.read_json(lines=True)`.
public struct StepMetrics: Codable, Sendable, Equatable {
    public var step: Int
    public var time: String
    /// Mean reward per task type × role ("deduction.propose", …).
    public var reward: [String: Double]
    /// Valid proposals / proposals, per task type.
    public var validRate: [String: Double]
    /// Invalid proposals per task type and reason.
    public var invalid: [String: [String: Int]]
    /// Solver batch solve rate per task type.
    public var solveRate: [String: Double]
    /// Mean learnability solve rate of the valid proposals, per task type.
    public var proposalSolveRate: [String: Double]
    public var bufferSize: [String: Int]
    public var added: [String: Int]
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
    /// Seconds per phase: propose, validate, learnability, solve, update, checkpoint.
    public var seconds: [String: Double]
    public var totalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case step, time, reward, invalid, added, loss, entropy, kl, seconds
        case validRate = "valid_rate", solveRate = "solve_rate", proposalSolveRate = "proposal_solve_rate"
        case bufferSize = "buffer_size", gradNorm = "grad_norm", clippedFraction = "clipped_fraction"
        case trainTokens = "train_tokens", trainTokensPerS = "train_tokens_per_s", generatedTokens = "generated_tokens"
        case generateTokensPerS = "generate_tokens_per_s", sandboxRuns = "sandbox_runs", sandboxRunsPerS = "sandbox_runs_per_s"
        case totalSeconds = "total_seconds"
    }

    /// The one-line summary printed after each step.
    public var summary: String {
        func rates(_ values: [String: Double]) -> String {
            values.keys.sorted().map { "\($0.prefix(3)) \(String(format: "%.2f", values[$0]!))" }.joined(separator: " ")
        }
        return String(format: "step %d  %.0fs  loss %.4f  |g| %.3f  ", step + 1, totalSeconds, loss, gradNorm)
            + "valid [\(rates(validRate))]  solve [\(rates(solveRate))]  "
            + "buffer \(bufferSize.keys.sorted().map { "\($0.prefix(3)) \(bufferSize[$0]!)" }.joined(separator: " "))  "
            + String(format: "%.0f gen tok/s, %.0f train tok/s, %.0f sandbox runs/s", generateTokensPerS, trainTokensPerS, sandboxRunsPerS)
    }
}
