import Foundation
@testable import Gym
import Tasks
import Trainer
import XCTest

/// The repository root, and ../shared beside it (where the benchmark data lives).
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared")

    static func dataset(_ name: String) throws -> String {
        let path = shared.appendingPathComponent("datasets").appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) is not here (../shared is missing)") }
        return path
    }
}

struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

func azrBinary() -> URL {
    URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        .deletingLastPathComponent().appendingPathComponent("azr")
}

/// The environment for `azr` children: the model is the small SmolLM2-135M (fast), not the default Qwen, unless
/// the test names one.
func testEnvironment() -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    if environment["AZR_MODEL"] == nil, let small = DefaultModel.locateSmall() { environment["AZR_MODEL"] = small }
    return environment
}

func azr(_ arguments: [String]) throws -> CommandRun {
    try runBinary(azrBinary(), arguments)
}

/// Runs one of the package's executables from the checkout's root and collects its status and output.
func runBinary(_ executable: URL, _ arguments: [String]) throws -> CommandRun {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = Repository.root
    process.environment = testEnvironment()
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
}

final class BufferCLITests: XCTestCase {
    func testKillDuringAppendLosesAndDuplicatesNothing() throws {
        let source = try Repository.dataset("cruxeval.jsonl.gz")
        let target = temporaryDirectory().appendingPathComponent("deduction.jsonl")
        let expected = try BufferFiles.importable(from: source, type: "deduction").triples.count
        XCTAssertGreaterThan(expected, 700)

        // Kill as soon as the file has grown past a mark, so the kill lands while appends are under way
        // however fast or slow the machine is.
        for mark in [20_000, 120_000] {
            let process = Process()
            process.executableURL = azrBinary()
            process.arguments = ["buffer", "import", source, "--into", target.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline {
                let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
                if size > mark { break }
                usleep(200)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let partial = try TaskBuffer(name: "deduction", url: target)
            XCTAssertLessThanOrEqual(partial.problems.count, 1, "\(partial.problems)")
            XCTAssertTrue(partial.problems.allSatisfy { $0.reason.hasPrefix("incomplete final line") })
            XCTAssertLessThan(partial.count, expected, "the kill came too late to test anything")
        }
        // Finish the import: everything arrives exactly once and the file is whole again.
        XCTAssertEqual(try azr(["buffer", "import", source, "--into", target.path]).status, 0)
        let complete = try TaskBuffer(name: "deduction", url: target)
        XCTAssertEqual(complete.problems, [])
        XCTAssertEqual(complete.count, expected)
        let lines = try String(contentsOf: target, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, expected, "no duplicated lines on disk")
    }

    /// All 800 CRUXEval problems import, inputs written as expressions included, and all 800 replay in the sandbox:
    /// the one that encodes with shift_jis loads its codec's C extension from the standard library (Landlock).
    func testAllOfCRUXEvalImportsAndReplays() throws {
        let folder = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let imported = try azr(["buffer", "import", try Repository.dataset("cruxeval.jsonl.gz"), "--into",
                                folder.appendingPathComponent("deduction.jsonl").path])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.contains("added 800 triples") && imported.stdout.contains("0 lines skipped"), imported.stdout)
        let buffer = try TaskBuffer(name: "deduction", url: folder.appendingPathComponent("deduction.jsonl"))
        XCTAssertTrue(buffer.triples.contains { $0.input == "''.join(['A'] * 20)" }, "an expression input is kept as written")
        let replay = try azr(["buffer", "replay", folder.path])
        XCTAssertEqual(replay.status, 0, replay.stdout + replay.stderr)
        XCTAssertTrue(replay.stdout.contains("800 of 800 triples hold"), replay.stdout + replay.stderr)
    }

    func writeBuffer(_ triples: [Triple]) throws -> URL {
        let url = temporaryDirectory().appendingPathComponent("deduction.jsonl")
        let buffer = try TaskBuffer(name: "deduction", url: url)
        for triple in triples { try buffer.add(triple) }
        return url
    }

    func testReplayPassesAValidBufferAndNamesWhatNoLongerHolds() throws {
        var triples = [IdentitySeeds.single(type: "deduction"),
                       Triple(type: "deduction", program: "def f(a, b):\n    return sorted(a)[b]", input: "[5, 2, 9], 1", output: "5"),
                       IdentitySeeds.induction()]
        let good = try writeBuffer(triples)
        let pass = try azr(["buffer", "replay", good.path, "--json"])
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        let passed = try JSONSerialization.jsonObject(with: Data(pass.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(passed["total"] as? Int, 3)
        XCTAssertEqual(passed["valid"] as? Int, 3)

        triples.append(Triple(type: "deduction", program: "def f(a):\n    return a + 1", input: "1", output: "3"))
        triples.append(Triple(type: "deduction", program: "import random\ndef f(a):\n    return a", input: "1", output: "1"))
        triples.append(Triple(type: "deduction", program: "def f(a):\n    return 1 / a", input: "0", output: "0"))
        let bad = try writeBuffer(triples)
        let handle = try FileHandle(forWritingTo: bad)
        handle.seekToEndOfFile()
        handle.write(Data("{broken\n".utf8))
        handle.closeFile()
        let fail = try azr(["buffer", "replay", bad.path, "--json"])
        XCTAssertEqual(fail.status, 1)
        let failed = try JSONSerialization.jsonObject(with: Data(fail.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(failed["total"] as? Int, 7)
        XCTAssertEqual(failed["valid"] as? Int, 3)
        XCTAssertEqual(failed["invalid"] as? [String: Int], ["output_changed": 1, "banned": 1, "raised": 1, "corrupt_line": 1])
    }

    func testExportHasOneSchemaForEveryRow() throws {
        let url = try writeBuffer([IdentitySeeds.single(type: "deduction"), IdentitySeeds.induction()])
        let out = temporaryDirectory().appendingPathComponent("export.jsonl")
        let run = try azr(["buffer", "export", url.path, "--output", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "wrote 2 triples to \(out.path)\n")
        // What pandas.read_json(lines=True) and datasets' JSON loader need: every row an object with the same
        // keys, and each column one type (or null).
        let check = """
        import json, sys
        rows = [json.loads(line) for line in open(sys.argv[1])]
        assert len({tuple(sorted(r)) for r in rows}) == 1, 'rows differ in keys'
        for key in rows[0]:
            kinds = {type(r[key]).__name__ for r in rows if r[key] is not None}
            assert len(kinds) <= 1, (key, kinds)
        print(len(rows), sorted(rows[0]))
        """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", check, out.path]
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        XCTAssertEqual(printed, "2 \(BufferExport.columns.sorted())\n".replacingOccurrences(of: "\"", with: "'"))
    }

    func testStatsAndShow() throws {
        let url = try writeBuffer([IdentitySeeds.single(type: "deduction")])
        let stats = try azr(["buffer", "stats", url.deletingLastPathComponent().path, "--json"])
        XCTAssertEqual(stats.status, 0, stats.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(rows.first?["triples"] as? Int, 1)
        let show = try azr(["buffer", "show", url.path])
        XCTAssertTrue(show.stdout.contains("f('Hello world') = 'Hello world'"), show.stdout)
        let missing = try azr(["buffer", "stats", "/no/such/buffer.jsonl"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "azr: cannot open buffer /no/such/buffer.jsonl: no such file or folder\n")
    }
}
