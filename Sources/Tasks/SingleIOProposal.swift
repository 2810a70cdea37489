/// Deduction and abduction proposals have the same shape: one program, one input.
enum SingleIOProposal {
    static func prompt(goal: String, references: [Triple], style: PromptStyle, topicHints: Bool,
                       shape: ProposalShape) -> String {
        switch style {
        case .instruct:
            return InstructPrompts.proposal(goal: goal, references: references, topicHints: topicHints, shape: shape)
        case .azr:
            return AnswerFormat.wrap("""
            ## Task: write a new Python program and one input for it.
            \(goal) Make that possible by careful reasoning but not trivial.
            \(Prompts.programRules)
            \(Prompts.references(references))
            Think first, then answer in exactly this form:
            <answer>
            \(Prompts.fence("python", "def f(...):\n    ..."))
            \(Prompts.fence("input", "the arguments"))
            </answer>
            """)
        }
    }

    /// SGS's conjecturer: the unsolved target as its solver sees it (`shown`, without the answer), then a
    /// request for a related, simpler task in the type's proposal form. The paper's wording (its appendix E.1)
    /// asks for a lemma that helps prove the target, simpler than it and not a renamed copy; this is the same
    /// request for a Python puzzle.
    static func conjecturePrompt(shown: String, goal: String, style: PromptStyle) -> String {
        let request = """
        Write a new Python puzzle that is simpler than this one but practises the idea it needs, so that solving \
        yours helps with solving it. It must not be the same puzzle, nor a copy with renamed variables or changed \
        constants. \(goal)
        """
        switch style {
        case .instruct:
            return """
            Another programmer could not solve this Python puzzle yet:

            \(shown)

            \(request)

            An answer is one ```python block that defines a function `f` and ends with one call of it on concrete \
            arguments, `print(f(...))`. \(InstructPrompts.programRules)
            """
        case .azr:
            return AnswerFormat.wrap("""
            ## Task: write a new Python program and one input for it, as a stepping stone to a harder task.
            The solver could not solve this task yet:
            \(shown)
            \(request)
            \(Prompts.programRules)
            Think first, then answer in exactly this form:
            <answer>
            \(Prompts.fence("python", "def f(...):\n    ..."))
            \(Prompts.fence("input", "the arguments"))
            </answer>
            """)
        }
    }

    static func propose(type: String, completion: String, style: PromptStyle, context: TaskContext) -> ProposalOutcome {
        let program: String, input: String
        do {
            switch style {
            case .azr: (program, input) = try AnswerFormat.programAndInput(in: completion, mode: context.format)
            case .instruct: (program, input) = try ProposalReading.programAndInput(in: completion, mode: context.format)
            }
        } catch {
            return .invalid(Invalid(.malformed, "\(error)"))
        }
        switch context.runner.validate(program: program, inputs: [input]) {
        case let .failure(invalid): return .invalid(invalid)
        case let .success(run):
            return .valid(Triple(type: type, program: run.program, input: input, output: run.outputs[0],
                                 imports: ProgramChecks.imports(of: run.program), step: context.step,
                                 source: "proposer:\(String(StableHash.fnv1a64(completion), radix: 16))",
                                 validationSeconds: run.seconds))
        }
    }
}
