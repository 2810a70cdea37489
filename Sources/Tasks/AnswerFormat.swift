/// Why a completion could not be read. The text is for logs and samples, not for the model.
public struct FormatError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads AZR's completion format: `… </think> <answer> … </answer>`, the last `<answer>` block counting, and
/// inside it markdown fences labelled `python`, `input`, `output` or `message`. Chatter around the blocks is
/// ignored; the blocks themselves must be well formed (opened, labelled, closed).
public enum AnswerFormat {
    /// The text of the last complete `<answer> … </answer>` block.
    public static func answerBlock(in completion: String) throws -> String {
        guard let open = completion.range(of: "<answer>", options: .backwards) else {
            throw FormatError("no <answer> block")
        }
        guard let close = completion.range(of: "</answer>", range: open.upperBound..<completion.endIndex) else {
            throw FormatError("the last <answer> block is not closed")
        }
        return String(completion[open.upperBound..<close.lowerBound])
    }

    /// Every fenced block in `text` with its label, in order.
    public static func fences(in text: String) throws -> [(label: String, body: String)] {
        var blocks: [(String, String)] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("```") else { continue }
            let label = String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces).lowercased()
            guard !label.isEmpty else { throw FormatError("a code fence has no label") }
            var body: [Substring] = []
            var closed = false
            while let inner = lines.popFirst() {
                if inner.trimmingCharacters(in: .whitespaces) == "```" {
                    closed = true
                    break
                }
                body.append(inner)
            }
            guard closed else { throw FormatError("the ```\(label) block is not closed") }
            blocks.append((label, body.joined(separator: "\n")))
        }
        return blocks
    }

    /// The body of the single block labelled `label` inside the answer; several of them are ambiguous.
    public static func block(_ label: String, in completion: String) throws -> String {
        let matching = try fences(in: try answerBlock(in: completion)).filter { $0.label == label }
        guard let first = matching.first else { throw FormatError("no ```\(label) block in the answer") }
        guard matching.count == 1 else { throw FormatError("\(matching.count) ```\(label) blocks in the answer") }
        return first.body
    }

    /// All blocks labelled `label`, for answers that list several (induction inputs).
    public static func blocks(_ label: String, in completion: String) throws -> [String] {
        try fences(in: try answerBlock(in: completion)).filter { $0.label == label }.map(\.body)
    }

    /// The ```python program and the ```input arguments of a proposal (input trimmed).
    public static func programAndInput(in completion: String) throws -> (program: String, input: String) {
        (try block("python", in: completion), try block("input", in: completion).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Wraps a prompt as AZR's base-model template.
    public static func wrap(_ prompt: String) -> String {
        "User: \(prompt)\nAssistant: <think>"
    }
}
