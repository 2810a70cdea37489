import Foundation
import Gym

/// Before/after solve rates of an experiment, paired per problem.
struct ExperimentReport: Codable {
    /// One set × task type × reading.
    struct Row: Codable {
        var set: String
        var type: String
        /// strict or lenient (HumanEval+: base or plus tests).
        var reading: String
        var comparison: PairedComparison
    }

    /// Mean training reward per task × role over the first and the last steps.
    struct RewardRow: Codable {
        var type: String
        var steps: Int
        var first: Double
        var last: Double
    }

    /// One training step's mean reward per task × role: the learning curve beside the before/after table.
    struct CurvePoint: Codable {
        var step: Int
        var reward: [String: Double]
    }

    var run: String
    /// The folder that holds the run.
    var runs: String
    /// The self-play game trained (azr, lsp, sgs, …).
    var game: String
    var preset: String
    var minutes: Double
    var steps: Int
    var rows: [Row] = []
    var rewards: [RewardRow]
    var curve: [CurvePoint]
    /// Sets the trained model has not answered yet (an unfinished experiment's report).
    var unmeasured: [String] = []

    init(run: String, runs: String, game: String, preset: String, minutes: Double, steps: Int, metrics: [StepMetrics]) {
        self.run = run
        self.runs = runs
        self.game = game
        self.preset = preset
        self.minutes = minutes
        self.steps = steps
        rewards = Self.rewardTrend(metrics)
        curve = metrics.map { CurvePoint(step: $0.step + 1, reward: $0.reward) }
    }

    /// Solved means every answer to the task was right (greedy: its one answer). With `pooled`, a row per reading
    /// over all task types together follows the per-type rows (when there are several types).
    /// With `only`, just the problems whose keys it holds (e.g. an SGS run's held-out targets).
    mutating func add(set: String, _ before: SolverEvaluation.Summary, _ after: SolverEvaluation.Summary, pooled: Bool = false,
                      only: Set<String>? = nil) {
        let afterByID = Dictionary(after.results.map { ($0.problemKey, $0) }, uniquingKeysWith: { first, _ in first })
        let measured = before.results.filter { only?.contains($0.problemKey) ?? true }
        let types = Set(measured.map(\.type)).sorted()
        for type in types + (pooled && types.count > 1 ? ["all"] : []) {
            let pairs = measured.filter { type == "all" || $0.type == type }
                .compactMap { result in afterByID[result.problemKey].map { (result, $0) } }
            for (reading, count) in [("strict", \SolverEvaluation.TaskResult.strict_correct), ("lenient", \SolverEvaluation.TaskResult.lenient_correct)] {
                rows.append(Row(set: set, type: type, reading: reading, comparison: PairedComparison(
                    before: pairs.map { $0.0[keyPath: count] == $0.0.samples && $0.0.samples > 0 },
                    after: pairs.map { $0.1[keyPath: count] == $0.1.samples && $0.1.samples > 0 })))
            }
        }
    }

    mutating func add(humanEval before: BenchmarkEvaluation.Summary, _ after: BenchmarkEvaluation.Summary) {
        let afterByID = Dictionary(after.problems.map { ($0.task_id, $0) }, uniquingKeysWith: { first, _ in first })
        let pairs = before.problems.compactMap { problem in afterByID[problem.task_id].map { (problem, $0) } }
        rows.append(Row(set: "HumanEval+", type: "pass@1", reading: "base tests", comparison: PairedComparison(
            before: pairs.map { $0.0.base_correct > 0 }, after: pairs.map { $0.1.base_correct > 0 })))
        if before.hasPlus {
            rows.append(Row(set: "HumanEval+", type: "pass@1", reading: "plus tests", comparison: PairedComparison(
                before: pairs.map { ($0.0.plus_correct ?? 0) > 0 }, after: pairs.map { ($0.1.plus_correct ?? 0) > 0 })))
        }
    }

    static func rewardTrend(_ metrics: [StepMetrics]) -> [RewardRow] {
        let window = max(1, min(3, metrics.count / 3))
        guard metrics.count >= 2 else { return [] }
        let first = metrics.prefix(window), last = metrics.suffix(window)
        let keys = Set(metrics.flatMap(\.reward.keys)).sorted()
        func mean(_ lines: ArraySlice<StepMetrics>, _ key: String) -> Double {
            let values = lines.compactMap { $0.reward[key] }
            return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }
        return keys.map { RewardRow(type: $0, steps: window, first: mean(first, $0), last: mean(last, $0)) }
    }

    /// The run's folder as the user named it, for the `azr report` hint.
    var folder: String { (runs as NSString).appendingPathComponent(run) }

    var markdown: String {
        var text = "Run \(run): game \(game), preset \(preset), \(steps) steps in at most \(Int(minutes)) minutes; greedy, the same problems before and after.\n\n"
        if !unmeasured.isEmpty {
            text += "Unfinished: the trained model has not answered \(unmeasured.joined(separator: ", ")) yet (`azr experiment --resume` continues it).\n\n"
        }
        text += "| problems | type | reading | n | before | after | change [95% CI], McNemar p |\n|---|---|---|---:|---:|---:|---|\n"
        let names = ["deduction": "deduction (CRUXEval-O)", "abduction": "abduction (CRUXEval-I)"]
        if !rows.contains(where: { $0.set == "held-out, self-generated" }) {
            text += "| held-out, self-generated | – | – | 0 | the base model proposed no valid task | | |\n"
        }
        for row in rows {
            let c = row.comparison
            text += String(format: "| %@ | %@ | %@ | %d | %.1f%% | %.1f%% | %@ |\n", row.set, row.set.hasPrefix("CRUXEval") ? names[row.type] ?? row.type : row.type,
                           row.reading, c.problems, c.before * 100, c.after * 100, c.text)
        }
        if let window = rewards.first?.steps {
            let scale = game == "azr" ? "−1 format error, −0.5 wrong or invalid, up to 1" : "on \(game)'s own scale"
            text += "\nMean training reward (\(scale)), first \(window) steps against last \(window):\n\n"
            text += "| task × role | first | last | change |\n|---|---:|---:|---:|\n"
            for row in rewards {
                text += String(format: "| %@ | %.2f | %.2f | %+.2f |\n", row.type, row.first, row.last, row.last - row.first)
            }
        }
        let keys = Set(curve.flatMap(\.reward.keys)).sorted()
        if !curve.isEmpty && !keys.isEmpty {
            text += "\nLearning curve, mean reward per step:\n\n| step | " + keys.joined(separator: " | ") + " |\n|---:|"
            text += String(repeating: "---:|", count: keys.count) + "\n"
            for point in curve {
                text += "| \(point.step) | " + keys.map { key in point.reward[key].map { String(format: "%.2f", $0) } ?? "–" }
                    .joined(separator: " | ") + " |\n"
            }
        }
        text += "\nEvery chart of the run: `azr report \(folder)`.\n"
        return text
    }
}
