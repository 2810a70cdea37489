import Foundation
@testable import Trainer
import XCTest

/// Runs a command to completion and returns its stdout; fails the calling test on a non-zero exit.
func runToCompletion(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                     file: StaticString = #filePath, line: UInt = #line) throws -> Data {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    // Children run the small SmolLM2-135M (fast) unless a test names a model.
    var merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if merged["AZR_MODEL"] == nil, let small = DefaultModel.locateSmall() { merged["AZR_MODEL"] = small }
    process.environment = merged
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "\(executable.lastPathComponent) \(arguments.prefix(3))", file: file, line: line)
    return data
}

/// python3 with these arguments (scripts in reference/ or inline with -c).
func python(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Data {
    try runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments, file: file, line: line)
}

/// The `azr` built beside this test bundle.
func azr(_ arguments: [String], environment: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> Data {
    let binary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        .deletingLastPathComponent().appendingPathComponent("azr")
    return try runToCompletion(binary, arguments, environment: environment, file: file, line: line)
}

/// A file in reference/.
func referenceFile(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("reference").appendingPathComponent(name).path
}
