import Foundation
@testable import Gym
import Tasks
import Trainer
import XCTest

extension XCTestCase {
    /// A new empty folder, removed with everything in it when the test ends (runs, buffers and checkpoints
    /// written there add up to gigabytes over many `make test`s).
    func temporaryDirectory() -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("azr-gym-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

final class TaskBufferTests: XCTestCase {
    func triple(_ n: Int) -> Triple {
        Triple(type: "deduction", program: "def f(a):\n    return a + \(n)", input: "1", output: "\(n + 1)", step: n)
    }

    func testSeedsDeduplicatesAndPersists() throws {
        let url = temporaryDirectory().appendingPathComponent("deduction.jsonl")
        let buffer = try TaskBuffer(name: "deduction", url: url, seed: IdentitySeeds.single(type: "deduction"))
        XCTAssertEqual(buffer.count, 1)
        XCTAssertTrue(try buffer.add(triple(1)))
        var same = triple(1)
        same.program += "   \n"
        XCTAssertFalse(try buffer.add(same), "trailing white space does not make a new task")
        let reopened = try TaskBuffer(name: "deduction", url: url, seed: IdentitySeeds.single(type: "deduction"))
        XCTAssertEqual(reopened.triples, buffer.triples)
        XCTAssertEqual(reopened.problems, [])
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
    }

    func testCorruptLinesAreReportedWithTheirNumbersAndSkipped() throws {
        let url = temporaryDirectory().appendingPathComponent("deduction.jsonl")
        let good = try String(decoding: JSONEncoder().encode(triple(1)), as: UTF8.self)
        let text = [good, "{not json", #"{"type": "deduction", "program": "def f(a): return a"}"#,
                    #"{"type": "deduction", "input": "1", "output": "1"}"#,
                    #"{"type": "deduction", "program": "def f(a):\n    return 2 * a", "input": "2", "output": "4"}"#].joined(separator: "\n") + "\n"
        try text.write(to: url, atomically: true, encoding: .utf8)
        let buffer = try TaskBuffer(name: "deduction", url: url)
        XCTAssertEqual(buffer.count, 2)
        XCTAssertEqual(buffer.problems.map(\.line), [2, 3, 4])
        XCTAssertEqual(buffer.problems[0].reason, "not a valid JSON object")
        XCTAssertEqual(buffer.problems[1].reason, "needs input and output")
        XCTAssertEqual(buffer.problems[2].reason, "missing field \"program\"")
    }

    func testATornFinalLineIsReportedAndRepairedOnTheNextAppend() throws {
        let url = temporaryDirectory().appendingPathComponent("deduction.jsonl")
        let first = try TaskBuffer(name: "deduction", url: url)
        try first.add(triple(1))
        try first.add(triple(2))
        let whole = try Data(contentsOf: url)
        // What a kill in the middle of the second append leaves behind.
        let cut = whole.count - 25
        try whole.prefix(cut).write(to: url)
        let reopened = try TaskBuffer(name: "deduction", url: url)
        XCTAssertEqual(reopened.count, 1)
        XCTAssertEqual(reopened.problems, [BufferProblem(line: 2, reason: "incomplete final line (an interrupted append); skipped")])
        try reopened.add(triple(3))
        let again = try TaskBuffer(name: "deduction", url: url)
        XCTAssertEqual(again.problems, [])
        XCTAssertEqual(again.triples.map(\.step), [1, 3])
    }
}
