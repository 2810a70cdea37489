import Foundation
import Sandbox

/// How every `azr bench` command hands over its figures: pretty, key-sorted JSON written whole to `--output`,
/// and printed instead of the table under `--json`.
enum BenchFigures {
    /// Writes `figures` to `output` if given; returns true when the JSON was printed (`json`), so the caller
    /// prints no table.
    static func publish(_ figures: some Encodable, output: String?, json: Bool) throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(figures)
        if let output { try AtomicFile.write(data + Data("\n".utf8), to: URL(fileURLWithPath: output)) }
        if json { print(String(decoding: data, as: UTF8.self)) }
        return json
    }
}
