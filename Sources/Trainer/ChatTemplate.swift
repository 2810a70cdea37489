import Foundation

/// The chat format a GGUF file's `tokenizer.chat_template` (a Jinja program) describes. The template is
/// recognised, not executed: the families below are told apart by their markers, and the default system
/// message the template inserts when a conversation has none (Qwen's "You are Qwen, created by Alibaba Cloud.
/// You are a helpful assistant.", SmolLM2's own) is read from its string literals. One user turn and an open
/// assistant turn is all self-play needs.
public struct ChatTemplate: Equatable, Sendable {
    public enum Family: String, Sendable {
        /// `<|im_start|>role\n…<|im_end|>\n` (Qwen, SmolLM2, many others).
        case chatml
        /// `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` (Llama 3).
        case llama3
    }

    public var family: Family
    /// The system message the template adds to a conversation without one, if any.
    public var defaultSystem: String?

    public init(family: Family, defaultSystem: String? = nil) {
        self.family = family
        self.defaultSystem = defaultSystem
    }

    /// Recognises a template's family and default system message; nil for a family not known here.
    public init?(jinja: String) {
        if jinja.contains("<|im_start|>") {
            family = .chatml
            defaultSystem = Self.literalSystem(in: jinja, pattern: #"<\|im_start\|>system(?:\\n|\n)([^'"<{}]+)<\|im_end\|>"#)
        } else if jinja.contains("<|start_header_id|>") {
            family = .llama3
            defaultSystem = nil
        } else {
            return nil
        }
    }

    private static func literalSystem(in jinja: String, pattern: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: jinja, range: NSRange(jinja.startIndex..., in: jinja)),
              let range = Range(match.range(at: 1), in: jinja) else { return nil }
        // The text sits inside a Jinja string literal, where a newline is written `\n`.
        return String(jinja[range]).replacingOccurrences(of: "\\n", with: "\n")
    }

    /// The text the model continues: the system turn (when the template has a default), the user turn, and the
    /// assistant turn opened with `opening`.
    public func render(user: String, opening: String = "") -> String {
        switch family {
        case .chatml:
            let system = defaultSystem.map { "<|im_start|>system\n\($0)<|im_end|>\n" } ?? ""
            return "\(system)<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n\(opening)"
        case .llama3:
            let system = defaultSystem.map { "<|start_header_id|>system<|end_header_id|>\n\n\($0)<|eot_id|>" } ?? ""
            return "<|begin_of_text|>\(system)<|start_header_id|>user<|end_header_id|>\n\n\(user)<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n\(opening)"
        }
    }
}
