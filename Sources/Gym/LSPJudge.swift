import Foundation

/// LSP's quality self-reward R_Q: the model itself scores one interaction (the solver's prompt and its answer)
/// on a 7-point additive rubric — seven yes/no criteria, one point each — and must end with a strict
/// `<score>N</score>` tag, which is all that is read. The paper's rubric (its Box 3) judges general
/// instruction following; these seven criteria are its code-reasoning counterpart. Correctness is left to the
/// sandbox (R), so the judge scores what the sandbox cannot: a well-posed, clean task and a clean answer.
/// The judge is shown the task whole (program, input and output) and the solver's response.
public enum LSPJudge {
    /// The rubric's criteria, in the order the judge answers them.
    public static let criteria = [
        "The task is well posed: a complete Python function `f` and a concrete input, so exactly one answer is right.",
        "The program is self-contained and deterministic (no input(), files, network, clock or randomness).",
        "The program is clean and natural: readable names, no padding, dead code or needless nesting.",
        "Finding the answer takes reasoning about the code, not just copying something from the prompt.",
        "The response answers in the requested form (one `assert f(...) == ...` line or one python block).",
        "The response is about this program and this input, not another task.",
        "The response is concise: nothing after the answer.",
    ]

    /// The judge's prompt for one interaction: the task whole, the response, the rubric, and a reply that is
    /// only the tag. The paper's judge writes its reasoning before the score; asked for that (one `N. yes/no`
    /// line per criterion, then the tag), Qwen2.5-Coder-0.5B numbered on past the seventh line and never wrote
    /// the tag (24 of 24 verdicts in a smoke run), while asked for the count alone it writes `<score>N</score>`.
    public static func prompt(task: String, response: String) -> String {
        let rubric = criteria.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
        return """
        You grade one exchange about a Python code-reasoning task.

        [Task]
        \(task)

        [Response]
        \(response)

        Criteria (one point each):
        \(rubric)

        Count the criteria that hold (0 to \(criteria.count)). Reply with only that count in this exact form and nothing else: <score>N</score>
        For example, when five criteria hold, the whole reply is: <score>5</score>
        """
    }

    /// Why a judge's output gave no score: a typed failure, counted in the step's metrics; the interaction's
    /// self-reward is then 0.
    public enum OutputError: Error, Equatable, CustomStringConvertible {
        case missingScore
        case severalScores(Int)
        case notAnInteger(String)
        case outOfRange(Int)

        public var description: String {
            switch self {
            case .missingScore: return "no <score>N</score> tag"
            case let .severalScores(count): return "\(count) <score> tags, one expected"
            case let .notAnInteger(text): return "score \"\(text)\" is not an integer"
            case let .outOfRange(value): return "score \(value) is outside 0…\(LSPJudge.criteria.count)"
            }
        }

        /// A short name for metrics.
        public var reason: String {
            switch self {
            case .missingScore: return "missing_score"
            case .severalScores: return "several_scores"
            case .notAnInteger: return "not_an_integer"
            case .outOfRange: return "out_of_range"
            }
        }
    }

    /// The score of one judge output, 0…7; a missing, repeated, non-integer or out-of-range score throws.
    public static func score(_ output: String) throws -> Int {
        let tags = taggedValues("score", in: output)
        guard !tags.isEmpty else { throw OutputError.missingScore }
        guard tags.count == 1 else { throw OutputError.severalScores(tags.count) }
        let text = tags[0].trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = Int(text) else { throw OutputError.notAnInteger(text) }
        guard (0...criteria.count).contains(value) else { throw OutputError.outOfRange(value) }
        return value
    }
}
