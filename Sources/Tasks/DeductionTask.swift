import Sandbox

/// Deduction: the solver sees a program and an input and predicts the output.
public struct DeductionTask: Environment {
    public var name: String { "deduction" }
    public var referenceCount: Int
    public var style: PromptStyle
    /// Instruct style: each proposal prompt names a builtin to build the task around (CRUXEval's generator did).
    public var topicHints: Bool
    /// Instruct style: how long a proposal is asked to be (`ProposalShape`).
    public var proposalShape: ProposalShape
    /// Instruct style: the solver is asked to reason step by step before its assertion; otherwise for the
    /// assertion alone (see `InstructPrompts.answerRequest`).
    public var solverReasoning: Bool
    /// Instruct style: solver sampling stops after the first whole assertion line, proposer sampling once the
    /// proposal reads (see `AnswerStop`).
    public var stopsAtAnswer: Bool
    public var seed: Triple { IdentitySeeds.single(type: name) }

    public init(referenceCount: Int = 6, style: PromptStyle = .azr, topicHints: Bool = false, solverReasoning: Bool = false,
                stopsAtAnswer: Bool = false, proposalShape: ProposalShape = .short) {
        self.referenceCount = referenceCount
        self.proposalShape = proposalShape
        self.style = style
        self.topicHints = topicHints
        self.solverReasoning = solverReasoning
        self.stopsAtAnswer = stopsAtAnswer
    }

    public var solverStop: AnswerStop? { style == .instruct && stopsAtAnswer ? .assertionLine : nil }
    public var proposerStop: AnswerStop? { style == .instruct && stopsAtAnswer ? .singleInputProposal : nil }

    public func proposerPrompt(references: [Triple]) -> String {
        SingleIOProposal.prompt(goal: "They will see your function and call and must work out, without running it, what f returns.",
                                references: references, style: style, topicHints: topicHints, shape: proposalShape)
    }

    public func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome {
        SingleIOProposal.propose(type: name, completion: completion, style: style, context: context)
    }

    public func statement(of triple: Triple) -> String? {
        guard let input = triple.input else { return nil }
        return Prompts.fence("python", triple.program + "\n\nprint(f(\(input)))")
            + "\nThe puzzle: work out, without running it, what this prints."
    }

    public func conjecturePrompt(for statement: String) -> String? {
        SingleIOProposal.conjecturePrompt(
            shown: statement, goal: "The other programmer will see your function and call and must work out what f returns.", style: style)
    }

    public func solverPrompt(for triple: Triple) -> String {
        let input = triple.input ?? ""
        switch style {
        case .instruct:
            let example = InstructPrompts.solvedExample(for: triple)
            return """
            Complete the assertion: replace ?? with the exact value the call returns, as a Python literal. For \
            example, the function `\(example.program)` with `assert f(\(example.arguments)) == ??` is completed as \
            `assert f(\(example.arguments)) == \(example.value)`.

            \(Prompts.fence("python", triple.program + "\nassert f(\(input)) == ??"))

            \(InstructPrompts.answerRequest(reasoning: solverReasoning))
            """
        case .azr:
            return AnswerFormat.wrap("""
            ## Task: work out what this Python program returns.
            \(Prompts.fence("python", triple.program))
            \(Prompts.fence("input", input))
            Reason it through step by step, then give the exact return value of f on this input as a Python literal:
            <answer>
            \(Prompts.fence("output", "the value"))
            </answer>
            """)
        }
    }

    /// The predicted value's text, read in the style's answer form (instruct: the `assert` line, leniently also
    /// an AZR ```output block).
    func predictedValue(in completion: String, mode: AnswerFormat.Mode) throws -> String {
        try AssertionAnswer.answer(.value, orBlock: "output", in: completion, style: style, mode: mode)
    }

    public func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome {
        let text: String
        do { text = try predictedValue(in: completion, mode: context.format) } catch { return .malformed("\(error)") }
        guard let predicted = try? PythonValue(literal: text) else { return .malformed("the output is not a Python literal") }
        guard let truth = triple.output.flatMap({ try? PythonValue(literal: $0) }) else { return .wrong("the task has no output") }
        return predicted == truth ? .correct : .wrong("predicted \(text.prefix(80))")
    }
}
