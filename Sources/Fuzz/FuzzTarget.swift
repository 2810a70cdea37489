import Foundation
import Gym
import Sandbox
import Tasks
import Trainer

/// One parser under fuzzing: where its seed inputs come from, tokens of its grammar, and how to feed it one
/// input. `run` returns whether the input was accepted; throwing any error is the expected way to refuse one.
/// Anything else — a trap, a fault, a hang, an allocation past the limit — is a failure the harness reports.
struct FuzzTarget {
    var name: String
    var summary: String
    var seeds: () throws -> [[UInt8]]
    var dictionary: [String]
    var run: ([UInt8]) throws -> Bool
}

/// Seed files a target reads from the checkout; a missing one is an error, never a silently smaller corpus.
func seedFiles(_ paths: [String]) throws -> [[UInt8]] {
    try paths.map { path in
        guard let data = FileManager.default.contents(atPath: path) else { throw FuzzError.missingSeed(path) }
        return Array(data)
    }
}

enum FuzzError: Error, CustomStringConvertible {
    case missingSeed(String)
    case unknownTarget(String, [String])
    case oracle(String)

    var description: String {
        switch self {
        case let .missingSeed(path): return "no seed file \(path) (run azr-fuzz from the checkout's root)"
        case let .unknownTarget(name, known): return "unknown fuzz target \"\(name)\" (known: \(known.joined(separator: ", ")))"
        case let .oracle(why): return why
        }
    }
}

/// A file the file-reading targets hand to their parser, rewritten for every input.
final class Scratch {
    let folder: URL
    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("azr-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// A clean folder for parsers that write side files (a buffer's `.corrupt`).
    func emptyFolder(_ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    deinit { try? FileManager.default.removeItem(at: folder) }
}
