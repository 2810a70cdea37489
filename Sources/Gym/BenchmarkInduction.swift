import Foundation
import Sandbox
import Tasks

/// HumanEval+ and MBPP+ problems as induction triples, so they can be SGS targets: the message is the problem's
/// prompt (HumanEval+: signature and docstring; MBPP+: the one-line task), the inputs are its test inputs (base
/// first, then plus, at most `maxInputs` distinct), and the outputs are what its canonical solution returns on
/// them, run in the sandbox. The solver sees the message and the first half of the calls, as any induction
/// task, and must write `f` that reproduces all of them: the benchmark's own tests, cut to those inputs and
/// compared exactly (evalplus compares floats within `atol`; a problem with float outputs is stricter here).
public enum BenchmarkInduction {
    /// The triples, and how many problems could not become one (the canonical solution failed validation —
    /// a banned import, a timeout, a non-literal result — or fewer than two distinct inputs).
    public static func triples(from problems: [BenchmarkProblem], runner: ProgramRunner, maxInputs: Int = 10) -> (triples: [Triple], rejected: Int) {
        let converted = concurrentMap(problems.indices) { index -> Triple? in
            let problem = problems[index]
            var seen = Set<String>()
            let inputs = (problem.baseInputs + problem.plusInputs)
                .map { $0.map(\.description).joined(separator: ", ") }
                .filter { seen.insert($0).inserted }
                .prefix(maxInputs)
            guard inputs.count >= 2 else { return nil }
            // `f` calls the entry point, so helpers defined before it (HumanEval/10) stay as they are.
            let program = problem.prompt + problem.canonicalSolution + "\n\ndef f(*args):\n    return \(problem.entryPoint)(*args)\n"
            guard case let .success(run) = runner.validate(program: program, inputs: Array(inputs)), run.outputs.count == inputs.count else {
                return nil
            }
            return Triple(type: "induction", program: run.program, inputs: Array(inputs), outputs: run.outputs,
                          message: problem.prompt.trimmingCharacters(in: .whitespacesAndNewlines),
                          imports: ProgramChecks.imports(of: run.program), source: "import:\(problem.taskID)")
        }
        let triples = converted.compactMap { $0 }
        return (triples, problems.count - triples.count)
    }
}
