import Tasks

/// A role in a self-play game. AZR has two; later games add more (LSP's challenger, SGS's guide), so roles
/// are open strings rather than a closed enum.
public struct Role: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let propose = Role(rawValue: "propose")
    public static let solve = Role(rawValue: "solve")
    /// LSP's challenger, which writes the queries.
    public static let challenge = Role(rawValue: "challenge")
    /// A self-reward judge's rollout (scored, never trained on).
    public static let judge = Role(rawValue: "judge")
    /// SGS's conjecturer, which writes a simpler task for an unsolved target.
    public static let conjecture = Role(rawValue: "conjecture")
    /// SGS's guide, which scores a conjecture against its target (scored, never trained on).
    public static let guide = Role(rawValue: "guide")
    /// SOAR's teacher, which writes stepping-stone problems for a student.
    public static let teach = Role(rawValue: "teach")
}

/// One prompt for the model.
public struct PolicyRequest: Sendable, Equatable {
    public var prompt: String
    public var role: Role
    public var taskType: String
    public var temperature: Double
    /// True for rollouts that only score a proposal (learnability) and are not trained on.
    public var scoringOnly: Bool
    /// Where the answer is whole, so a model stops sampling there (nil: at the end of turn or the token cap).
    public var stop: AnswerStop?
    /// Fixes the request's random stream: the same request with the same seed samples the same tokens from the same
    /// weights, whatever call it is part of (SOAR measures a student before and after training on the same
    /// problems and seeds). nil: the stream follows the call, as a run's sampling does.
    public var samplingSeed: UInt64?

    public init(prompt: String, role: Role, taskType: String, temperature: Double = 1.0, scoringOnly: Bool = false,
                stop: AnswerStop? = nil, samplingSeed: UInt64? = nil) {
        self.prompt = prompt
        self.role = role
        self.taskType = taskType
        self.temperature = temperature
        self.scoringOnly = scoringOnly
        self.stop = stop
        self.samplingSeed = samplingSeed
    }
}

/// The tokens behind a completion, as sampled: what the trainer needs to learn from it.
public struct CompletionTrace: Sendable, Equatable {
    public var promptTokens: [Int32]
    public var completionTokens: [Int32]
    /// Log-probability of each completion token when it was sampled (PPO's "old" policy), under
    /// softmax(logits / temperature).
    public var logProbabilities: [Float]
    /// The temperature it was sampled at; the trainer recomputes log-probabilities at the same one.
    public var temperature: Float

    public init(promptTokens: [Int32], completionTokens: [Int32], logProbabilities: [Float], temperature: Float = 1) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.logProbabilities = logProbabilities
        self.temperature = temperature
    }
}

/// One completion and, from a model, how it was sampled.
public struct PolicyCompletion: Sendable {
    public var text: String
    public var trace: CompletionTrace?

    public init(text: String, trace: CompletionTrace? = nil) {
        self.text = text
        self.trace = trace
    }
}

/// Anything that turns prompts into completions: the trained model, or a script in tests.
public protocol Policy {
    /// One completion per request, in order.
    func complete(_ requests: [PolicyRequest]) throws -> [String]
    /// The same, with the sampled tokens when the policy has them (a model does; a script does not).
    func completeTraced(_ requests: [PolicyRequest]) throws -> [PolicyCompletion]
}

extension Policy {
    public func completeTraced(_ requests: [PolicyRequest]) throws -> [PolicyCompletion] {
        try complete(requests).map { PolicyCompletion(text: $0) }
    }
}

/// A policy that answers from a function of the request; tests use it to script the model.
public struct ScriptedPolicy: Policy {
    private let answer: (PolicyRequest, Int) -> String

    /// `answer(request, index)` gives the completion; `index` counts requests of the same role and task type.
    public init(_ answer: @escaping (PolicyRequest, Int) -> String) { self.answer = answer }

    public func complete(_ requests: [PolicyRequest]) throws -> [String] {
        var counts: [String: Int] = [:]
        return requests.map { request in
            let key = "\(request.role)/\(request.taskType)"
            let index = counts[key, default: 0]
            counts[key] = index + 1
            return answer(request, index)
        }
    }
}
