import Sandbox

/// Abduction: the solver sees a program and an output and finds any input that produces it.
public struct AbductionTask: Environment {
    public var name: String { "abduction" }
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
        SingleIOProposal.prompt(goal: "They will see your function and the value your call returns, and must find arguments that make f return that value.",
                                references: references, style: style, topicHints: topicHints, shape: proposalShape)
    }

    public func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome {
        SingleIOProposal.propose(type: name, completion: completion, style: style, context: context)
    }

    public func statement(of triple: Triple) -> String? {
        guard let output = triple.output else { return nil }
        return Prompts.fence("python", triple.program) + "\nThe puzzle: find arguments for which f returns `\(output)`."
    }

    public func conjecturePrompt(for statement: String) -> String? {
        SingleIOProposal.conjecturePrompt(
            shown: statement, goal: "The other programmer will see your function and the value your call returns and must find arguments that give it.",
            style: style)
    }

    public func solverPrompt(for triple: Triple) -> String {
        let output = triple.output ?? ""
        switch style {
        case .instruct:
            let example = InstructPrompts.solvedExample(for: triple)
            return """
            Complete the assertion: replace ?? with arguments for which the call returns the given value (any that \
            work count). For example, the function `\(example.program)` with `assert f(??) == \(example.value)` is \
            completed as `assert f(\(example.arguments)) == \(example.value)`.

            \(Prompts.fence("python", triple.program + "\nassert f(??) == \(output)"))

            \(InstructPrompts.answerRequest(reasoning: solverReasoning))
            """
        case .azr:
            return AnswerFormat.wrap("""
            ## Task: find an input for which this Python program returns the given value.
            \(Prompts.fence("python", triple.program))
            \(Prompts.fence("output", output))
            Any input that works counts. Reason it through, then give the arguments of f (e.g. `"abc", [1, 2]`):
            <answer>
            \(Prompts.fence("input", "the arguments"))
            </answer>
            """)
        }
    }

    /// The arguments' text, read in the style's answer form (instruct: the `assert` line's call, leniently also
    /// an AZR ```input block).
    func arguments(in completion: String, mode: AnswerFormat.Mode) throws -> String {
        try AssertionAnswer.answer(.arguments, orBlock: "input", in: completion, style: style, mode: mode)
    }

    public func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome {
        let input: String
        do { input = try arguments(in: completion, mode: context.format) } catch { return .malformed("\(error)") }
        guard (try? PythonLiteralParser().parseArguments(input)) != nil else {
            return .malformed("the input is not a list of Python literals")
        }
        guard let truth = triple.output.flatMap({ try? PythonValue(literal: $0) }) else { return .wrong("the task has no output") }
        switch context.runner.outputs(program: triple.program, inputs: [input]) {
        case let .failure(invalid): return .wrong(invalid.detail)
        case let .success(calls):
            guard let literal = calls.first?.literal, let value = try? PythonValue(literal: literal) else {
                return .wrong("f(input) gave no value")
            }
            return value == truth ? .correct : .wrong("f(input) = \(literal.prefix(80))")
        }
    }
}
