import Sandbox

/// Deduction: the solver sees a program and an input and predicts the output.
public struct DeductionTask: Environment {
    public var name: String { "deduction" }
    public var referenceCount: Int
    public var seed: Triple { IdentitySeeds.single(type: name) }

    public init(referenceCount: Int = 6) { self.referenceCount = referenceCount }

    public func proposerPrompt(references: [Triple]) -> String {
        SingleIOProposal.prompt(goal: "Another reasoner will be shown your program and input and must work out, without running it, what f returns.", references: references)
    }

    public func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome {
        SingleIOProposal.propose(type: name, completion: completion, context: context)
    }

    public func solverPrompt(for triple: Triple) -> String {
        AnswerFormat.wrap("""
        ## Task: work out what this Python program returns.
        \(Prompts.fence("python", triple.program))
        \(Prompts.fence("input", triple.input ?? ""))
        Reason it through step by step, then give the exact return value of f on this input as a Python literal:
        <answer>
        \(Prompts.fence("output", "the value"))
        </answer>
        """)
    }

    public func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome {
        let text: String
        do { text = try AnswerFormat.block("output", in: completion, mode: context.format) } catch { return .malformed("\(error)") }
        guard let predicted = try? PythonValue(literal: text) else { return .malformed("the output is not a Python literal") }
        guard let truth = triple.output.flatMap({ try? PythonValue(literal: $0) }) else { return .wrong("the task has no output") }
        return predicted == truth ? .correct : .wrong("predicted \(text.prefix(80))")
    }
}
