import Foundation
import Gym
import Sandbox

/// What an experiment measures and for how long, saved as runs/NAME/experiment-plan.json when it starts, so
/// `azr experiment --resume` continues with the same problems and time box whatever the command line says.
struct ExperimentPlan: Codable, Equatable {
    var minutes: Double
    var heldOut: Int
    var heldOutRounds: Int
    var heldOutProposals: Int
    var cruxeval: Int
    var cruxevalFile: String
    /// The CRUXEval task types measured (deduction: output prediction, abduction: input prediction); nil, as in
    /// plans saved before the choice existed, is both.
    var cruxevalTypes: [String]?
    var humaneval: Int
    var humanevalFile: String?
    /// The held-out folder copied in with `--held-out-from`, nil when the experiment proposed its own.
    var heldOutFrom: String?
    /// The steps trained, once training is over (the time box is spent or the steps are done): a resumed
    /// experiment then goes straight to the trained model's measurement.
    var trainedSteps: Int?

    enum CodingKeys: String, CodingKey {
        case minutes, cruxeval
        case heldOut = "held_out", heldOutRounds = "held_out_rounds", heldOutProposals = "held_out_proposals"
        case cruxevalFile = "cruxeval_file", humaneval, humanevalFile = "humaneval_file", trainedSteps = "trained_steps"
        case heldOutFrom = "held_out_from", cruxevalTypes = "cruxeval_types"
    }

    /// The CRUXEval task types measured, in the order they are answered.
    var measuredCRUXEvalTypes: [String] { cruxevalTypes ?? BufferFiles.cruxevalTypes }

    static func url(in run: URL) -> URL { run.appendingPathComponent("experiment-plan.json") }

    /// The plan saved in `run`, nil when the experiment predates plan files.
    static func saved(in run: URL) throws -> ExperimentPlan? {
        let url = url(in: run)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(ExperimentPlan.self, from: Data(contentsOf: url)) } catch {
            throw CLIError.usage("cannot read \(url.path): \(error.localizedDescription)")
        }
    }

    func save(in run: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: Self.url(in: run))
    }
}
