/// AZR's reward settings; defaults follow the paper (DESIGN.md §1).
public struct RewardSettings: Codable, Sendable, Equatable {
    public var correct = 1.0
    /// Well formed but wrong (the format penalty).
    public var wrong = -0.5
    /// The answer could not be parsed.
    public var malformed = -1.0
    /// A proposal whose task is always or never solved: 0 in the paper, −0.5 in the reference code.
    public var extremeSolveRate = 0.0
    /// A proposal that did not validate (or could not be parsed).
    public var invalidProposal = -1.0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case correct, wrong, malformed
        case extremeSolveRate = "extreme_solve_rate"
        case invalidProposal = "invalid_proposal"
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
            case nil: throw UnknownReward(name: name)
            }
        }
        return settings
    }

    /// A reward name that RewardSettings does not have.
    public struct UnknownReward: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "unknown reward \"\(name)\" (known: correct, wrong, malformed, extreme_solve_rate, invalid_proposal)"
        }
    }

    public func solver(_ outcome: SolveOutcome) -> Double {
        switch outcome {
        case .correct: return correct
        case .wrong: return wrong
        case .malformed: return malformed
        }
    }

    /// Learnability: 1 − r for a solve rate strictly between 0 and 1.
    public func proposer(solveRate rate: Double) -> Double {
        rate > 0 && rate < 1 ? 1 - rate : extremeSolveRate
    }
}
