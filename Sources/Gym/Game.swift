import Foundation
import Sandbox
import Tasks
import Trainer

/// A self-play game: how one step turns the policy and the sandbox into samples to learn from. AZR is one;
/// LSP another. The training loop, run folder, resume, progress, `--json` events, report and `azr experiment`
/// know only this protocol, so a new game plugs in without touching them (see `GameCatalog`).
public protocol Game: AnyObject {
    /// The advantage rule the trainer applies to this game's records.
    var advantages: any AdvantageEstimator { get }
    /// The game's random state, saved in state.json after every step so a resumed run draws the same.
    var generator: SeededGenerator { get set }
    /// Hears each phase as it starts (AZR: "proposing", "validating", "learnability", "solving").
    var onPhase: ((String) -> Void)? { get set }
    /// The task buffers the game keeps (name → buffer); a resumed run rewinds them.
    var buffers: [String: TaskBuffer] { get }

    /// Work before step 0, done once per run (AZR grows its buffers with the model's own proposals). Returns a
    /// line for the user, or nil. A kill during it redoes it the same way (the loop rewinds the buffers).
    func prepare(policy: Policy) throws -> String?
    /// Every judged completion of `prepare`, for samples/seeding.jsonl (AZR: each seeding proposal), so a
    /// seeding that adds few tasks shows why.
    var preparationSamples: [TrainingRun.SampleLine] { get }
    /// One step: the records to train on, the game's metrics and the samples log.
    func step(policy: Policy) throws -> GameStep
    /// The game's part of the one-line summary after each step.
    func summary(_ metrics: GameMetrics) -> String
    /// Charts the report draws from the game's metrics, besides the loop's; any other numeric series it finds
    /// gets a chart of its own.
    static var panels: [MetricPanel] { get }
    /// The loop hands every game a way to train throwaway students (SOAR's inner loop uses it; others ignore it).
    func attach(students: StudentLab)
}

extension Game {
    public func attach(students: StudentLab) {}
    public var preparationSamples: [TrainingRun.SampleLine] { [] }
}

/// What one step of a game produced.
public struct GameStep: Sendable {
    public var step: Int
    public var records: [TrainingRecord]
    public var metrics: GameMetrics
    /// Every judged completion of the step, for samples/step-N.jsonl.
    public var samples: [TrainingRun.SampleLine]
    /// Seconds per phase of the game (the loop adds update and checkpoint).
    public var seconds: [String: Double]
    /// Sandbox jobs run and the wall seconds spent waiting on them.
    public var sandboxJobs: Int
    public var sandboxSeconds: Double

    public init(step: Int, records: [TrainingRecord], metrics: GameMetrics, samples: [TrainingRun.SampleLine],
                seconds: [String: Double], sandboxJobs: Int, sandboxSeconds: Double) {
        self.step = step
        self.records = records
        self.metrics = metrics
        self.samples = samples
        self.seconds = seconds
        self.sandboxJobs = sandboxJobs
        self.sandboxSeconds = sandboxSeconds
    }
}

/// One chart a game asks the report for: the series of one metric key (a group draws one line per member).
public struct MetricPanel: Sendable {
    public var title: String
    public var key: String
    public var yLabel: String
    public var yRange: ClosedRange<Double>?
    /// A curve the report fits to a plain-number series and draws beside it, with its parameters in the title.
    public var fit: CurveFit?

    /// Curves a panel may ask for.
    public enum CurveFit: Sendable {
        /// `SaturatingFit`: R0 + (A − R0) / (1 + (C_mid / C)^B) over steps, with its asymptote A.
        case saturating
    }

    public init(title: String, key: String, yLabel: String, yRange: ClosedRange<Double>? = nil, fit: CurveFit? = nil) {
        self.title = title
        self.key = key
        self.yLabel = yLabel
        self.yRange = yRange
        self.fit = fit
    }
}
