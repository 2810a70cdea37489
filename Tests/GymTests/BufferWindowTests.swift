import Foundation
import Gym
import Sandbox
import Tasks
import XCTest

/// A buffer cap limits what self-play draws from, to the newest (default) or the oldest triples; the file keeps
/// everything.
final class BufferWindowTests: XCTestCase {
    func triple(_ k: Int) -> Triple {
        Triple(type: "deduction", program: "def f(a):\n    return a + \(k)", input: "1", output: "\(1 + k)", step: -1, source: "replay")
    }

    func testTheWindowKeepsTheNewestOrTheOldest() {
        let triples = (1...6).map(triple)
        XCTAssertEqual(BufferWindow().apply(triples).map(\.output), triples.map(\.output))
        XCTAssertEqual(BufferWindow(capacity: 2).apply(triples).map(\.output), ["6", "7"])
        XCTAssertEqual(BufferWindow(capacity: 2, keep: .oldest).apply(triples).map(\.output), ["2", "3"])
        XCTAssertEqual(BufferWindow(capacity: 10).apply(triples).count, 6)
    }

    func testSelfPlayDrawsReferencesAndSolverTasksOnlyFromTheWindow() throws {
        let pool = try ZygotePool(policyNamed: "default", size: 1)
        defer { pool.shutdown() }
        for (keep, allowed) in [(BufferWindow.Keep.newest, [5, 6]), (.oldest, [1, 2])] {
            let directory = temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("deduction.jsonl")
            let buffer = try TaskBuffer(name: "deduction", url: file)
            for k in 1...6 { XCTAssertTrue(try buffer.add(triple(k))) }

            var settings = SelfPlaySettings()
            settings.proposalsPerType = 4
            settings.solverTasksPerType = 4
            settings.bufferWindow = BufferWindow(capacity: 2, keep: keep)
            let play = try SelfPlay(registry: EnvironmentRegistry([DeductionTask(referenceCount: 2)]), runner: ProgramRunner(pool: pool),
                                    settings: settings, directory: directory, seed: 7)
            // Every proposal is malformed, so the buffer gains nothing and only the six triples can be drawn.
            let result = try play.step(policy: ScriptedPolicy { _, _ in "no idea" })
            func seen(_ text: String) -> Set<Int> { Set((1...6).filter { text.contains("return a + \($0)\n") }) }
            XCTAssertEqual(result.answers.count, 4)
            XCTAssertEqual(Set(result.answers.flatMap { seen($0.task.program + "\n") }), Set(allowed), "\(keep)")
            let shown = result.proposals.map { seen($0.prompt) }
            XCTAssertEqual(shown.count, 4)
            XCTAssertTrue(shown.allSatisfy { $0 == Set(allowed) }, "\(keep): \(shown)")
            XCTAssertEqual(try TaskBuffer(name: "deduction", url: file).count, 6)
        }
    }
}
