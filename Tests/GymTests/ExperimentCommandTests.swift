import Foundation
@testable import Gym
import Tasks
import Trainer
import XCTest

/// `azr experiment` end to end on the smoke preset: held-out proposals, paired before/after solve rates (strict
/// and lenient) on the held-out, CRUXEval and HumanEval+ problems, and the reward trend, read back from
/// experiment.json against the run's files.
final class ExperimentCommandTests: XCTestCase {
    struct Report: Decodable {
        struct Comparison: Decodable {
            var problems: Int
            var before: Double
            var after: Double
            var gained: Int
            var lost: Int
            var low: Double
            var high: Double
            var p_value: Double
        }

        struct Row: Decodable {
            var set: String
            var type: String
            var reading: String
            var comparison: Comparison
        }

        struct RewardRow: Decodable {
            var type: String
            var steps: Int
            var first: Double
            var last: Double
        }

        var steps: Int
        var rows: [Row]
        var rewards: [RewardRow]
        struct CurvePoint: Decodable {
            var step: Int
            var reward: [String: Double]
        }
        var curve: [CurvePoint]
    }

    func testBeforeAndAfterFiguresComeFromTheRun() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the default model is not installed") }
        let crux = try Repository.dataset("cruxeval.jsonl.gz")
        let runs = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runs) }
        let result = try azr(["experiment", "--preset", "smoke", "--minutes", "10", "--name", "e", "--runs", runs.path,
                              "--held-out", "2", "--held-out-rounds", "1", "--cruxeval", "3", "--cruxeval-file", crux,
                              "--humaneval", "2", "--humaneval-file", try Repository.dataset("HumanEvalPlus-v0.1.10.jsonl.gz")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let folder = runs.appendingPathComponent("e")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: folder.appendingPathComponent("experiment.json")))
        XCTAssertEqual(report.steps, 2)
        let cruxRows = report.rows.filter { $0.set == "CRUXEval" }
        XCTAssertEqual(cruxRows.map { "\($0.type) \($0.reading)" }, ["abduction strict", "abduction lenient", "deduction strict", "deduction lenient"])
        XCTAssertEqual(cruxRows.map(\.comparison.problems), [3, 3, 3, 3])
        // The CRUXEval rows split into the echo problems (sample_2: the output is the argument) and the rest,
        // over exactly the CRUXEval rows' problems and solves.
        let echoes = EchoProblems.keys(in: try BufferFiles.cruxeval(from: crux, limit: 3))
        XCTAssertEqual(echoes.count, 2)
        for type in ["abduction", "deduction"] {
            for reading in ["strict", "lenient"] {
                let whole = try XCTUnwrap(cruxRows.first { $0.type == type && $0.reading == reading }).comparison
                let echo = try XCTUnwrap(report.rows.first { $0.set == "CRUXEval, output equals an argument" && $0.type == type && $0.reading == reading }).comparison
                let rest = try XCTUnwrap(report.rows.first { $0.set == "CRUXEval, output is no argument" && $0.type == type && $0.reading == reading }).comparison
                XCTAssertEqual([echo.problems, rest.problems], [1, 2])
                XCTAssertEqual(echo.before + 2 * rest.before, 3 * whole.before, accuracy: 1e-9)
                XCTAssertEqual(echo.after + 2 * rest.after, 3 * whole.after, accuracy: 1e-9)
            }
        }
        XCTAssertEqual(report.rows.filter { $0.set == "HumanEval+" }.map { "\($0.reading) \($0.comparison.problems)" }, ["base tests 2", "plus tests 2"])
        for row in report.rows {
            let c = row.comparison
            XCTAssertTrue((0...1).contains(c.before) && (0...1).contains(c.after), "\(row)")
            // The change is exactly what the changed problems make it, and lies inside its interval.
            XCTAssertEqual(c.after - c.before, Double(c.gained - c.lost) / Double(c.problems), accuracy: 1e-12)
            XCTAssertTrue(c.low <= c.after - c.before + 1e-12 && c.after - c.before <= c.high + 1e-12, "\(row)")
            XCTAssertTrue((0...1).contains(c.p_value), "\(row)")
        }

        // The held-out rows count exactly the base model's valid proposals in the held-out run, none of them seeds.
        let heldOut = try TrainingRun.open(runs.appendingPathComponent("e-heldout"))
        var proposed: [String: Int] = [:]
        for type in ["abduction", "deduction", "induction"] {
            let buffer = try TaskBuffer(name: type, url: heldOut.buffersURL.appendingPathComponent("\(type).jsonl"))
            let count = buffer.triples.filter { $0.source != "seed" }.count
            if count > 0 { proposed[type] = count }
        }
        let heldOutRows = report.rows.filter { $0.set == "held-out, self-generated" && $0.reading == "strict" && $0.type != "all" }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: heldOutRows.map { ($0.type, $0.comparison.problems) }), proposed)
        // With several types, a pooled row counts them all, and its solved tasks are the per-type rows' sum.
        let pooled = report.rows.filter { $0.set == "held-out, self-generated" && $0.reading == "strict" && $0.type == "all" }
        XCTAssertEqual(pooled.map(\.comparison.problems), proposed.count > 1 ? [proposed.values.reduce(0, +)] : [])
        if let all = pooled.first?.comparison {
            XCTAssertEqual(all.before * Double(all.problems), heldOutRows.map { $0.comparison.before * Double($0.comparison.problems) }.reduce(0, +), accuracy: 1e-9)
        }

        // With two steps the trend compares step 0's rewards with step 1's, as metrics.jsonl records them.
        let metrics = try TrainingRun.open(folder).readMetrics()
        XCTAssertEqual(metrics.count, 2)
        XCTAssertEqual(report.rewards.count, 6)
        for row in report.rewards {
            XCTAssertEqual(row.steps, 1)
            XCTAssertEqual(row.first, metrics[0].reward[row.type])
            XCTAssertEqual(row.last, metrics[1].reward[row.type])
        }
        // The learning curve is every step's rewards, as metrics.jsonl records them.
        XCTAssertEqual(report.curve.map(\.step), [1, 2])
        XCTAssertEqual(report.curve.map(\.reward), metrics.map(\.reward))
        // Every verdict is kept beside the table.
        for name in ["before.json", "after.json"] {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as? [String: Any]
            XCTAssertEqual(object.map { Set($0.keys) }, ["held_out", "cruxeval", "humaneval"], name)
        }
        let table = try String(contentsOf: folder.appendingPathComponent("experiment.md"))
        XCTAssertTrue(table.contains("| CRUXEval | deduction (CRUXEval-O) | strict | 3 |"), table)
        XCTAssertTrue(table.contains("| CRUXEval, output equals an argument | deduction (CRUXEval-O) | strict | 1 |"), table)
        XCTAssertEqual(result.stdout, table)
        XCTAssertTrue(table.contains("| step | abduction.propose |"), table)
        XCTAssertTrue(table.contains("azr report \(runs.path)/e`"), table)

        // --report-only rebuilds the same tables from the saved verdicts, without running anything.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("experiment.md"))
        let again = try azr(["experiment", "--report-only", "--name", "e", "--runs", runs.path])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout, table)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("experiment.md")), table)
        // --targets-from: another run's (SGS's) held-out and trained CRUXEval targets get rows of their own, over
        // exactly those problems; a folder without targets.json is refused in one line.
        let verdicts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("before.json"))) as? [String: Any])
        let results = try XCTUnwrap((verdicts["cruxeval"] as? [String: Any])?["results"] as? [[String: Any]])
        let keys = results.compactMap { result in (result["type"] as? String).flatMap { type in (result["id"] as? String).map { "\(type)/\($0)" } } }
        XCTAssertEqual(keys.count, 6)
        let sgsRun = runs.appendingPathComponent("sgs-run")
        try FileManager.default.createDirectory(at: sgsRun, withIntermediateDirectories: true)
        let selection = SGSTargets.Selection(source: "cruxeval", file: crux, seed: 0, held_out_fraction: 0.5,
                                             targets: [keys[0]], held_out: Array(keys.dropFirst()))
        try JSONEncoder().encode(selection).write(to: sgsRun.appendingPathComponent("targets.json"))
        let compared = try azr(["experiment", "--report-only", "--name", "e", "--runs", runs.path, "--targets-from", sgsRun.path])
        XCTAssertEqual(compared.status, 0, compared.stderr)
        let withTargets = try JSONDecoder().decode(Report.self, from: Data(contentsOf: folder.appendingPathComponent("experiment.json")))
        let heldOutTargets = withTargets.rows.filter { $0.set == "CRUXEval, held-out targets of sgs-run" && $0.reading == "strict" }
        XCTAssertEqual(heldOutTargets.first { $0.type == "all" }?.comparison.problems, 5)
        XCTAssertEqual(withTargets.rows.filter { $0.set == "CRUXEval, trained targets of sgs-run" && $0.reading == "strict" }.map(\.comparison.problems), [1])
        let notSGS = try azr(["experiment", "--report-only", "--name", "e", "--runs", runs.path, "--targets-from", runs.path])
        XCTAssertNotEqual(notSGS.status, 0)
        XCTAssertTrue(notSGS.stderr.contains("has no targets.json"), notSGS.stderr)
        XCTAssertEqual(notSGS.stderr.split(separator: "\n").count, 1, notSGS.stderr)
        // A SOAR run records its hard set the same way; its rows say what the two parts are.
        let soarRun = runs.appendingPathComponent("soar-run")
        _ = try TrainingRun.create(at: soarRun, config: TrainingConfig.preset("smoke", game: "soar"))
        try JSONEncoder().encode(selection).write(to: soarRun.appendingPathComponent("targets.json"))
        let soar = try azr(["experiment", "--report-only", "--name", "e", "--runs", runs.path, "--targets-from", soarRun.path])
        XCTAssertEqual(soar.status, 0, soar.stderr)
        let withHard = try JSONDecoder().decode(Report.self, from: Data(contentsOf: folder.appendingPathComponent("experiment.json")))
        XCTAssertEqual(withHard.rows.filter { $0.set == "CRUXEval, held-out hard problems of soar-run" && $0.reading == "strict" }
            .first { $0.type == "all" }?.comparison.problems, 5)
        XCTAssertEqual(withHard.rows.filter { $0.set == "CRUXEval, hard problems (teacher's reward) of soar-run" && $0.reading == "strict" }
            .map(\.comparison.problems), [1])
        // An unfinished experiment (the trained model has answered the held-out set only) reports that set and
        // names the others.
        let afterURL = folder.appendingPathComponent("after.json")
        var saved = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: afterURL)) as? [String: Any])
        saved["cruxeval"] = nil
        saved["humaneval"] = nil
        try JSONSerialization.data(withJSONObject: saved).write(to: folder.appendingPathComponent("after.partial.json"))
        try FileManager.default.removeItem(at: afterURL)
        let unfinished = try azr(["experiment", "--report-only", "--name", "e", "--runs", runs.path])
        XCTAssertEqual(unfinished.status, 0, unfinished.stderr)
        XCTAssertTrue(unfinished.stdout.contains("Unfinished: the trained model has not answered CRUXEval, HumanEval+ yet"), unfinished.stdout)
        XCTAssertFalse(unfinished.stdout.contains("| CRUXEval |"), unfinished.stdout)
        XCTAssertEqual(unfinished.stdout.components(separatedBy: "| held-out, self-generated |").count,
                       table.components(separatedBy: "| held-out, self-generated |").count, unfinished.stdout)

        let missing = try azr(["experiment", "--report-only", "--name", "nothing-here", "--runs", runs.path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    /// An experiment killed in each of its parts — proposing the held-out set, measuring the base model (with
    /// two sets already saved), training, measuring the trained model — and resumed each time ends with the
    /// same tables as one that ran straight through.
    /// `--held-out-from`: another experiment's finished held-out set, proposed by the same model, is copied in and
    /// measured; an unfinished set or another model's is refused before anything is created.
    func testAHeldOutSetFromAnotherExperimentIsUsedOnlyWhenItFits() throws {
        guard let small = DefaultModel.locateSmall() else { throw XCTSkip("the small model is not installed") }
        let runs = temporaryDirectory()
        func donor(_ name: String, model: String, seeded: Bool) throws -> String {
            try heldOutDonor(at: runs.appendingPathComponent(name), model: model, seeded: seeded)
        }
        func experiment(_ name: String, from heldOut: String) throws -> CommandRun {
            try azr(["experiment", "--preset", "smoke", "--model", small, "--held-out-from", heldOut, "--name", name,
                     "--runs", runs.path, "--minutes", "0", "--cruxeval", "0", "--humaneval", "0"])
        }
        let unfinished = try experiment("a", from: try donor("unfinished", model: small, seeded: false))
        XCTAssertEqual(unfinished.status, 2)
        XCTAssertTrue(unfinished.stderr.contains("has not finished proposing its tasks"), unfinished.stderr)
        let foreign = try experiment("b", from: try donor("foreign", model: "/etc/hostname", seeded: true))
        XCTAssertEqual(foreign.status, 2)
        XCTAssertTrue(foreign.stderr.contains("was proposed by /etc/hostname"), foreign.stderr)
        for refused in ["a", "b", "a-heldout", "b-heldout"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: runs.appendingPathComponent(refused).path), refused)
        }

        let source = try donor("fits", model: small, seeded: true)
        let result = try experiment("c", from: source)
        XCTAssertEqual(result.status, 0, result.stderr)
        let copied = try TaskBuffer(name: "deduction", url: runs.appendingPathComponent("c-heldout/buffers/deduction.jsonl"))
        XCTAssertEqual(copied.triples.filter { $0.source == "proposer:test" }.count, 2)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: runs.path).contains { $0.hasSuffix(".partial") },
                       "the copy was renamed into place")
        let before = try JSONSerialization.jsonObject(with: Data(contentsOf: runs.appendingPathComponent("c/before.json"))) as? [String: Any]
        let heldOut = try XCTUnwrap((before?["held_out"] as? [String: Any])?["results"] as? [[String: Any]])
        XCTAssertEqual(heldOut.count, 2)
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: runs.appendingPathComponent("c/experiment-plan.json"))) as? [String: Any]
        XCTAssertEqual(plan?["held_out_from"] as? String, source)
    }

    /// `--cruxeval-directions output` measures output prediction only, and the saved plan keeps the choice; an
    /// unknown direction is refused before anything is created.
    func testCRUXEvalDirectionsChooseTheTypesMeasured() throws {
        guard let small = DefaultModel.locateSmall() else { throw XCTSkip("the small model is not installed") }
        let runs = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runs) }
        let source = try heldOutDonor(at: runs.appendingPathComponent("donor"), model: small, seeded: true)
        func experiment(_ name: String, directions: String) throws -> CommandRun {
            try azr(["experiment", "--preset", "smoke", "--model", small, "--held-out-from", source, "--name", name,
                     "--runs", runs.path, "--minutes", "0", "--cruxeval", "3", "--cruxeval-directions", directions,
                     "--cruxeval-file", try Repository.dataset("cruxeval.jsonl.gz"), "--humaneval", "0"])
        }
        let refused = try experiment("a", directions: "sideways")
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("--cruxeval-directions is both, output or input, not sideways"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs.appendingPathComponent("a").path))

        let result = try experiment("b", directions: "output")
        XCTAssertEqual(result.status, 0, result.stderr)
        let before = try JSONSerialization.jsonObject(with: Data(contentsOf: runs.appendingPathComponent("b/before.json"))) as? [String: Any]
        let crux = try XCTUnwrap((before?["cruxeval"] as? [String: Any])?["results"] as? [[String: Any]])
        XCTAssertEqual(crux.compactMap { $0["type"] as? String }, ["deduction", "deduction", "deduction"])
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: runs.appendingPathComponent("b/experiment-plan.json"))) as? [String: Any]
        XCTAssertEqual(plan?["cruxeval_types"] as? [String], ["deduction"])
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: runs.appendingPathComponent("b/experiment.json")))
        XCTAssertEqual(Set(report.rows.filter { $0.set == "CRUXEval" }.map(\.type)), ["deduction"])
    }

    /// A finished (or, with `seeded` false, unfinished) held-out run of two deduction tasks proposed by `model`.
    private func heldOutDonor(at folder: URL, model: String, seeded: Bool) throws -> String {
        var config = (try TrainingConfig.preset("smoke"))
        config.model = model
        config.steps = 0
        let run = try TrainingRun.create(at: folder, config: config)
        let buffer = try TaskBuffer(name: "deduction", url: run.buffersURL.appendingPathComponent("deduction.jsonl"))
        for (input, output) in [("'ab'", "'ba'"), ("'xyz'", "'zyx'")] {
            _ = try buffer.add(Triple(type: "deduction", program: "def f(s):\n    return s[::-1]", input: input, output: output,
                                      source: "proposer:test"))
        }
        if seeded {
            try run.writeState(.init(completedSteps: 0, generator: SeededGenerator(seed: 1), policyCalls: 0, checkpoint: nil, seeded: true))
        }
        return run.directory.path
    }

    func testAKilledExperimentResumesToTheSameTables() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the default model is not installed") }
        let runs = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runs) }
        let measured = ["--minutes", "10", "--held-out", "2", "--held-out-rounds", "1", "--cruxeval", "2",
                        "--cruxeval-file", try Repository.dataset("cruxeval.jsonl.gz"),
                        "--humaneval", "2", "--humaneval-file", try Repository.dataset("HumanEvalPlus-v0.1.10.jsonl.gz")]
        let arguments = ["experiment", "--preset", "smoke", "--runs", runs.path, "--seed", "3"] + measured
        let straight = try azr(arguments + ["--name", "straight"])
        XCTAssertEqual(straight.status, 0, straight.stderr)

        let resume = ["experiment", "--resume", "--name", "killed", "--runs", runs.path]
        let killed = runs.appendingPathComponent("killed")
        try startAndKill(arguments + ["--name", "killed"], at: "[seeding] seeding")
        try startAndKill(resume, at: "solving (before), HumanEval+")
        // The held-out and CRUXEval verdicts were saved before the kill and are not measured again.
        let partial = try JSONSerialization.jsonObject(with: Data(contentsOf: killed.appendingPathComponent("before.partial.json"))) as? [String: Any]
        XCTAssertEqual(partial.map { Set($0.keys) }, ["held_out", "cruxeval"])
        try startAndKill(resume, at: "[step 2/2]")
        try startAndKill(resume, at: "solving (after)")
        let finished = try azr(resume)
        XCTAssertEqual(finished.status, 0, finished.stderr)
        XCTAssertTrue(finished.stderr.contains("reading the finished measurement \(killed.path)/before.json"), finished.stderr)

        func tables(_ name: String) throws -> NSDictionary {
            let url = runs.appendingPathComponent(name).appendingPathComponent("experiment.json")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            return NSDictionary(dictionary: object.filter { ["rows", "rewards", "curve", "steps", "minutes"].contains($0.key) })
        }
        XCTAssertEqual(try tables("killed"), try tables("straight"))
        XCTAssertEqual(finished.stdout, straight.stdout.replacingOccurrences(of: "straight", with: "killed"))
        let left = try FileManager.default.contentsOfDirectory(atPath: killed.path)
        XCTAssertFalse(left.contains { $0.hasSuffix(".partial.json") }, "\(left)")

        // Resuming a finished experiment measures nothing again and prints the same table; so does one saved
        // before plan files, which takes the command line's settings.
        try FileManager.default.removeItem(at: killed.appendingPathComponent("experiment-plan.json"))
        let again = try azr(resume + measured)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout, finished.stdout)
        XCTAssertTrue(again.stderr.contains("has no experiment-plan.json"), again.stderr)
        XCTAssertTrue(again.stderr.contains("reading the finished measurement \(killed.path)/after.json"), again.stderr)

        // A second experiment under a used name is refused with a pointer to --resume.
        let clash = try azr(arguments + ["--name", "killed"])
        XCTAssertNotEqual(clash.status, 0)
        XCTAssertTrue(clash.stderr.contains("azr experiment --resume --name killed"), clash.stderr)
        XCTAssertEqual(clash.stderr.split(separator: "\n").count, 1, clash.stderr)
    }
}
