import Foundation
import XCTest

/// Starts `azr` with `arguments` and kills it with SIGKILL as soon as its progress (stderr) shows `marker`.
func startAndKill(_ arguments: [String], at marker: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let process = Process()
    process.executableURL = azrBinary()
    process.arguments = arguments
    process.currentDirectoryURL = Repository.root
    process.environment = testEnvironment()
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    var seen = ""
    while !seen.contains(marker) {
        let chunk = errors.fileHandleForReading.availableData
        guard !chunk.isEmpty else { break }
        seen += String(decoding: chunk, as: UTF8.self)
    }
    XCTAssertTrue(seen.contains(marker), seen, file: file, line: line)
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .uncaughtSignal, marker, file: file, line: line)
}
