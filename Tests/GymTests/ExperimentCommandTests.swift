import Foundation
import Gym
import Trainer
import XCTest

/// `azr experiment` end to end on the smoke preset: held-out proposals, before/after solve rates on the
/// held-out and CRUXEval tasks, and the reward trend, read back from experiment.json against the run's files.
final class ExperimentCommandTests: XCTestCase {
    struct Report: Decodable {
        struct Row: Decodable {
            var type: String
            var tasks: Int
            var before: Double
            var after: Double
        }

        var steps: Int
        var held_out: [Row]
        var cruxeval: [Row]
        var rewards: [Row]
    }

    func testBeforeAndAfterFiguresComeFromTheRun() throws {
        guard DefaultModel.locate() != nil else { throw XCTSkip("the default model is not installed") }
        let crux = try Repository.dataset("cruxeval.jsonl.gz")
        let runs = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runs) }
        let result = try azr(["experiment", "--preset", "smoke", "--minutes", "10", "--name", "e", "--runs", runs.path,
                              "--held-out", "2", "--held-out-rounds", "1", "--cruxeval", "2", "--cruxeval-file", crux])
        XCTAssertEqual(result.status, 0, result.stderr)
        let folder = runs.appendingPathComponent("e")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: folder.appendingPathComponent("experiment.json")))
        XCTAssertEqual(report.steps, 2)
        XCTAssertEqual(report.cruxeval.map(\.type), ["abduction", "deduction"])
        for row in report.cruxeval + report.held_out {
            XCTAssertTrue((0...1).contains(row.before) && (0...1).contains(row.after), "\(row)")
        }
        XCTAssertEqual(report.cruxeval.map(\.tasks), [2, 2])

        // The held-out rows count exactly the base model's valid proposals in the held-out run, none of them seeds.
        let heldOut = try TrainingRun.open(runs.appendingPathComponent("e-heldout"))
        var proposed: [String: Int] = [:]
        for type in ["abduction", "deduction", "induction"] {
            let buffer = try TaskBuffer(name: type, url: heldOut.buffersURL.appendingPathComponent("\(type).jsonl"))
            let count = buffer.triples.filter { $0.source != "seed" }.count
            if count > 0 { proposed[type] = count }
        }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: report.held_out.map { ($0.type, $0.tasks) }), proposed)

        // With two steps the trend compares step 0's rewards with step 1's, as metrics.jsonl records them.
        let metrics = try TrainingRun.open(folder).readMetrics()
        XCTAssertEqual(metrics.count, 2)
        XCTAssertEqual(report.rewards.count, 6)
        for row in report.rewards {
            XCTAssertEqual(row.tasks, 1)
            XCTAssertEqual(row.before, metrics[0].reward[row.type])
            XCTAssertEqual(row.after, metrics[1].reward[row.type])
        }
        let table = try String(contentsOf: folder.appendingPathComponent("experiment.md"))
        XCTAssertTrue(table.contains("| CRUXEval | deduction (CRUXEval-O) | 2 |"), table)
        XCTAssertEqual(result.stdout, table)
    }
}
