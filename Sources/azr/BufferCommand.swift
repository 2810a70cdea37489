import ArgumentParser
import Foundation
import Gym
import Sandbox
import Tasks

struct BufferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buffer",
        abstract: "Inspect, re-validate, export and import task buffers (JSON Lines).",
        discussion: "PATH is a buffer file, or a folder (a run, or its buffers/) holding *.jsonl buffers.",
        subcommands: [BufferStats.self, BufferShow.self, BufferReplayCommand.self, BufferExportCommand.self,
                      BufferImport.self])
}

func openBuffers(_ path: String) throws -> [(URL, TaskBuffer)] {
    do {
        return try BufferFiles.files(at: path).map { ($0, try BufferFiles.open($0)) }
    } catch let error as BufferError {
        throw CLIError.usage(error.description)
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct BufferStats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Counts, steps and problems per buffer.")
    @Argument(help: "Buffer file or folder.") var path: String
    @Flag(help: "Print JSON.") var json = false

    struct Row: Codable {
        var file: String
        var triples: Int
        var types: [String: Int]
        var first_step: Int?
        var last_step: Int?
        var mean_program_lines: Double
        var sources: [String: Int]
        var corrupt_lines: [String]
    }

    func run() throws {
        let rows = try openBuffers(path).map { url, buffer -> Row in
            let triples = buffer.triples
            let lines = triples.map { Double($0.program.split(separator: "\n").count) }
            return Row(file: url.lastPathComponent, triples: triples.count,
                       types: Dictionary(grouping: triples, by: \.type).mapValues(\.count),
                       first_step: triples.map(\.step).min(), last_step: triples.map(\.step).max(),
                       mean_program_lines: lines.isEmpty ? 0 : lines.reduce(0, +) / Double(lines.count),
                       sources: Dictionary(grouping: triples) { String($0.source.prefix { $0 != ":" }) }.mapValues(\.count),
                       corrupt_lines: buffer.problems.map(\.description))
        }
        if json { return try printJSON(rows) }
        print("| buffer | triples | steps | mean program lines | sources | corrupt lines |\n|---|---:|---|---:|---|---:|")
        for row in rows {
            let steps = row.first_step.map { "\($0)–\(row.last_step!)" } ?? "-"
            let sources = row.sources.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("| \(row.file) | \(row.triples) | \(steps) | \(String(format: "%.1f", row.mean_program_lines)) | \(sources) | \(row.corrupt_lines.count) |")
        }
        for row in rows { row.corrupt_lines.forEach { print("\(row.file) \($0)") } }
    }
}

struct BufferShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print triples, newest last.")
    @Argument(help: "Buffer file or folder.") var path: String
    @Option(help: "Show the last N triples of each buffer.") var last = 5
    @Option(help: "Show only the triple with this id.") var id: String?
    @Flag(help: "Print the triples as JSON Lines.") var json = false

    func run() throws {
        for (url, buffer) in try openBuffers(path) {
            let chosen = id.map { wanted in buffer.triples.filter { $0.id == wanted } } ?? Array(buffer.triples.suffix(last))
            if json {
                FileHandle.standardOutput.write(try BufferExport.jsonLines(chosen))
                continue
            }
            for triple in chosen {
                print("── \(url.lastPathComponent) · \(triple.type) · id \(triple.id) · step \(triple.step) · \(triple.source)")
                print(triple.program)
                if let message = triple.message { print("message: \(message)") }
                if let input = triple.input, let output = triple.output { print("f(\(input)) = \(output)") }
                for (input, output) in zip(triple.inputs ?? [], triple.outputs ?? []) { print("f(\(input)) = \(output)") }
                print()
            }
        }
    }
}

struct BufferReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-validate every triple in the sandbox; exit 0 only when every one still holds.")
    @Argument(help: "Buffer file or folder.") var path: String
    @Option(help: "Sandbox policy name or path.") var policy = "default"
    @Flag(help: "Print JSON: {\"total\", \"valid\", \"invalid\": {reason: count}, \"failures\", \"seconds\"}.") var json = false

    func run() throws {
        let files: [URL]
        do { files = try BufferFiles.files(at: path) } catch { throw CLIError.usage("\(error)") }
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: policy) } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }
        let report = try BufferReplay(runner: ProgramRunner(pool: pool)).replay(files: files)
        if json {
            try printJSON(report)
        } else {
            print("\(report.valid) of \(report.total) triples hold (\(String(format: "%.1f", report.seconds)) s)")
            for (reason, count) in report.invalid.sorted(by: { $0.key < $1.key }) { print("  \(reason): \(count)") }
            for failure in report.failures.prefix(20) {
                print("  \(failure.file) \(failure.id): \(failure.reason) — \(failure.detail.prefix(120))")
            }
        }
        if !report.allHold { throw ExitCode(1) }
    }
}

struct BufferExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write all triples as one JSON Lines file that pandas and Hugging Face datasets load as is.")
    @Argument(help: "Buffer file or folder.") var path: String
    @Option(name: .shortAndLong, help: "The file to write.") var output: String

    func run() throws {
        let triples = try openBuffers(path).flatMap { $0.1.triples }
        try AtomicFile.write(try BufferExport.jsonLines(triples), to: URL(fileURLWithPath: output))
        print("wrote \(triples.count) triples to \(output)")
    }
}

struct BufferImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Append triples (our lines, or CRUXEval rows: code, input, output) to a buffer file.")
    @Argument(help: "A .jsonl or .jsonl.gz file.") var source: String
    @Option(help: "The buffer file to append to.") var into: String
    @Option(help: "Task type for CRUXEval rows.") var type = "deduction"
    @Option(help: "Import at most this many.") var limit: Int?

    func run() throws {
        let found: (triples: [Triple], problems: [BufferProblem])
        do { found = try BufferFiles.importable(from: source, type: type) } catch { throw CLIError.usage("\(error)") }
        let buffer = try TaskBuffer(name: type, url: URL(fileURLWithPath: into))
        var added = 0
        for triple in found.triples.prefix(limit ?? .max) where try buffer.add(triple) { added += 1 }
        print("added \(added) triples to \(into) (\(buffer.count) in all); \(found.problems.count) lines skipped")
        for problem in found.problems.prefix(10) { printError("\(source) \(problem)") }
    }
}
