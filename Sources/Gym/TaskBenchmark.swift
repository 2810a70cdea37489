import Dispatch
import Foundation
import Sandbox
import Tasks

/// Triple validations per second through the whole task layer: parse a proposer completion, apply the static
/// rules, run it twice in the sandbox, compare outside, build the triple.
public struct TaskBenchmark {
    public struct Figures: Codable, Sendable {
        public var validations_per_s: Double
        public var checks_per_s_deduction: Double
        public var checks_per_s_abduction: Double
        public var sandbox_runs_per_validation: Double
        public var zygotes: Int
        public var seconds_per_measurement: Double
    }

    /// Programs of the kind AZR proposes, with inputs.
    static let proposals: [(String, String)] = [
        ("def f(s):\n    return ''.join(sorted(set(s), key=s.index))[::-1]", "'mississippi'"),
        ("def f(xs):\n    out = []\n    for i, x in enumerate(xs):\n        out.append(x * i if i % 2 else -x)\n    return out", "[3, 1, 4, 1, 5, 9]"),
        ("def f(d, k):\n    return {v: key for key, v in d.items() if len(key) > k}", "{'apple': 1, 'fig': 2, 'banana': 3}, 3"),
        ("def f(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a", "40"),
        ("import collections\ndef f(words):\n    c = collections.Counter(w[0] for w in words)\n    return sorted(c.items())", "['ant', 'bee', 'asp', 'cat']"),
        ("def f(m):\n    return [list(r) for r in zip(*m)]", "[[1, 2, 3], [4, 5, 6]]"),
        ("def f(s, t):\n    i = 0\n    for ch in t:\n        if i < len(s) and s[i] == ch:\n            i += 1\n    return i == len(s)", "'ace', 'abcde'"),
        ("def f(x):\n    return (x // 3, x % 3, divmod(x, 7), x ** 2 - 1)", "100"),
    ]

    public var seconds: Double
    public let runner: ProgramRunner

    public init(runner: ProgramRunner, seconds: Double = 3) {
        self.runner = runner
        self.seconds = seconds
    }

    public func run() throws -> Figures {
        let context = TaskContext(runner: runner)
        let completions = Self.proposals.map { program, input in
            "</think> <answer>\n```python\n\(program)\n```\n```input\n\(input)\n```\n</answer>"
        }
        let jobsBefore = runner.pool.jobCount
        let validations = try rate { index in
            DeductionTask().propose(completion: completions[index % completions.count], references: [], context: context).triple != nil
        }
        let runsPerValidation = Double(runner.pool.jobCount - jobsBefore) / max(validations.count, 1)
        let triples = completions.compactMap { DeductionTask().propose(completion: $0, references: [], context: context).triple }
        guard triples.count == completions.count else { throw SandboxError.invalidJob("a benchmark proposal did not validate") }
        let deduction = try rate { index in
            let triple = triples[index % triples.count]
            return DeductionTask().check(completion: "<answer>\n```output\n\(triple.output!)\n```\n</answer>", for: triple, context: context) == .correct
        }
        let abduction = try rate { index in
            let triple = triples[index % triples.count]
            return AbductionTask().check(completion: "<answer>\n```input\n\(triple.input!)\n```\n</answer>", for: triple, context: context) == .correct
        }
        return Figures(validations_per_s: validations.rate, checks_per_s_deduction: deduction.rate,
                       checks_per_s_abduction: abduction.rate, sandbox_runs_per_validation: runsPerValidation,
                       zygotes: runner.pool.size, seconds_per_measurement: seconds)
    }

    /// Calls `work` from as many threads as zygotes for `seconds`; every call must succeed.
    private func rate(_ work: @escaping (Int) -> Bool) throws -> (rate: Double, count: Double) {
        let lock = NSLock()
        var done = 0, failed = 0, next = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        DispatchQueue.concurrentPerform(iterations: runner.pool.size) { _ in
            while DispatchTime.now().uptimeNanoseconds < deadline {
                lock.lock()
                let index = next
                next += 1
                lock.unlock()
                let ok = work(index)
                lock.lock()
                if ok { done += 1 } else { failed += 1 }
                lock.unlock()
            }
        }
        guard failed == 0 else { throw SandboxError.invalidJob("\(failed) benchmark tasks failed") }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (Double(done) / elapsed, Double(done))
    }
}
