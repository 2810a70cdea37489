/// Why a completion could not be read. The text is for logs and samples, not for the model.
public struct FormatError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads AZR's completion format: `… </think> <answer> … </answer>`, the last `<answer>` block counting, and
/// inside it markdown fences labelled `python`, `input`, `output` or `message`. Chatter around the blocks is
/// ignored; the blocks themselves must be well formed (opened, labelled, closed).
public enum AnswerFormat {
    /// How strictly completions are read.
    public enum Mode: String, Codable, Sendable {
        /// The paper's format: an `<answer>` block, labelled and closed fences, one block per label.
        case strict
        /// For small models that rarely write the tags: without an `<answer>` block the text after the last
        /// `</think>` (or all of it) is read; unlabelled or unclosed fences are skipped; of several blocks with
        /// the same label the last counts. The sandbox judges what is read exactly as in strict mode.
        case lenient
    }

    /// The text of the last complete `<answer> … </answer>` block.
    public static func answerBlock(in completion: String, mode: Mode = .strict) throws -> String {
        guard let open = completion.range(of: "<answer>", options: .backwards) else {
            if mode == .lenient {
                let start = completion.range(of: "</think>", options: .backwards)?.upperBound ?? completion.startIndex
                return String(completion[start...])
            }
            throw FormatError("no <answer> block")
        }
        guard let close = completion.range(of: "</answer>", range: open.upperBound..<completion.endIndex) else {
            if mode == .lenient { return String(completion[open.upperBound...]) }
            throw FormatError("the last <answer> block is not closed")
        }
        return String(completion[open.upperBound..<close.lowerBound])
    }

    /// Every fenced block in `text` with its label, in order.
    public static func fences(in text: String, mode: Mode = .strict) throws -> [(label: String, body: String)] {
        var blocks: [(String, String)] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("```") else { continue }
            let label = String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces).lowercased()
            guard !label.isEmpty else {
                if mode == .lenient {
                    // Skip the unlabelled block's body up to its closing fence.
                    while let inner = lines.popFirst(), inner.trimmingCharacters(in: .whitespaces) != "```" {}
                    continue
                }
                throw FormatError("a code fence has no label")
            }
            var body: [Substring] = []
            var closed = false
            while let inner = lines.popFirst() {
                if inner.trimmingCharacters(in: .whitespaces) == "```" {
                    closed = true
                    break
                }
                body.append(inner)
            }
            guard closed else {
                if mode == .lenient { break }
                throw FormatError("the ```\(label) block is not closed")
            }
            blocks.append((label, body.joined(separator: "\n")))
        }
        return blocks
    }

    /// The body of the single block labelled `label` inside the answer; several of them are ambiguous.
    public static func block(_ label: String, in completion: String, mode: Mode = .strict) throws -> String {
        let matching = try fences(in: try answerBlock(in: completion, mode: mode), mode: mode).filter { $0.label == label }
        guard let first = matching.first else { throw FormatError("no ```\(label) block in the answer") }
        if mode == .lenient { return matching.last!.body }
        guard matching.count == 1 else { throw FormatError("\(matching.count) ```\(label) blocks in the answer") }
        return first.body
    }

    /// All blocks labelled `label`, for answers that list several (induction inputs).
    public static func blocks(_ label: String, in completion: String, mode: Mode = .strict) throws -> [String] {
        try fences(in: try answerBlock(in: completion, mode: mode), mode: mode).filter { $0.label == label }.map(\.body)
    }

    /// The ```python program and the ```input arguments of a proposal (input trimmed).
    public static func programAndInput(in completion: String, mode: Mode = .strict) throws -> (program: String, input: String) {
        (try block("python", in: completion, mode: mode),
         try block("input", in: completion, mode: mode).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Wraps a prompt as AZR's base-model template.
    public static func wrap(_ prompt: String) -> String {
        "User: \(prompt)\nAssistant: <think>"
    }
}
