import Sandbox

/// Where a solver's answer is whole, so sampling can stop there instead of running on into text nobody reads.
///
/// Without it, twelve training steps taught Qwen2.5-Coder-0.5B to follow each `assert` line with a paragraph
/// ("Explanation: …"): the paragraph rode along with every rewarded answer, answers grew ~25× longer, and the same
/// habit spread to induction, where the prose came before the code and 10 of 17 held-out answers stopped
/// parsing. Tokens after the answer are never sampled, so they are never trained on either. CRUXEval's and
/// evalplus's harnesses stop at the answer the same way.
public enum AnswerStop: String, Sendable, Equatable, Codable {
    /// After the first whole line `assert f(…) == <literal>` without `??` (the instruct deduction and abduction
    /// answer).
    case assertionLine
    /// After the first closed python block that defines a function (the instruct induction answer).
    case functionBlock

    /// Whether `text`, the completion so far, already holds the whole answer.
    public func isComplete(_ text: String) -> Bool {
        switch self {
        case .assertionLine:
            guard let end = text.lastIndex(of: "\n") else { return false }
            return text[..<end].split(separator: "\n").contains { line in
                // An echo of the prompt's `assert f(??) == …` or `… == ??` is not an answer.
                guard line.trimmingCharacters(in: .whitespaces).hasPrefix("assert f("), !line.contains("??"),
                      let read = try? AssertionAnswer.read(in: String(line), mode: .strict) else { return false }
                return (try? PythonValue(literal: read.value)) != nil
            }
        case .functionBlock:
            guard let blocks = try? AnswerFormat.fences(in: text, mode: .lenient) else { return false }
            return (try? ProposalReading.firstProgram(in: blocks)) != nil
        }
    }

    /// Whether a token's text can finish an answer, so `isComplete` is asked only after such tokens.
    public func canFinish(tokenText: String) -> Bool {
        switch self {
        case .assertionLine: return tokenText.contains("\n")
        case .functionBlock: return tokenText.contains("`")
        }
    }
}
