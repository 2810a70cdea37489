import Foundation
import Sandbox
import Tasks
import XCTest

/// Builds a completion in AZR's format from labelled blocks.
func completion(_ blocks: [(String, String)], think: String = "Let me think about it.") -> String {
    let body = blocks.map { "```\($0.0)\n\($0.1)\n```" }.joined(separator: "\n")
    return "\(think)</think> <answer>\n\(body)\n</answer>"
}

final class TaskTypeTests: XCTestCase {
    static var pool: ZygotePool!
    var context: TaskContext { TaskContext(runner: ProgramRunner(pool: Self.pool), step: 3) }

    override class func setUp() {
        super.setUp()
        var policy = try! PolicyLocator.load("default")
        policy.wallTimeoutMilliseconds = 1500
        pool = try! ZygotePool(policy: policy, size: 2)
    }

    override class func tearDown() {
        pool.shutdown()
        super.tearDown()
    }

    let program = "def f(xs, k):\n    return sorted(x * k for x in xs if x % 2)"

    func propose(_ environment: any Environment, _ text: String, references: [Triple] = []) -> ProposalOutcome {
        environment.propose(completion: text, references: references, context: context)
    }

    func reason(_ outcome: ProposalOutcome) -> String {
        if case let .invalid(invalid) = outcome { return invalid.reason.rawValue }
        return "valid"
    }

    func testDeductionEndToEnd() throws {
        let task = DeductionTask()
        let outcome = propose(task, completion([("python", program), ("input", "[3, 1, 4, 1, 5], 2")]))
        let triple = try XCTUnwrap(outcome.triple, reason(outcome))
        XCTAssertEqual(triple.output, "[2, 2, 6, 10]")
        XCTAssertEqual(triple.step, 3)
        XCTAssertTrue(triple.source.hasPrefix("proposer:"))
        let prompt = task.solverPrompt(for: triple)
        XCTAssertTrue(prompt.hasPrefix("User: ") && prompt.hasSuffix("Assistant: <think>"))
        XCTAssertTrue(prompt.contains(program) && prompt.contains("[3, 1, 4, 1, 5], 2"))
        XCTAssertFalse(prompt.contains("[2, 2, 6, 10]"), "the solver must not see the output")
        XCTAssertEqual(task.check(completion: completion([("output", "[2.0, 2, 6, 10]")]), for: triple, context: context), .correct)
        guard case .wrong = task.check(completion: completion([("output", "[2, 6, 10]")]), for: triple, context: context) else { return XCTFail() }
        guard case .malformed = task.check(completion: "the answer is [2, 2, 6, 10]", for: triple, context: context) else { return XCTFail() }
        guard case .malformed = task.check(completion: completion([("output", "sorted([2])")]), for: triple, context: context) else { return XCTFail() }
    }

    func testAbductionAcceptsAnyInputThatWorks() throws {
        let task = AbductionTask()
        let triple = try XCTUnwrap(propose(task, completion([("python", program), ("input", "[3], 4")])).triple)
        XCTAssertEqual(triple.output, "[12]")
        XCTAssertFalse(task.solverPrompt(for: triple).contains("[3], 4"), "the solver must not see the input")
        XCTAssertEqual(task.check(completion: completion([("input", "[3], 4")]), for: triple, context: context), .correct)
        XCTAssertEqual(task.check(completion: completion([("input", "[1, 2], 12")]), for: triple, context: context), .correct)
        XCTAssertEqual(task.check(completion: completion([("input", "[6, 1], 12")]), for: triple, context: context), .correct)
        XCTAssertEqual(task.check(completion: completion([("input", "[3, 1], 4")]), for: triple, context: context), .wrong("f(input) = [4, 12]"))
        guard case .wrong = task.check(completion: completion([("input", "'x', 2")]), for: triple, context: context) else { return XCTFail() }
        guard case .malformed = task.check(completion: completion([("input", "[1,")]), for: triple, context: context) else { return XCTFail() }
    }

    func testInductionEndToEnd() throws {
        let task = InductionTask(inputCount: 6)
        let reference = Triple(type: "deduction", program: program, input: "[1], 1", output: "[1]")
        let inputs = ["[1, 2, 3], 2", "[5], 3", "[], 7", "[2, 4], 1", "[9, 7], -1", "[11], 0"]
        let text = completion(inputs.map { ("input", $0) } + [("message", "Odd numbers times k, sorted.")])
        let triple = try XCTUnwrap(propose(task, text, references: [reference]).triple)
        XCTAssertEqual(triple.outputs, ["[2, 6]", "[15]", "[]", "[]", "[-9, -7]", "[0]"])
        let (shown, hidden) = InductionTask.split(triple)
        XCTAssertEqual(shown.map(\.0), Array(inputs.prefix(3)))
        let prompt = task.solverPrompt(for: triple)
        XCTAssertTrue(prompt.contains("Odd numbers times k") && prompt.contains("[15]"))
        XCTAssertFalse(prompt.contains(hidden[1].0), "held-out inputs must stay hidden")
        let right = completion([("python", "def g(a, b):\n    return sorted(b * v for v in a if v % 2 == 1)")])
        XCTAssertEqual(task.check(completion: right, for: triple, context: context), .correct)
        // Reproduces every shown pair but not the held-out ones.
        let memorised = completion([("python", "def f(xs, k):\n    return {'[1, 2, 3]': [2, 6], '[5]': [15]}.get(str(xs), [])")])
        guard case .wrong = task.check(completion: memorised, for: triple, context: context) else { return XCTFail() }
        guard case .malformed = task.check(completion: "def f(x): return x", for: triple, context: context) else { return XCTFail() }
    }

    func testInvalidProposalsByReason() {
        let task = DeductionTask()
        let cases: [(String, String)] = [
            ("Here is a program: def f(x): return x", "malformed"),
            (completion([("python", "x = 1"), ("input", "1")]), "no_function"),
            (completion([("python", "import random\ndef f(x):\n    return random.random()"), ("input", "1")]), "banned"),
            (completion([("python", "def f(x):\n    return input()"), ("input", "1")]), "banned"),
            (completion([("python", "def f(x) return x"), ("input", "1")]), "syntax_error"),
            (completion([("python", "def f(x):\n    return 1 / x"), ("input", "0")]), "raised"),
            (completion([("python", "def f(x):\n    raise SystemExit(0)"), ("input", "0")]), "raised"),
            (completion([("python", "def f(x):\n    while True:\n        pass"), ("input", "0")]), "timeout"),
            (completion([("python", "def f(x):\n    return id(object()) % 1000003"), ("input", "0")]), "nondeterministic"),
            (completion([("python", "def f(x):\n    return object()"), ("input", "0")]), "not_literal"),
            (completion([("python", "def f(x):\n    return 'x' * 10 ** 7"), ("input", "0")]), "too_large"),
            (completion([("python", "def f(x):\n    return x"), ("input", "open('/etc/passwd')")]), "bad_input"),
            (completion([("python", "P = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'BuiltinImporter'][0].load_module\ndef f(x):\n    return P('posix').fork()"), ("input", "0")]), "killed"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(reason(propose(task, text)), expected, text)
        }
        let induction = InductionTask(inputCount: 10)
        let few = completion((0..<5).map { ("input", "\($0)") } + [("message", "m")])
        XCTAssertEqual(reason(propose(induction, few, references: [IdentitySeeds.single(type: "deduction")])), "too_few_inputs")
        let repeated = completion(Array(repeating: ("input", "1"), count: 10) + [("message", "m")])
        XCTAssertEqual(reason(propose(induction, repeated, references: [IdentitySeeds.single(type: "deduction")])), "too_few_inputs")
    }

    func testProposerPromptsShowTheReferences() {
        let references = [Triple(type: "deduction", program: "def f(q):\n    return q[::-1]", input: "'abc'", output: "'cba'")]
        for environment in [DeductionTask(), AbductionTask()] as [any Environment] {
            let prompt = environment.proposerPrompt(references: references)
            XCTAssertTrue(prompt.hasPrefix("User: ## Task: write a new Python program") && prompt.hasSuffix("Assistant: <think>"))
            XCTAssertTrue(prompt.contains("return q[::-1]") && prompt.contains("'cba'"), prompt)
        }
        let induction = InductionTask().proposerPrompt(references: references)
        XCTAssertTrue(induction.contains("return q[::-1]") && induction.contains("Write 10 different inputs"))
    }

    func testTheFirstFunctionIsRenamedToF() throws {
        let triple = try XCTUnwrap(propose(DeductionTask(), completion([("python", "def double(x):\n    return 2 * x"), ("input", "21")])).triple)
        XCTAssertEqual(triple.output, "42")
        XCTAssertTrue(triple.program.hasPrefix("def f(x):"))
    }
}

final class AnswerFormatTests: XCTestCase {
    func testLastAnswerBlockCountsAndChatterIsIgnored() throws {
        let text = """
        <think>maybe <answer>```output\n1\n```</answer> no wait</think>
        Sure! <answer>
        Here you go:
        ```output
        [1, 2]
        ```
        Hope this helps.
        </answer> trailing words
        """
        XCTAssertEqual(try AnswerFormat.block("output", in: text), "[1, 2]")
    }

    func testBlocksMustBeWellFormed() {
        XCTAssertThrowsError(try AnswerFormat.block("output", in: "no tags at all"))
        XCTAssertThrowsError(try AnswerFormat.block("output", in: "<answer>```output\n1\n</answer>"))
        XCTAssertThrowsError(try AnswerFormat.block("output", in: "<answer>```output\n1\n```"))
        XCTAssertThrowsError(try AnswerFormat.block("output", in: "<answer>```\n1\n```</answer>"))
        XCTAssertThrowsError(try AnswerFormat.block("output", in: "<answer>```output\n1\n```\n```output\n2\n```</answer>"))
        XCTAssertThrowsError(try AnswerFormat.block("input", in: "<answer>```output\n1\n```</answer>"))
    }

    func testStaticChecks() {
        XCTAssertEqual(ProgramChecks.imports(of: "import os, re as r\nfrom collections.abc import X\n  import numpy.linalg\nfrom . import y"),
                       ["os", "re", "collections", "numpy"])
        XCTAssertEqual(ProgramChecks.violation(in: "from datetime import date\ndef f(): pass", banned: ProgramChecks.referenceBannedImports), "imports datetime")
        XCTAssertEqual(ProgramChecks.violation(in: "import os\ndef f():\n    return os.environ", banned: []), "uses os.environ")
        XCTAssertNil(ProgramChecks.violation(in: "def f(input_list):\n    return user_input(1)", banned: []))
        XCTAssertNil(ProgramChecks.withEntryPoint("x = 1"))
    }

    func testRewards() {
        var rewards = RewardSettings()
        XCTAssertEqual(rewards.solver(.correct), 1)
        XCTAssertEqual(rewards.solver(.wrong("x")), -0.5)
        XCTAssertEqual(rewards.solver(.malformed("x")), -1)
        XCTAssertEqual(rewards.proposer(solveRate: 0.25), 0.75)
        XCTAssertEqual(rewards.proposer(solveRate: 0), 0)
        XCTAssertEqual(rewards.proposer(solveRate: 1), 0)
        rewards.extremeSolveRate = -0.5
        XCTAssertEqual(rewards.proposer(solveRate: 1), -0.5)
        // Format-aware: unreadable −1, well formed but invalid −0.5, each a setting.
        XCTAssertEqual(rewards.proposer(invalid: .malformed), -1)
        for reason in InvalidReason.allCases where reason != .malformed { XCTAssertEqual(rewards.proposer(invalid: reason), -0.5, "\(reason)") }
        rewards = try! rewards.applying(["failed_proposal": -0.25])
        XCTAssertEqual(rewards.proposer(invalid: .raised), -0.25)
        XCTAssertThrowsError(try rewards.applying(["failed_proposals": 1])) { XCTAssertTrue("\($0)".contains("failed_proposal")) }
    }
}
