import Foundation
import Gym
import Sandbox
import Tasks

/// One model's answers on every set of an experiment.
struct ExperimentMeasurement {
    var heldOut: SolverEvaluation.Summary
    var cruxeval: SolverEvaluation.Summary
    var humaneval: BenchmarkEvaluation.Summary?

    /// Every verdict, saved as soon as it is measured (before.json, after.json), so hours of evaluation
    /// survive a later failure and can be re-analysed. While a measurement is under way the sets finished so far
    /// are in before.partial.json (after.partial.json), so a killed experiment re-measures only the unfinished set.
    struct File: Codable {
        var held_out: SolverEvaluation.Summary?
        var cruxeval: SolverEvaluation.Summary?
        var humaneval: [BenchmarkEvaluation.ProblemResult]?

        func save(to url: URL) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: url)
        }

        init(held_out: SolverEvaluation.Summary? = nil, cruxeval: SolverEvaluation.Summary? = nil,
             humaneval: [BenchmarkEvaluation.ProblemResult]? = nil) {
            self.held_out = held_out
            self.cruxeval = cruxeval
            self.humaneval = humaneval
        }

        init(contentsOf url: URL) throws {
            do { self = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)) } catch {
                throw CLIError.usage("cannot read \(url.path): \(error.localizedDescription)")
            }
        }

        /// The HumanEval+ verdicts as the evaluation's summary, when measured.
        var humanevalSummary: BenchmarkEvaluation.Summary? {
            humaneval.map { BenchmarkEvaluation.Summary(problems: $0, totalProblems: $0.count) }
        }
    }

    init(heldOut: SolverEvaluation.Summary, cruxeval: SolverEvaluation.Summary, humaneval: BenchmarkEvaluation.Summary?) {
        self.heldOut = heldOut
        self.cruxeval = cruxeval
        self.humaneval = humaneval
    }

    /// A saved before.json or after.json.
    init(contentsOf url: URL) throws {
        let file = try File(contentsOf: url)
        guard let heldOut = file.held_out, let cruxeval = file.cruxeval else {
            throw CLIError.usage("\(url.path) lacks the held-out or the CRUXEval verdicts")
        }
        self.init(heldOut: heldOut, cruxeval: cruxeval, humaneval: file.humanevalSummary)
    }

    /// Every set's verdicts, as saved.
    var file: File { File(held_out: heldOut, cruxeval: cruxeval, humaneval: humaneval?.problems) }

    /// Measures the sets not yet in `stem`.partial.json, saving each as it finishes, then writes `stem`.json and
    /// removes the partial file. A finished `stem`.json is read back instead. Saved verdicts must be for exactly
    /// the problems asked now; anything else is an error rather than a silently mixed table.
    static func measure(in folder: URL, stem: String, heldOutIDs: [String], cruxevalIDs: [String], humanevalIDs: [String],
                        heldOut: () throws -> SolverEvaluation.Summary, cruxeval: () throws -> SolverEvaluation.Summary,
                        humaneval: () throws -> BenchmarkEvaluation.Summary?, note: (String) -> Void) throws -> ExperimentMeasurement {
        let finished = folder.appendingPathComponent("\(stem).json")
        if FileManager.default.fileExists(atPath: finished.path) {
            note("reading the finished measurement \(finished.path)")
            let saved = try ExperimentMeasurement(contentsOf: finished)
            // A finished measurement fixes the problems; the sets asked now must still hold every one of them.
            for (summary, ids, set) in [(saved.heldOut, heldOutIDs, "held-out"), (saved.cruxeval, cruxevalIDs, "CRUXEval")] {
                let missing = Set(summary.results.map(\.problemKey)).subtracting(ids)
                guard missing.isEmpty else {
                    throw CLIError.usage("\(finished.path) has \(set) verdicts for \(missing.count) problems this experiment no longer has (e.g. \(missing.sorted()[0]))")
                }
            }
            return saved
        }
        let partialURL = folder.appendingPathComponent("\(stem).partial.json")
        var partial = File()
        if FileManager.default.fileExists(atPath: partialURL.path) {
            partial = try File(contentsOf: partialURL)
            let done = [partial.held_out.map { _ in "held-out" }, partial.cruxeval.map { _ in "CRUXEval" },
                        partial.humaneval.map { _ in "HumanEval+" }].compactMap { $0 }
            note("continuing \(partialURL.path)" + (done.isEmpty ? "" : " (done: \(done.joined(separator: ", ")))"))
        }
        if let saved = partial.held_out { try check(saved, heldOutIDs, "held-out", partialURL) } else {
            partial.held_out = try heldOut()
            try partial.save(to: partialURL)
        }
        if let saved = partial.cruxeval { try check(saved, cruxevalIDs, "CRUXEval", partialURL) } else {
            partial.cruxeval = try cruxeval()
            try partial.save(to: partialURL)
        }
        if let saved = partial.humaneval {
            guard saved.map(\.task_id) == humanevalIDs else {
                throw CLIError.usage("\(partialURL.path) holds HumanEval+ verdicts for other problems than this experiment's")
            }
        } else if !humanevalIDs.isEmpty {
            partial.humaneval = try humaneval()?.problems
            try partial.save(to: partialURL)
        }
        let measurement = ExperimentMeasurement(heldOut: partial.held_out!, cruxeval: partial.cruxeval!, humaneval: partial.humanevalSummary)
        try measurement.file.save(to: finished)
        try? FileManager.default.removeItem(at: partialURL)
        return measurement
    }

    private static func check(_ summary: SolverEvaluation.Summary, _ ids: [String], _ set: String, _ url: URL) throws {
        guard summary.results.map(\.problemKey) == ids else {
            throw CLIError.usage("\(url.path) holds \(set) verdicts for other problems than this experiment's")
        }
    }
}
