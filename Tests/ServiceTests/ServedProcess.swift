import Foundation
import XCTest

/// One `azr serve` started by a test on a free loopback port, stopped (SIGTERM, then waited for) by the test.
final class ServedProcess {
    let process = Process()
    let port: Int
    let scratch: String
    private let output = Pipe()
    private let errors = Pipe()

    static var binary: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("azr")
    }

    /// Starts `azr serve --port 0 <arguments>` with its own scratch folder and waits for its listening line.
    init(_ arguments: [String]) throws {
        scratch = NSTemporaryDirectory() + "azr-serve-test-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        process.executableURL = Self.binary
        process.arguments = ["serve", "--port", "0", "--scratch", scratch] + arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // The first line names the port: "azr serve: listening on http://127.0.0.1:PORT/run_code (...)".
        var line = Data()
        let deadline = Date().addingTimeInterval(60)
        while !line.contains(UInt8(ascii: "\n")) && Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"127\.0\.0\.1:(\d+)/"#, options: .regularExpression) else {
            process.terminate()
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw XCTSkip("azr serve did not start: \(text) \(stderr)")
        }
        port = Int(text[range].dropFirst("127.0.0.1:".count).dropLast())!
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Runs `azr <arguments>` to its end: exit status, stdout, stderr.
    static func azr(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// SIGTERM, then its exit status, what it printed after the first line, and whether its scratch folder is
    /// empty again.
    func stop() -> (status: Int32, output: String, scratchEmpty: Bool, zygotesLeft: [Int32]) {
        let zygotes = Self.children(of: process.processIdentifier)
        process.terminate()
        process.waitUntilExit()
        let rest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        try? FileManager.default.removeItem(atPath: scratch)
        let alive = zygotes.filter { kill($0, 0) == 0 }
        return (process.terminationStatus, rest, left.isEmpty, alive)
    }

    /// The direct children of `pid` (its zygotes), from /proc.
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }
}
