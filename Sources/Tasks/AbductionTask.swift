import Sandbox

/// Abduction: the solver sees a program and an output and finds any input that produces it.
public struct AbductionTask: Environment {
    public var name: String { "abduction" }
    public var referenceCount: Int
    public var seed: Triple { IdentitySeeds.single(type: name) }

    public init(referenceCount: Int = 6) { self.referenceCount = referenceCount }

    public func proposerPrompt(references: [Triple]) -> String {
        SingleIOProposal.prompt(goal: "Another reasoner will be shown your program and the value it returns for your input, and must find an input that produces that value.", references: references)
    }

    public func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome {
        SingleIOProposal.propose(type: name, completion: completion, context: context)
    }

    public func solverPrompt(for triple: Triple) -> String {
        AnswerFormat.wrap("""
        ## Task: find an input for which this Python program returns the given value.
        \(Prompts.fence("python", triple.program))
        \(Prompts.fence("output", triple.output ?? ""))
        Any input that works counts. Reason it through, then give the arguments of f (e.g. `"abc", [1, 2]`):
        <answer>
        \(Prompts.fence("input", "the arguments"))
        </answer>
        """)
    }

    public func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome {
        let input: String
        do { input = try AnswerFormat.block("input", in: completion, mode: context.format) } catch { return .malformed("\(error)") }
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
