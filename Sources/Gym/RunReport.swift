import Foundation
import Tasks

/// A run's report: one HTML page with every curve as inline SVG and example tasks from early and late steps.
public struct RunReport {
    public let run: TrainingRun

    public init(run: TrainingRun) { self.run = run }

    public func html() throws -> String {
        let metrics = try run.readMetrics()
        let config = run.config
        func series(_ name: String, _ value: (StepMetrics) -> Double?) -> SVGLineChart.Series {
            SVGLineChart.Series(name: name, points: metrics.compactMap { m in value(m).map { (Double(m.step + 1), $0) } })
        }
        /// One line per number under a game metric (a plain number: one line named after the key).
        func gameSeries(_ key: String) -> [SVGLineChart.Series] {
            let paths = Array(Set(metrics.flatMap { $0.game[key].map { Array($0.leaves.keys) } ?? [] })).sorted()
            return paths.map { path in series(path.isEmpty ? key : path) { $0.game[key]?.leaves[path] } }
        }
        let groups = Array(Set(metrics.flatMap { Array($0.reward.keys) })).sorted()
        var charts: [SVGLineChart] = []
        charts.append(SVGLineChart(title: "Mean reward per task type × role", yLabel: "reward",
                                   series: groups.map { g in series(g) { $0.reward[g] } }))
        // The game's declared panels, then a chart for every other series it reported.
        let panels = GameCatalog.panels(game: config.game)
        let present = Set(metrics.flatMap(\.game.keys))
        var fits: [String] = []
        for panel in panels where present.contains(panel.key) {
            var lines = gameSeries(panel.key)
            var title = panel.title
            if panel.fit == .saturating, lines.count == 1 {
                if let fit = SaturatingFit.fit(lines[0].points, ceiling: panel.yRange?.upperBound ?? 1), let last = lines[0].points.last?.x {
                    // Drawn half as far again as the data, so the approach to the asymptote shows.
                    lines.append(SVGLineChart.Series(name: "fit", points: stride(from: 1.0, through: last * 1.5, by: max(0.25, last / 60)).map { ($0, fit.value(at: $0)) }))
                    title += String(format: " (fit: A = %.3f)", fit.asymptote)
                    fits.append(String(format: "%@: fitted R(C) = R0 + (A − R0) / (1 + (C_mid / C)^B) over steps C (SGS's saturating curve, least squares, R0 the first value): R0 = %.3f, asymptote A = %.3f, C_mid = %.1f steps, B = %.2f, residual sum of squares %.2g.",
                                       panel.title, fit.r0, fit.asymptote, fit.midpoint, fit.exponent, fit.residual))
                } else {
                    fits.append("\(panel.title): too few steps (\(lines[0].points.count)) to fit a saturating curve; it needs 4.")
                }
            }
            charts.append(SVGLineChart(title: title, yLabel: panel.yLabel, series: lines, yRange: panel.yRange))
        }
        for key in present.subtracting(panels.map(\.key)).sorted() {
            charts.append(SVGLineChart(title: key, yLabel: key, series: gameSeries(key)))
        }
        charts.append(SVGLineChart(title: "Loss and gradient norm", yLabel: "value",
                                   series: [series("loss") { $0.loss }, series("grad norm") { $0.gradNorm }]))
        if metrics.contains(where: { $0.kl != nil || $0.entropy != nil }) {
            charts.append(SVGLineChart(title: "KL to the starting model and entropy (per token)", yLabel: "nats",
                                       series: [series("kl") { $0.kl }, series("entropy") { $0.entropy }].filter { !$0.points.isEmpty }))
        }
        charts.append(SVGLineChart(title: "PPO clipped fraction", yLabel: "fraction", series: [series("clipped") { $0.clippedFraction }]))
        charts.append(SVGLineChart(title: "Token throughput", yLabel: "tokens/s",
                                   series: [series("generation") { $0.generateTokensPerS }, series("training") { $0.trainTokensPerS }]))
        charts.append(SVGLineChart(title: "Sandbox throughput", yLabel: "runs/s",
                                   series: [series("sandbox runs/s") { $0.sandboxRunsPerS }]))
        let phases = Array(Set(metrics.flatMap(\.seconds.keys))).sorted()
        charts.append(SVGLineChart(title: "Seconds per phase", yLabel: "seconds",
                                   series: phases.map { p in series(p) { $0.seconds[p] } }))

        var page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(config.game.uppercased())) run \(HTML.escape(run.directory.lastPathComponent))</title>
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
        <h1>\(HTML.escape(config.game.uppercased())) run <code>\(HTML.escape(run.directory.lastPathComponent))</code></h1>
        <p class="muted">game \(HTML.escape(config.game)), preset \(HTML.escape(config.preset)), model \(HTML.escape(config.model ?? "SmolLM2-135M-Instruct (default)")), \
        \(metrics.count) of \(config.steps) steps recorded, seed \(config.seed). Generated \(HTML.escape(ISO8601DateFormatter().string(from: Date()))).</p>

        """
        page += summaryTable(metrics, keys: panels.map(\.key).filter(present.contains))
        page += "<h2>Curves</h2>\n<div class=\"charts\">\n"
        for chart in charts { page += "<figure>\(chart.svg())</figure>\n" }
        page += "</div>\n"
        for line in fits { page += "<p class=\"muted\">\(HTML.escape(line))</p>\n" }
        page += examples(metrics)
        page += "<h2>Settings</h2>\n<pre>\(HTML.escape((try? String(contentsOf: run.configURL, encoding: .utf8)) ?? ""))</pre>\n"
        page += "</body></html>\n"
        return page
    }

    /// Each of the game's panel figures at the first and the last step.
    private func summaryTable(_ metrics: [StepMetrics], keys: [String]) -> String {
        guard let first = metrics.first, let last = metrics.last else { return "<p>No steps recorded yet.</p>\n" }
        var out = "<h2>First and last step</h2>\n<table><tr><th>figure</th><th>first → last</th></tr>\n"
        func format(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "–" }
        for key in keys {
            let firstLeaves = first.game[key]?.leaves ?? [:], lastLeaves = last.game[key]?.leaves ?? [:]
            for path in Set(firstLeaves.keys).union(lastLeaves.keys).sorted() {
                let name = path.isEmpty ? key : "\(key) \(path)"
                out += "<tr><td>\(HTML.escape(name))</td><td>\(format(firstLeaves[path])) → \(format(lastLeaves[path]))</td></tr>\n"
            }
        }
        let total = metrics.reduce(0) { $0 + $1.totalSeconds }
        return out + String(format: "</table>\n<p class=\"muted\">%.0f s of training over %d steps (%.0f s per step).</p>\n",
                            total, metrics.count, total / Double(metrics.count))
    }

    /// For each task type, one sample per role (a valid one where a role's samples can be valid: AZR's proposals,
    /// LSP's queries) from the earliest and the latest step that have one.
    private func examples(_ metrics: [StepMetrics]) -> String {
        let steps = metrics.map(\.step)
        guard !steps.isEmpty else { return "" }
        let samples = steps.map { run.readSamples(step: $0) }
        let all = samples.flatMap { $0 }
        let types = Array(Set(all.map(\.task_type))).sorted()
        var roles: [String] = []
        for line in all where !roles.contains(line.role) { roles.append(line.role) }
        let validatedRoles = Set(all.filter { $0.outcome == "valid" || $0.outcome.hasPrefix("invalid") }.map(\.role))
        func pick(_ type: String, role: String, late: Bool) -> TrainingRun.SampleLine? {
            let ordered = late ? Array(samples.reversed()) : samples
            let wanted: (TrainingRun.SampleLine) -> Bool = { s in
                s.task_type == type && s.role == role && (!validatedRoles.contains(role) || s.outcome == "valid")
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
                for role in roles {
                    guard let line = pick(type, role: role, late: late) else { continue }
                    out += "<p class=\"muted\">step \(line.step + 1), \(HTML.escape(role)): \(HTML.escape(line.outcome)), reward \(String(format: "%.2f", line.reward))</p>"
                    if validatedRoles.contains(role), let task = line.task {
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
