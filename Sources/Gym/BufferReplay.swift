import Foundation
import Sandbox
import Tasks

/// Re-validates stored triples in the sandbox under the current policy: each program must still run, be
/// deterministic and give the stored outputs.
public struct BufferReplay {
    public struct Failure: Codable, Sendable {
        public var file: String
        public var id: String
        public var reason: String
        public var detail: String
    }

    public struct Report: Codable, Sendable {
        public var total = 0
        public var valid = 0
        public var invalid: [String: Int] = [:]
        public var failures: [Failure] = []
        public var seconds = 0.0
        public var allHold: Bool { valid == total }

        enum CodingKeys: String, CodingKey { case total, valid, invalid, failures, seconds }
    }

    public let runner: ProgramRunner

    public init(runner: ProgramRunner) { self.runner = runner }

    public func replay(files: [URL]) throws -> Report {
        let started = Date()
        var report = Report()
        for url in files {
            let buffer = try BufferFiles.open(url)
            for problem in buffer.problems {
                report.total += 1
                report.invalid["corrupt_line", default: 0] += 1
                report.failures.append(Failure(file: url.lastPathComponent, id: "line \(problem.line)", reason: "corrupt_line",
                                               detail: problem.reason))
            }
            let triples = buffer.triples
            let verdicts = concurrentMap(triples.indices) { check(triples[$0]) }
            for (triple, verdict) in zip(triples, verdicts) {
                report.total += 1
                guard let failure = verdict else {
                    report.valid += 1
                    continue
                }
                report.invalid[failure.reason, default: 0] += 1
                report.failures.append(Failure(file: url.lastPathComponent, id: triple.id, reason: failure.reason,
                                               detail: failure.detail))
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Nil when the triple still holds.
    func check(_ triple: Triple) -> (reason: String, detail: String)? {
        let inputs = triple.inputs ?? triple.input.map { [$0] } ?? []
        let expected = triple.outputs ?? triple.output.map { [$0] } ?? []
        // Inputs are evaluated inside the sandbox, as the datasets' references call `f(<input>)`.
        switch runner.validate(program: triple.program, inputs: inputs, evaluatingInputs: true) {
        case let .failure(invalid): return (invalid.reason.rawValue, invalid.detail)
        case let .success(run):
            for (got, want) in zip(run.outputs, expected) {
                guard let a = try? PythonValue(literal: got), let b = try? PythonValue(literal: want), a == b else {
                    return ("output_changed", "now \(got.prefix(60)), stored \(want.prefix(60))")
                }
            }
            return nil
        }
    }
}
