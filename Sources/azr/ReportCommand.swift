import ArgumentParser
import Foundation
import Gym
import Sandbox

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report: one self-contained HTML page (inline SVG, no network) of its curves and samples.")

    @Argument(help: "The run folder (runs/NAME).") var folder: String
    @Option(help: "Where to write the page (default: RUN/report.html).") var output: String?

    func run() throws {
        let opened: TrainingRun
        do { opened = try TrainingRun.open(URL(fileURLWithPath: folder)) } catch { throw CLIError.usage("\(error)") }
        // The page leaves out metrics lines it cannot read; say which.
        for line in try opened.readMetricsFile().unreadable {
            printError("note: metrics.jsonl \(line); the report leaves it out")
        }
        let html = try RunReport(run: opened).html()
        let target = URL(fileURLWithPath: output ?? opened.directory.appendingPathComponent("report.html").path)
        try AtomicFile.write(Data(html.utf8), to: target)
        print(target.path)
    }
}
