/// AZR's reward settings; defaults follow the paper (DESIGN.md §1).
public struct RewardSettings: Codable, Sendable, Equatable {
    public var correct = 1.0
    /// Well formed but wrong (the format penalty).
    public var wrong = -0.5
    /// The answer could not be parsed.
    public var malformed = -1.0
    /// A proposal whose task is always or never solved: 0 in the paper, −0.5 in the reference code.
    public var extremeSolveRate = 0.0
    /// A proposal whose blocks could not be read (a format error).
    public var invalidProposal = -1.0
    /// A well-formed proposal that did not validate (the program failed a rule, raised, timed out, …): the
    /// paper's format-aware penalty.
    public var failedProposal = -0.5

    public init() {}

    enum CodingKeys: String, CodingKey {
        case correct, wrong, malformed
        case extremeSolveRate = "extreme_solve_rate"
        case invalidProposal = "invalid_proposal"
        case failedProposal = "failed_proposal"
    }

    /// A settings object may name only some rewards; the others keep their defaults.
    public init(from decoder: Decoder) throws {
        self = try RewardSettings().applying(try decoder.singleValueContainer().decode([String: Double].self))
    }

    /// These settings with the named rewards replaced; an unknown name is an error that names it.
    public func applying(_ values: [String: Double]) throws -> RewardSettings {
        var settings = self
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            switch CodingKeys(rawValue: name) {
            case .correct: settings.correct = value
            case .wrong: settings.wrong = value
            case .malformed: settings.malformed = value
            case .extremeSolveRate: settings.extremeSolveRate = value
            case .invalidProposal: settings.invalidProposal = value
            case .failedProposal: settings.failedProposal = value
            case nil: throw UnknownReward(name: name)
            }
        }
        return settings
    }

    /// A reward name that RewardSettings does not have.
    public struct UnknownReward: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "unknown reward \"\(name)\" (known: correct, wrong, malformed, extreme_solve_rate, invalid_proposal, failed_proposal)"
        }
    }

    public func solver(_ outcome: SolveOutcome) -> Double {
        switch outcome {
        case .correct: return correct
        case .wrong: return wrong
        case .malformed: return malformed
        }
    }

    /// An invalid proposal's reward: −1 for a format error (its blocks could not be read), −0.5 for a well-formed
    /// proposal that failed validation.
    public func proposer(invalid reason: InvalidReason) -> Double {
        reason == .malformed ? invalidProposal : failedProposal
    }

    /// Learnability: 1 − r for a solve rate strictly between 0 and 1.
    public func proposer(solveRate rate: Double) -> Double {
        rate > 0 && rate < 1 ? 1 - rate : extremeSolveRate
    }
}
