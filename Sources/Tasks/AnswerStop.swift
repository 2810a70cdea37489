import Sandbox

/// Where an answer is whole, so sampling can stop there instead of running on into text nobody reads.
///
/// Without it, twelve training steps taught Qwen2.5-Coder-0.5B to follow each `assert` line with a paragraph
/// ("Explanation: …"): the paragraph rode along with every rewarded answer, answers grew ~25× longer, and the same
/// habit spread to induction, where the prose came before the code and 10 of 17 held-out answers stopped
/// parsing. Proposals did the same: by step 2, 60% of a deduction or abduction proposal's 900 characters came
/// after its python block. Tokens after the answer are never sampled, so they are never trained on either.
/// CRUXEval's and evalplus's harnesses stop at the answer the same way.
public enum AnswerStop: Sendable, Equatable, Hashable {
    /// After the first whole line `assert f(…) == <literal>` without `??` (the instruct deduction and abduction
    /// answer).
    case assertionLine
    /// After the first closed python block that defines a function (the instruct induction answer).
    case functionBlock
    /// Once a deduction or abduction proposal reads leniently: a program and its arguments (usually at the close
    /// of the python block that ends with the call).
    case singleInputProposal
    /// Once an induction proposal has a finished `Message:` line and `inputs` distinct calls of `f`, outside an
    /// open fence (the prompt asks for the message first, but a model may write it after the calls).
    case inductionProposal(inputs: Int)
    /// After the first closing `</score>` tag (a self-reward judge's verdict).
    case scoreTag
    /// After the first closing tag `</NAME>` (a guide's verdict ends with its last score tag).
    case closingTag(String)

    /// Which tokens can finish an answer: `isComplete` is asked only after one of them.
    public enum Trigger: Sendable, Hashable, CaseIterable {
        case lineBreak, backtick, lineBreakOrBacktick, angleBracket

        /// Whether a token with this text can finish an answer.
        public func fires(on tokenText: String) -> Bool {
            switch self {
            case .lineBreak: return tokenText.contains("\n")
            case .backtick: return tokenText.contains("`")
            case .lineBreakOrBacktick: return tokenText.contains("\n") || tokenText.contains("`")
            case .angleBracket: return tokenText.contains(">")
            }
        }
    }

    public var trigger: Trigger {
        switch self {
        case .assertionLine: return .lineBreak
        case .functionBlock: return .backtick
        case .singleInputProposal, .inductionProposal: return .lineBreakOrBacktick
        case .scoreTag, .closingTag: return .angleBracket
        }
    }

    /// The shortest prefix of `text` that is whole, as if every character were a token; nil when none is. What
    /// sampling with this stop keeps of a stored completion (up to the rest of its last token).
    public func wholePrefix(of text: String) -> Substring? {
        var end = text.startIndex
        while end < text.endIndex {
            let last = end
            end = text.index(after: end)
            if trigger.fires(on: String(text[last])), isComplete(String(text[..<end])) { return text[..<end] }
        }
        return nil
    }

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
        case .singleInputProposal:
            return (try? ProposalReading.programAndInput(in: text, mode: .lenient)) != nil
        case let .inductionProposal(count):
            // The message's line must be finished: a backtick inside it would otherwise cut it short.
            guard let label = text.range(of: "message:", options: [.caseInsensitive, .backwards]) else { return false }
            let afterLabel = text[label.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            guard afterLabel.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return false }
            // Not inside an open fence: strict reading takes only calls in closed python blocks.
            let fences = text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("```") }.count
            guard fences % 2 == 0,
                  let read = try? InductionTask(inputCount: count, style: .instruct).inputsAndMessage(in: text, mode: .lenient)
            else { return false }
            return Set(read.inputs).count >= count
        case .scoreTag:
            return text.contains("</score>")
        case let .closingTag(name):
            return text.contains("</\(name)>")
        }
    }
}
