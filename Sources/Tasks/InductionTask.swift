import Sandbox

/// Induction: the proposer takes an existing program and writes inputs plus a message describing the
/// function; the solver sees the message and the first half of the input/output pairs and writes a program,
/// which must reproduce the held-out half.
public struct InductionTask: Environment {
    public var name: String { "induction" }
    public var referenceBuffers: [String] { ["deduction", "abduction"] }
    public var referenceCount: Int { 1 }
    /// Inputs the proposer must write (N in the paper).
    public var inputCount: Int
    public var seed: Triple { IdentitySeeds.induction() }

    public init(inputCount: Int = 10) { self.inputCount = inputCount }

    public func proposerPrompt(references: [Triple]) -> String {
        let program = references.first?.program ?? IdentitySeeds.program
        return AnswerFormat.wrap("""
        ## Task: write inputs and a description for an existing Python program.
        \(Prompts.fence("python", program))
        Write \(inputCount) different inputs for f (each the text of its arguments, e.g. `"abc", [1, 2]`) that \
        together reveal what it does, and a short message that helps someone who sees only some of the \
        input/output pairs write the function themselves. Do not paste the code into the message.
        Think first, then answer in exactly this form, one input block per input:
        <answer>
        \(Prompts.fence("input", "the arguments of the first call"))
        \(Prompts.fence("input", "the arguments of the second call"))
        ...
        \(Prompts.fence("message", "the description"))
        </answer>
        """)
    }

    public func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome {
        let program = references.first?.program ?? IdentitySeeds.program
        let inputs: [String], message: String
        do {
            inputs = try AnswerFormat.blocks("input", in: completion, mode: context.format).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            message = try AnswerFormat.block("message", in: completion, mode: context.format).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            return .invalid(Invalid(.malformed, "\(error)"))
        }
        var seen = Set<String>()
        let distinct = inputs.filter { seen.insert($0).inserted }
        guard distinct.count >= inputCount else {
            return .invalid(Invalid(.tooFewInputs, "\(distinct.count) distinct inputs, \(inputCount) needed"))
        }
        let chosen = Array(distinct.prefix(inputCount))
        switch context.runner.validate(program: program, inputs: chosen) {
        case let .failure(invalid): return .invalid(invalid)
        case let .success(run):
            return .valid(Triple(type: name, program: run.program, inputs: chosen, outputs: run.outputs, message: message,
                                 imports: ProgramChecks.imports(of: run.program), step: context.step,
                                 source: "proposer:\(String(StableHash.fnv1a64(completion), radix: 16))",
                                 validationSeconds: run.seconds))
        }
    }

    /// The pairs shown to the solver (first half) and held out (second half).
    public static func split(_ triple: Triple) -> (shown: [(String, String)], hidden: [(String, String)]) {
        let pairs = Array(zip(triple.inputs ?? [], triple.outputs ?? []))
        let half = (pairs.count + 1) / 2
        return (Array(pairs.prefix(half)), Array(pairs.dropFirst(half)))
    }

    public func solverPrompt(for triple: Triple) -> String {
        let shown = Self.split(triple).shown.map { Prompts.fence("input", $0.0) + "\n" + Prompts.fence("output", $0.1) }
        return AnswerFormat.wrap("""
        ## Task: write the Python function these examples come from.
        \(Prompts.fence("message", triple.message ?? ""))
        \(shown.joined(separator: "\n"))
        Write a function `f` that gives these outputs for these inputs and behaves the same way on other inputs:
        <answer>
        \(Prompts.fence("python", "def f(...):\n    ..."))
        </answer>
        """)
    }

    public func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome {
        let program: String
        do { program = try AnswerFormat.block("python", in: completion, mode: context.format) } catch { return .malformed("\(error)") }
        guard let named = ProgramChecks.withEntryPoint(program) else { return .wrong("the answer defines no function") }
        let hidden = Self.split(triple).hidden
        guard !hidden.isEmpty else { return .wrong("the task has no held-out pairs") }
        switch context.runner.outputs(program: named, inputs: hidden.map(\.0)) {
        case let .failure(invalid): return .wrong(invalid.detail)
        case let .success(calls):
            for (call, pair) in zip(calls, hidden) {
                guard let literal = call.literal, let value = try? PythonValue(literal: literal),
                      let expected = try? PythonValue(literal: pair.1), value == expected
                else { return .wrong("differs on input \(pair.0.prefix(60))") }
            }
            return .correct
        }
    }
}
