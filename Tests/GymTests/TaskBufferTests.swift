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
        XCTAssertEqual(reopened.problems.map(\.description), ["line 2: incomplete final line (an interrupted append); skipped"])
        XCTAssertEqual(reopened.problems.map(\.torn), [true])
        try reopened.add(triple(3))
        let again = try TaskBuffer(name: "deduction", url: url)
        XCTAssertEqual(again.problems, [])
        XCTAssertEqual(again.triples.map(\.step), [1, 3])
    }
}

final class UnreadableLinesTests: XCTestCase {
    func triple(_ n: Int, step: Int) -> Triple {
        Triple(type: "deduction", program: "def f(a):\n    return a + \(n)", input: "1", output: "\(n + 1)", step: step, source: "proposer")
    }

    func sideLines(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: UnreadableLines.sideFile(for: url), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    func testABufferIsNotRewrittenWithoutItsUnreadableLinesUnlessTheyAreKept() throws {
        let url = temporaryDirectory().appendingPathComponent("deduction.jsonl")
        let writer = try TaskBuffer(name: "deduction", url: url)
        try writer.add(triple(1, step: 0))
        try writer.add(triple(2, step: 1))
        // A damaged line in the middle, and the first line again.
        var text = try String(contentsOf: url, encoding: .utf8)
        let first = text.split(separator: "\n")[0]
        text += "{\"program\": broken\n" + first + "\n"
        try text.write(to: url, atomically: true, encoding: .utf8)

        let buffer = try TaskBuffer(name: "deduction", url: url)
        XCTAssertEqual(buffer.problems.map(\.description), ["line 3: not a valid JSON object", "line 4: the same task as an earlier line"])
        XCTAssertThrowsError(try buffer.discard(fromStep: 1)) { error in
            XCTAssertTrue("\(error)".contains("line 3: not a valid JSON object and 1 more"), "\(error)")
            XCTAssertTrue("\(error)".contains("--salvage"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), text, "nothing is rewritten")
        XCTAssertFalse(FileManager.default.fileExists(atPath: UnreadableLines.sideFile(for: url).path))

        XCTAssertEqual(try buffer.discard(fromStep: 1, salvage: true), 1)
        let kept = try sideLines(url)
        XCTAssertEqual(kept.map { $0["line"] as? Int }, [3, 4])
        XCTAssertEqual(kept.first?["text"] as? String, "{\"program\": broken")
        XCTAssertEqual(kept.first?["file"] as? String, "deduction.jsonl")
        let reopened = try TaskBuffer(name: "deduction", url: url)
        XCTAssertEqual(reopened.triples.map(\.step), [0])
        XCTAssertEqual(reopened.problems, [])
    }

    func testMetricsKeepUnreadableLinesAndATornTailGoesAsideOnItsOwn() throws {
        let run = try TrainingRun.create(at: temporaryDirectory().appendingPathComponent("run"), config: TrainingConfig())
        let line = { (step: Int) in StepMetricsJSONTests.metrics(loss: Double(step), solve: 0) }
        for step in 0..<3 {
            var metrics = line(step)
            metrics.step = step
            try run.appendMetrics(metrics)
        }
        var text = try String(contentsOf: run.metricsURL, encoding: .utf8)
        let lines = text.split(separator: "\n")
        // A torn tail alone is a kill's leftover: it is set aside without asking.
        try (text + "{\"step\": 3, \"ti").write(to: run.metricsURL, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run.readMetricsFile().unreadable.map(\.torn), [true])
        try run.discardMetrics(fromStep: 2)
        XCTAssertEqual(try run.readMetrics().map(\.step), [0, 1])
        XCTAssertEqual(try sideLines(run.metricsURL).map { $0["torn"] as? Bool }, [true])

        // A damaged line in the middle stops the rewrite unless salvaged.
        text = lines[0] + "\nnot json\n" + lines[1] + "\n"
        try text.write(to: run.metricsURL, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run.readMetricsFile().unreadable.map(\.description), ["line 2: not a metrics object"])
        XCTAssertThrowsError(try run.discardMetrics(fromStep: 1))
        XCTAssertEqual(try String(contentsOf: run.metricsURL, encoding: .utf8), text)
        try run.discardMetrics(fromStep: 1, salvage: true)
        XCTAssertEqual(try run.readMetrics().map(\.step), [0])
        XCTAssertEqual(try sideLines(run.metricsURL).last?["text"] as? String, "not json")

        // A metrics file that exists but cannot be read is an error, not an empty run.
        try FileManager.default.removeItem(at: run.metricsURL)
        try FileManager.default.createDirectory(at: run.metricsURL, withIntermediateDirectories: true)
        XCTAssertThrowsError(try run.readMetrics())
    }
}
