import Sandbox
import Tasks

/// A task type added from outside the gym: "which exception does this program raise?"
///
/// The proposer writes a program and an input on which `f` raises; the environment runs it twice in the
/// sandbox and keeps it only if it raises the same exception both times. The solver sees the program and the
/// input and names the exception's type. Register it beside AZR's three:
///
///     var registry = EnvironmentRegistry.standard
///     registry.register(ExceptionTask())
///     let play = try SelfPlay(registry: registry, runner: runner)
public struct ExceptionTask: Environment {
    public var name: String { "exception" }
    public var referenceCount: Int { 3 }
    public var seed: Triple {
        Triple(type: name, program: "def f(a):\n    return a[0]", input: "[]", output: "'IndexError'")
    }

    public init() {}

    public func proposerPrompt(references: [Triple]) -> String {
        let examples = references.map { "```python\n\($0.program)\n```\n```input\n\($0.input ?? "")\n```\nraises \($0.output ?? "")" }
        return AnswerFormat.wrap("""
        ## Task: write a Python function `f` and an input on which it raises an exception.
        Someone will be shown both and must name the exception's type, so make it take careful reading.
        Existing tasks, for contrast:
        \(examples.joined(separator: "\n\n"))
        <answer>
        ```python
        def f(...):
            ...
        ```
        ```input
        the arguments
        ```
        </answer>
        """)
    }

    public func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome {
        let program: String, input: String
        do { (program, input) = try AnswerFormat.programAndInput(in: completion, mode: context.format) } catch {
            return .invalid(Invalid(.malformed, "\(error)"))
        }
        if let violation = ProgramChecks.violation(in: program, banned: context.runner.bannedImports) {
            return .invalid(Invalid(.banned, violation))
        }
        let report = context.runner.pool.runTwice(SandboxJob(program: program, calls: [input]))
        guard report.first.completed, case let .raised(exception, _)? = report.first.calls.first else {
            return .invalid(Invalid(.raised, "f must raise on its input: \(report.first.summary)"))
        }
        guard report.deterministic else { return .invalid(Invalid(.nondeterministic, report.difference ?? "")) }
        return .valid(Triple(type: name, program: program, input: input, output: PythonValue.str(exception.type).description,
                             step: context.step, source: "proposer", validationSeconds: report.first.wallSeconds))
    }

    public func solverPrompt(for triple: Triple) -> String {
        AnswerFormat.wrap("""
        ## Task: which exception does f raise on this input?
        ```python
        \(triple.program)
        ```
        ```input
        \(triple.input ?? "")
        ```
        Answer with the exception's type name only:
        <answer>
        ```exception
        TypeName
        ```
        </answer>
        """)
    }

    public func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome {
        let answer: String
        do { answer = try AnswerFormat.block("exception", in: completion, mode: context.format).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            return .malformed("\(error)")
        }
        return PythonValue.str(answer).description == triple.output ? .correct : .wrong("said \(answer)")
    }
}
