import Foundation
import Gym

/// Draws a training run's progress: a live line per phase on a terminal (a line per phase change otherwise),
/// a summary line per step, JSON lines for scripts, or nothing.
final class TrainingProgress: TrainingReporter {
    enum Mode { case live, json, quiet }

    let mode: Mode
    let steps: Int
    /// What the phases outside a step (step −1) are called: the seeding, or an experiment's evaluations.
    var prelude = "seeding"
    private let terminal = isatty(STDERR_FILENO) == 1
    private var phaseKey = ""
    private var phaseStarted = Date()
    private var lastDrawn = Date.distantPast
    private var stepTimes: [Double] = []
    private var lineOpen = false

    init(mode: Mode, steps: Int) {
        self.mode = mode
        self.steps = steps
    }

    func progress(step: Int, phase: String, done: Int, total: Int, unit: String) {
        guard mode == .live else { return }
        let key = "\(step)/\(phase)"
        let now = Date()
        if key != phaseKey {
            phaseKey = key
            phaseStarted = now
            if !terminal { write(label(step: step) + " " + phase + "\n") }
        }
        guard terminal, now.timeIntervalSince(lastDrawn) > 0.2 || done == total else { return }
        lastDrawn = now
        var line = label(step: step) + " " + phase
        let elapsed = now.timeIntervalSince(phaseStarted)
        if total > 0 {
            line += " \(done)/\(total) \(unit)"
            if done > 0, elapsed > 0 {
                let rate = Double(done) / elapsed
                line += String(format: "  %.0f %@/s", rate, unit)
                // The token budget is an upper bound (sequences stop early), so this ETA is too.
                line += String(format: "  ETA ≤ %@", Self.duration(Double(total - done) / rate))
            }
        } else {
            line += String(format: "  %.0fs", elapsed)
        }
        if let mean = stepTimes.isEmpty ? nil : stepTimes.reduce(0, +) / Double(stepTimes.count), step >= 0 {
            line += "  (run ETA " + Self.duration(mean * Double(steps - step) - elapsed) + ")"
        }
        write("\r\u{1B}[2K" + line)
        lineOpen = true
    }

    func stepFinished(_ metrics: StepMetrics, summary: String) {
        stepTimes.append(metrics.totalSeconds)
        switch mode {
        case .quiet: return
        case .json:
            do {
                FileHandle.standardOutput.write(try StepMetricsJSON.event(metrics) + Data("\n".utf8))
            } catch {
                // Never silently: the step happened, so its event says at least that.
                let fallback = ["event": "step", "step": metrics.step, "error": "metrics not encodable: \(error)"] as [String: Any]
                if let line = try? JSONSerialization.data(withJSONObject: fallback, options: [.sortedKeys]) {
                    FileHandle.standardOutput.write(line + Data("\n".utf8))
                }
            }
        case .live:
            closeLine()
            write(summary + "\n")
        }
    }

    func note(_ text: String) {
        switch mode {
        case .quiet: return
        case .json:
            if let line = try? JSONSerialization.data(withJSONObject: ["event": "note", "text": text], options: [.sortedKeys, .withoutEscapingSlashes]) {
                FileHandle.standardOutput.write(line + Data("\n".utf8))
            }
        case .live:
            closeLine()
            write(text + "\n")
        }
    }

    func finish() { closeLine() }

    private func closeLine() {
        if lineOpen { write("\r\u{1B}[2K") }
        lineOpen = false
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    func label(step: Int) -> String {
        step < 0 ? "[\(prelude)]" : "[step \(step + 1)/\(steps)]"
    }

    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
    }
}
