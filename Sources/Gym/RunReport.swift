import Foundation
import Tasks

/// A run's report: one HTML page with every curve as inline SVG and example tasks from early and late steps.
public struct RunReport {
    public let run: TrainingRun

    public init(run: TrainingRun) { self.run = run }

    public func html() throws -> String {
        let metrics = try run.readMetrics()
        let config = run.config
        let types = Array(Set(metrics.flatMap { Array($0.bufferSize.keys) })).sorted()
        let groups = Array(Set(metrics.flatMap { Array($0.reward.keys) })).sorted()
        func series(_ name: String, _ value: (StepMetrics) -> Double?) -> SVGLineChart.Series {
            SVGLineChart.Series(name: name, points: metrics.compactMap { m in value(m).map { (Double(m.step + 1), $0) } })
        }
        var charts: [SVGLineChart] = []
        charts.append(SVGLineChart(title: "Mean reward per task type × role", yLabel: "reward",
                                   series: groups.map { g in series(g) { $0.reward[g] } }))
        charts.append(SVGLineChart(title: "Solver solve rate (training batch)", yLabel: "solve rate",
                                   series: types.map { t in series(t) { $0.solveRate[t] } }, yRange: 0...1))
        charts.append(SVGLineChart(title: "Learnability solve rate of valid proposals", yLabel: "solve rate",
                                   series: types.map { t in series(t) { $0.proposalSolveRate[t] } }, yRange: 0...1))
        charts.append(SVGLineChart(title: "Valid proposals", yLabel: "valid rate",
                                   series: types.map { t in series(t) { $0.validRate[t] } }, yRange: 0...1))
        charts.append(SVGLineChart(title: "Buffer size", yLabel: "triples",
                                   series: types.map { t in series(t) { $0.bufferSize[t].map(Double.init) } }))
        charts.append(SVGLineChart(title: "Loss and gradient norm", yLabel: "value",
                                   series: [series("loss") { $0.loss }, series("grad norm") { $0.gradNorm }]))
        charts.append(SVGLineChart(title: "Token throughput", yLabel: "tokens/s",
                                   series: [series("generation") { $0.generateTokensPerS }, series("training") { $0.trainTokensPerS }]))
        charts.append(SVGLineChart(title: "Sandbox throughput", yLabel: "runs/s",
                                   series: [series("sandbox runs/s") { $0.sandboxRunsPerS }]))
        let phases = ["propose", "validate", "learnability", "solve", "update", "checkpoint"]
        charts.append(SVGLineChart(title: "Seconds per phase", yLabel: "seconds",
                                   series: phases.map { p in series(p) { $0.seconds[p] } }))
        let reasons = Array(Set(metrics.flatMap { $0.invalid.values.flatMap(\.keys) })).sorted()
        if !reasons.isEmpty {
            charts.append(SVGLineChart(title: "Invalid proposals by reason (all types)", yLabel: "proposals",
                                       series: reasons.map { r in series(r) { m in Double(m.invalid.values.reduce(0) { $0 + ($1[r] ?? 0) }) } }))
        }

        var page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>AZR run \(HTML.escape(run.directory.lastPathComponent))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1500px; }
        h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; } h3 { font-size: 14px; margin: 14px 0 4px; }
        .charts { display: flex; flex-wrap: wrap; gap: 14px; }
        .charts figure { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: 6px; background: white; }
        table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
        pre { background: #f4f4f4; padding: 8px; font-size: 12px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 320px; }
        .examples { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
        .muted { color: #666; font-size: 13px; }
        </style></head><body>
        <h1>AZR run <code>\(HTML.escape(run.directory.lastPathComponent))</code></h1>
        <p class="muted">preset \(HTML.escape(config.preset)), model \(HTML.escape(config.model ?? "SmolLM2-135M-Instruct (default)")), \
        \(metrics.count) of \(config.steps) steps recorded, seed \(config.seed). Generated \(HTML.escape(ISO8601DateFormatter().string(from: Date()))).</p>

        """
        page += summaryTable(metrics, types: types)
        page += "<h2>Curves</h2>\n<div class=\"charts\">\n"
        for chart in charts { page += "<figure>\(chart.svg())</figure>\n" }
        page += "</div>\n"
        page += examples(metrics, types: types)
        page += "<h2>Settings</h2>\n<pre>\(HTML.escape((try? String(contentsOf: run.configURL, encoding: .utf8)) ?? ""))</pre>\n"
        page += "</body></html>\n"
        return page
    }

    private func summaryTable(_ metrics: [StepMetrics], types: [String]) -> String {
        guard let first = metrics.first, let last = metrics.last else { return "<p>No steps recorded yet.</p>\n" }
        var out = "<h2>First and last step</h2>\n<table><tr><th>task type</th><th>valid rate</th><th>solve rate</th><th>buffer</th></tr>\n"
        func pair(_ a: Double?, _ b: Double?) -> String {
            "\(a.map { String(format: "%.2f", $0) } ?? "–") → \(b.map { String(format: "%.2f", $0) } ?? "–")"
        }
        for type in types {
            out += "<tr><td>\(HTML.escape(type))</td><td>\(pair(first.validRate[type], last.validRate[type]))</td>"
            out += "<td>\(pair(first.solveRate[type], last.solveRate[type]))</td>"
            out += "<td>\(first.bufferSize[type] ?? 0) → \(last.bufferSize[type] ?? 0)</td></tr>\n"
        }
        let total = metrics.reduce(0) { $0 + $1.totalSeconds }
        return out + String(format: "</table>\n<p class=\"muted\">%.0f s of training over %d steps (%.0f s per step).</p>\n",
                            total, metrics.count, total / Double(metrics.count))
    }

    /// For each task type, a valid proposal and a solver answer from the earliest and the latest step that have one.
    private func examples(_ metrics: [StepMetrics], types: [String]) -> String {
        let steps = metrics.map(\.step)
        guard !steps.isEmpty else { return "" }
        let samples = steps.map { run.readSamples(step: $0) }
        func pick(_ type: String, role: String, late: Bool) -> TrainingRun.SampleLine? {
            let ordered = late ? Array(samples.reversed()) : samples
            let wanted: (TrainingRun.SampleLine) -> Bool = { s in
                s.task_type == type && s.role == role && (role == "solve" || s.outcome == "valid")
            }
            for lines in ordered { if let line = lines.first(where: wanted) { return line } }
            // No valid proposal at all: show what the model wrote instead.
            for lines in ordered { if let line = lines.first(where: { $0.task_type == type && $0.role == role }) { return line } }
            return nil
        }
        var out = "<h2>Example tasks and answers, early and late</h2>\n"
        for type in types {
            out += "<h3>\(HTML.escape(type))</h3>\n<div class=\"examples\">\n"
            for late in [false, true] {
                out += "<div>"
                for role in ["propose", "solve"] {
                    guard let line = pick(type, role: role, late: late) else { continue }
                    out += "<p class=\"muted\">step \(line.step + 1), \(role == "propose" ? "proposal" : "answer"): \(HTML.escape(line.outcome)), reward \(String(format: "%.2f", line.reward))</p>"
                    if role == "propose", let task = line.task {
                        out += "<pre>\(HTML.escape(Self.describe(task)))</pre>"
                    } else {
                        out += "<pre>\(HTML.escape(String(line.completion.prefix(1500))))</pre>"
                    }
                }
                out += "</div>\n"
            }
            out += "</div>\n"
        }
        return out
    }

    static func describe(_ task: Triple) -> String {
        var text = task.program
        if let input = task.input { text += "\n\n# input: \(input)" }
        if let output = task.output { text += "\n# output: \(output)" }
        if let inputs = task.inputs, let outputs = task.outputs {
            for (i, o) in zip(inputs, outputs).prefix(6) { text += "\n# f(\(i)) == \(o)" }
        }
        if let message = task.message { text += "\n# message: \(message)" }
        return text
    }
}
