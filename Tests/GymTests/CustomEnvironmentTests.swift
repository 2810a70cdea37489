import ExampleTasks
import Gym
import Sandbox
import Tasks
import XCTest

/// The task type in examples/custom-task, registered beside AZR's three and run through the same loop.
final class CustomEnvironmentTests: XCTestCase {
    func testExceptionTaskRunsThroughSelfPlay() throws {
        let pool = try ZygotePool(policyNamed: "default", size: 2)
        defer { pool.shutdown() }
        var registry = EnvironmentRegistry.standard
        registry.register(ExceptionTask())
        XCTAssertEqual(registry.names, ["deduction", "abduction", "induction", "exception"])

        let policy = ScriptedPolicy { request, index in
            guard request.taskType == "exception" else { return "pass" }
            switch request.role {
            case .propose:
                return index == 0
                    ? answer([("python", "def f(d):\n    return d['missing'] + 1"), ("input", "{'present': 1}")])
                    : answer([("python", "def f(x):\n    return x"), ("input", "1")]) // does not raise: invalid
            default:
                return answer([("exception", index % 4 == 0 ? "KeyError" : "ValueError")])
            }
        }
        var settings = SelfPlaySettings()
        settings.proposalsPerType = 2
        settings.solverTasksPerType = 2
        settings.learnabilityRollouts = 4
        let play = try SelfPlay(registry: registry, runner: ProgramRunner(pool: pool), settings: settings, seed: 3)
        let result = try play.step(policy: policy)

        XCTAssertEqual(result.counters.valid["exception"], 1)
        XCTAssertEqual(result.counters.invalid["exception"], ["raised": 1])
        XCTAssertEqual(play.buffers["exception"]?.triples.last?.output, "'KeyError'")
        // One of four learnability rollouts says KeyError: solve rate 1/4, reward 3/4; the invalid one is well
        // formed (it just does not raise), so the format-aware penalty gives it −0.5, not −1.
        let rewards = result.records.filter { $0.group == "exception.propose" }.map(\.reward)
        XCTAssertEqual(rewards, [0.75, -0.5])
        XCTAssertEqual(Set(result.records.map(\.group)).count, 8)
    }
}
