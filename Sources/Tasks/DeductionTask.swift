import Sandbox

/// Deduction: the solver sees a program and an input and predicts the output.
public struct DeductionTask: Environment {
    public var name: String { "deduction" }
    public var referenceCount: Int
    public var seed: Triple { IdentitySeeds.single(type: name) }

    public init(referenceCount: Int = 6) { self.referenceCount = referenceCount }

    public func proposerPrompt(references: [Triple]) -> String {
        AnswerFormat.wrap("""
        ## Task: write a new Python program and one input for it.
        Another reasoner will be shown your program and input and must work out, without running it, what f \
        returns. Make that possible by careful reasoning but not trivial.
        \(Prompts.programRules)
        \(Prompts.references(references))
        Think first, then answer in exactly this form:
        <answer>
        \(Prompts.fence("python", "def f(...):\n    ..."))
        \(Prompts.fence("input", "the arguments"))
        </answer>
        """)
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
        do { text = try AnswerFormat.block("output", in: completion) } catch { return .malformed("\(error)") }
        guard let predicted = try? PythonValue(literal: text) else { return .malformed("the output is not a Python literal") }
        guard let truth = triple.output.flatMap({ try? PythonValue(literal: $0) }) else { return .wrong("the task has no output") }
        return predicted == truth ? .correct : .wrong("predicted \(text.prefix(80))")
    }
}

/// Abduction: the solver sees a program and an output and finds any input that produces it.
public struct AbductionTask: Environment {
    public var name: String { "abduction" }
    public var referenceCount: Int
    public var seed: Triple { IdentitySeeds.single(type: name) }

    public init(referenceCount: Int = 6) { self.referenceCount = referenceCount }

    public func proposerPrompt(references: [Triple]) -> String {
        AnswerFormat.wrap("""
        ## Task: write a new Python program and one input for it.
        Another reasoner will be shown your program and the value it returns for your input, and must find an \
        input that produces that value. Make that possible by careful reasoning but not trivial.
        \(Prompts.programRules)
        \(Prompts.references(references))
        Think first, then answer in exactly this form:
        <answer>
        \(Prompts.fence("python", "def f(...):\n    ..."))
        \(Prompts.fence("input", "the arguments"))
        </answer>
        """)
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
        do { input = try AnswerFormat.block("input", in: completion) } catch { return .malformed("\(error)") }
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

/// Deduction and abduction proposals have the same shape: one program, one input.
enum SingleIOProposal {
    static func propose(type: String, completion: String, context: TaskContext) -> ProposalOutcome {
        let program: String, input: String
        do {
            program = try AnswerFormat.block("python", in: completion)
            input = try AnswerFormat.block("input", in: completion).trimmingCharacters(in: .whitespacesAndNewlines)
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

/// The identity task every buffer starts from (DESIGN.md §1).
public enum IdentitySeeds {
    public static let program = "def f(a):\n    return a"

    public static func single(type: String) -> Triple {
        Triple(type: type, program: program, input: "'Hello world'", output: "'Hello world'")
    }

    public static func induction() -> Triple {
        let inputs = ["'Hello world'", "1", "[1, 2, 3]", "{'a': 1}", "(True, None)", "2.5"]
        return Triple(type: "induction", program: program, inputs: inputs, outputs: inputs,
                      message: "Write a function that returns whatever you input")
    }
}
