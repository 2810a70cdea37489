/// How the task types word their prompts and which answer forms they ask for.
public enum PromptStyle: String, Codable, Sendable, CaseIterable {
    /// The paper's: `User: … Assistant: <think>` text for base models, answers inside `<answer>` in labelled
    /// fences (```output, ```input, ```python, ```message).
    case azr
    /// For instruct models: plain instructions with one worked example on a different program (never placeholder
    /// text where an answer goes), and answer forms small instruct models write reliably: CRUXEval's one line
    /// `assert f(<input>) == <value>` for deduction and abduction, a ```python block for a program, calls of `f`
    /// for induction inputs. The chat template wraps the prompt.
    case instruct
}
