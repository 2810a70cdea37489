import Foundation
@testable import Gym
import Sandbox
import Trainer
import XCTest

final class BenchmarkTests: XCTestCase {
    static var pool: ZygotePool!

    override class func setUp() {
        super.setUp()
        pool = try! ZygotePool(policyNamed: "benchmark", size: 2)
    }

    override class func tearDown() {
        pool.shutdown()
        super.tearDown()
    }

    func load(_ name: String, first count: Int) throws -> [BenchmarkProblem] {
        Array(try BenchmarkLoader.load(try Repository.dataset(name)).prefix(count))
    }

    func testCanonicalSolutionsPassAndBrokenOnesFail() throws {
        let problems = try load("HumanEvalPlus-v0.1.10.jsonl.gz", first: 8)
        XCTAssertGreaterThan(problems.map(\.plusInputs.count).reduce(0, +), 1000)
        var samples = problems.map { BenchmarkSample(taskID: $0.taskID, program: $0.prompt + $0.canonicalSolution) }
        samples += problems.map { BenchmarkSample(taskID: $0.taskID, program: $0.prompt + "    return None\n") }
        let summary = BenchmarkEvaluation(scorer: BenchmarkScorer(pool: Self.pool)).run(problems: problems, samples: samples)
        XCTAssertEqual(summary.problems.count, 8)
        for result in summary.problems {
            XCTAssertEqual(result.samples, 2)
            XCTAssertEqual(result.base_correct, 1, "\(result.task_id): \(result.verdicts)")
            XCTAssertEqual(result.plus_correct, 1, "\(result.task_id): \(result.verdicts)")
        }
        XCTAssertEqual(summary.passAt(1, plus: false), 0.5)
        XCTAssertEqual(summary.passAt(2, plus: true), 1)
    }

    /// A solution that memorises the base tests passes base and fails plus: what HumanEval+ exists to catch.
    func testMemorisingTheBaseInputsFailsPlus() throws {
        let problem = try XCTUnwrap(try load("HumanEvalPlus-v0.1.10.jsonl.gz", first: 14).first { $0.taskID == "HumanEval/13" })
        let scorer = BenchmarkScorer(pool: Self.pool)
        let oracle = try scorer.oracle(for: problem).get()
        let table = zip(problem.baseInputs, oracle.base).map { "    \(PythonValue.tuple($0)): \($1.output)," }.joined(separator: "\n")
        let program = "TABLE = {\n\(table)\n}\ndef \(problem.entryPoint)(*args):\n    return TABLE.get(args, 0)\n"
        let verdict = scorer.score(program, problem: problem, oracle: oracle)
        XCTAssertTrue(verdict.base, verdict.detail ?? "")
        XCTAssertEqual(verdict.plus, false)
    }

    func testMBPPInputsAreRebuiltLikeEvalplus() throws {
        let problems = try BenchmarkLoader.load(try Repository.dataset("MbppPlus-pre-v0.2.0-399.jsonl.gz"))
            .filter { ["Mbpp/2", "Mbpp/106", "Mbpp/124", "Mbpp/580"].contains($0.taskID) }
        XCTAssertEqual(problems.count, 4)
        guard case .tuple? = problems.first(where: { $0.taskID == "Mbpp/106" })?.baseInputs.first?[1] else { return XCTFail() }
        guard case .complex? = problems.first(where: { $0.taskID == "Mbpp/124" })?.baseInputs.first?[1] else { return XCTFail() }
        let samples = problems.map { BenchmarkSample(taskID: $0.taskID, program: $0.prompt + $0.canonicalSolution) }
        let summary = BenchmarkEvaluation(scorer: BenchmarkScorer(pool: Self.pool)).run(problems: problems, samples: samples)
        for result in summary.problems {
            XCTAssertEqual(result.plus_correct, 1, "\(result.task_id): \(result.verdicts)")
        }
    }

    func testPlainHumanEvalRunsItsCheckFunction() throws {
        let tests = try Self.checkFunctions()
        let problems = try load("HumanEvalPlus-v0.1.10.jsonl.gz", first: 5).map { problem -> BenchmarkProblem in
            var plain = problem
            plain.test = tests[problem.taskID]
            return plain
        }
        let scorer = BenchmarkScorer(pool: Self.pool)
        for problem in problems {
            XCTAssertTrue(scorer.score(problem.prompt + problem.canonicalSolution, problem: problem, oracle: nil).base, problem.taskID)
            XCTAssertFalse(scorer.score(problem.prompt + "    return None\n", problem: problem, oracle: nil).base, problem.taskID)
        }
    }

    /// The evalplus file also carries HumanEval's original `check` test, by task id.
    static func checkFunctions() throws -> [String: String] {
        let text = try BufferFiles.text(of: try Repository.dataset("HumanEvalPlus-v0.1.10.jsonl.gz"))
        var tests: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            tests[object["task_id"] as! String] = object["test"] as? String
        }
        return tests
    }

    func testPassAtKMatchesTheClosedForm() {
        XCTAssertEqual(passAtK(samples: 10, correct: 0, k: 1), 0)
        XCTAssertEqual(passAtK(samples: 10, correct: 3, k: 1), 0.3, accuracy: 1e-12)
        // 1 − C(7, 5) / C(10, 5) = 1 − 21/252
        XCTAssertEqual(passAtK(samples: 10, correct: 3, k: 5), 1 - 21.0 / 252.0, accuracy: 1e-12)
        XCTAssertEqual(passAtK(samples: 10, correct: 6, k: 5), 1)
    }

    func testEvalCommandScoresACompletionsFile() throws {
        let benchmark = try Repository.dataset("HumanEvalPlus-v0.1.10.jsonl.gz")
        let problems = try load("HumanEvalPlus-v0.1.10.jsonl.gz", first: 3)
        let directory = temporaryDirectory()
        let completions = directory.appendingPathComponent("samples.jsonl")
        var lines: [String] = []
        for problem in problems {
            lines.append(try String(decoding: JSONSerialization.data(withJSONObject: ["task_id": problem.taskID, "completion": problem.canonicalSolution]), as: UTF8.self))
            lines.append(try String(decoding: JSONSerialization.data(withJSONObject: ["task_id": problem.taskID, "solution": problem.prompt + "    return None\n"]), as: UTF8.self))
        }
        try (lines.joined(separator: "\n") + "\n").write(to: completions, atomically: true, encoding: .utf8)
        let run = try azr(["eval", "--benchmark", benchmark, "--completions", completions.path, "--limit", "3", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["pass@1"] as? [String: Double], ["base": 0.5, "plus": 0.5])
        XCTAssertNil(report["pass@2"], "only the standard k ≤ n are reported")
        let results = try String(contentsOf: URL(fileURLWithPath: completions.path + ".results.jsonl"), encoding: .utf8)
        XCTAssertEqual(results.split(separator: "\n").count, 3)
        let usage = try azr(["eval", "--benchmark", benchmark, "--canonical", "--completions", completions.path])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("at most one of"), usage.stderr)
    }

    func testCanonicalSolutionsScoreFullMarksOnAllOfHumanEvalPlus() throws {
        let benchmark = try Repository.dataset("HumanEvalPlus-v0.1.10.jsonl.gz")
        let results = temporaryDirectory().appendingPathComponent("canonical.results.jsonl")
        let run = try azr(["eval", "--benchmark", benchmark, "--canonical", "--json", "--results", results.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["problems"] as? Int, 164)
        XCTAssertEqual(report["pass@1"] as? [String: Double], ["base": 1, "plus": 1])
        XCTAssertEqual(try String(contentsOf: results, encoding: .utf8).split(separator: "\n").count, 164)
    }

    /// The model writes solutions; they are saved in evalplus's format and scored like any others.
    func testEvalGeneratesWithTheModelAndSavesSamplesAndResults() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the default model is not installed (`make test` installs it)") }
        let benchmark = try Repository.dataset("HumanEvalPlus-v0.1.10.jsonl.gz")
        let results = temporaryDirectory().appendingPathComponent("model.results.jsonl")
        let run = try azr(["eval", "--benchmark", benchmark, "--limit", "3", "--max-new-tokens", "48", "--json", "--results", results.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["scored"] as? Int, 3)
        XCTAssertNotNil((report["pass@1"] as? [String: Double])?["plus"])
        let samples = try String(contentsOf: URL(fileURLWithPath: results.path.replacingOccurrences(of: ".results.jsonl", with: ".samples.jsonl")),
                                 encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 3)
        let first = try JSONSerialization.jsonObject(with: Data(samples[0].utf8)) as! [String: String]
        XCTAssertEqual(first["task_id"], "HumanEval/0")
        XCTAssertTrue(first["solution"]?.contains("def has_close_elements") == true)
        // Greedy decoding is deterministic: a second run writes the same solutions.
        let again = try azr(["eval", "--benchmark", benchmark, "--limit", "3", "--max-new-tokens", "48", "--json", "--results", results.path + "2.results.jsonl"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try String(contentsOf: URL(fileURLWithPath: results.path + "2.samples.jsonl"), encoding: .utf8),
                       samples.joined(separator: "\n") + "\n")
    }

    func testCRUXEvalRunsAsDeductionAndAbduction() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the default model is not installed (`make test` installs it)") }
        let crux = try Repository.dataset("cruxeval.jsonl.gz")
        let results = temporaryDirectory().appendingPathComponent("crux.results.jsonl")
        let run = try azr(["eval", "--cruxeval", "--benchmark", crux, "--limit", "2", "--max-new-tokens", "48", "--json", "--results", results.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["tasks"] as? [String: Int], ["deduction": 2, "abduction": 2])
        XCTAssertEqual((report["solve_rate"] as? [String: Double])?.keys.sorted(), ["abduction", "deduction"])
        XCTAssertEqual(try String(contentsOf: results, encoding: .utf8).split(separator: "\n").count, 4)
    }
}
