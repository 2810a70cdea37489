import Sandbox

/// Reads CRUXEval's answer form, `assert f(<arguments>) == <value>`, outside the sandbox. Strict reading takes
/// the last line that starts with `assert f(`; lenient reading takes the last `f(…) == …` anywhere, such as
/// inside a sentence or backticks ("so the result is `f('ab') == 'ba'`."), without the `assert`. Either way the
/// value ends where Python's would: an assertion's message after a top-level comma is not part of it.
public enum AssertionAnswer {
    /// The call's argument text and the value's text of the answer.
    public static func read(in completion: String, mode: AnswerFormat.Mode) throws -> (arguments: String, value: String) {
        switch mode {
        case .strict:
            for line in completion.split(separator: "\n").reversed() {
                let text = line.trimmingCharacters(in: .whitespaces)
                guard text.hasPrefix("assert f(") else { continue }
                guard let call = PythonSource.calls(of: "f", in: text).first else { throw FormatError("the assert line's call is not closed") }
                let after = call.after.trimmingCharacters(in: .whitespaces)
                guard after.hasPrefix("==") else { throw FormatError("the assert line has no `==`") }
                // Twelve training steps taught Qwen2.5-Coder-0.5B to write `assert f(x) == v, "Test case 1 failed"`;
                // reading `v, "Test case 1 failed"` as the value turned every such deduction answer into a tuple.
                return (call.arguments, PythonSource.beforeTopLevelComma(PythonSource.withoutComment(String(after.dropFirst(2)))))
            }
            throw FormatError("no line `assert f(…) == …`")
        case .lenient:
            for call in PythonSource.calls(of: "f", in: completion).reversed() {
                let rest = call.after.prefix { $0 != "\n" }.trimmingCharacters(in: .whitespaces)
                guard rest.hasPrefix("=="), !rest.hasPrefix("===") else { continue }
                return (call.arguments, cleaned(PythonSource.beforeTopLevelComma(String(rest.dropFirst(2)))))
            }
            throw FormatError("no `f(…) == …` in the answer")
        }
    }

    /// Which side of the assertion an answer is.
    public enum Part: Sendable { case arguments, value }

    /// A solver's answer in `style`: AZR's ````label` block, or the assertion's `part`, leniently also an AZR
    /// block where the model wrote one.
    static func answer(_ part: Part, orBlock label: String, in completion: String, style: PromptStyle,
                       mode: AnswerFormat.Mode) throws -> String {
        guard style == .instruct else { return try AnswerFormat.block(label, in: completion, mode: mode) }
        do {
            let assertion = try read(in: completion, mode: mode)
            return part == .arguments ? assertion.arguments : assertion.value
        } catch {
            guard mode == .lenient, let block = try? AnswerFormat.block(label, in: completion, mode: .lenient) else { throw error }
            return block
        }
    }

    /// The value text without what prose puts after it: a closing backtick, a comment, a final full stop.
    static func cleaned(_ text: String) -> String {
        var characters = Array(text)
        var index = 0
        while index < characters.count {
            if characters[index] == "\"" || characters[index] == "'" {
                index = PythonSource.skipString(characters, from: index)
                continue
            }
            if characters[index] == "`" { characters = Array(characters[..<index]); break }
            index += 1
        }
        var value = PythonSource.withoutComment(String(characters))
        while let last = value.last, [".", ";", ","].contains(last), (try? PythonValue(literal: value)) == nil {
            value.removeLast()
            value = value.trimmingCharacters(in: .whitespaces)
        }
        return value
    }
}
