import Foundation
import Sandbox

/// Why a proposal did not become a task. Raw values are the keys of the valid-rate counters.
public enum InvalidReason: String, Codable, Sendable, CaseIterable {
    case malformed            // the completion's blocks could not be read
    case noFunction = "no_function"
    case banned               // banned import or call
    case syntaxError = "syntax_error"
    case raised               // the program or a call raised
    case timeout
    case killed               // forbidden syscall, crash, CPU limit, no result
    case nondeterministic
    case notLiteral = "not_literal"
    case tooLarge = "too_large"
    case badInput = "bad_input"
    case tooFewInputs = "too_few_inputs"
    case duplicate
    case sandboxFailure = "sandbox_failure"
}

/// A failed validation: a counter key and a line for the samples log.
public struct Invalid: Error, Sendable, Equatable {
    public var reason: InvalidReason
    public var detail: String
    public init(_ reason: InvalidReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
}

/// Runs candidate programs in the sandbox under AZR's validity rules.
public struct ProgramRunner: Sendable {
    public let pool: ZygotePool
    public var bannedImports: [String]
    /// Check determinism by running twice (DESIGN.md: two separate runs must agree).
    public var checkDeterminism: Bool

    public init(pool: ZygotePool, bannedImports: [String] = ProgramChecks.referenceBannedImports,
                checkDeterminism: Bool = true) {
        self.pool = pool
        self.bannedImports = bannedImports
        self.checkDeterminism = checkDeterminism
    }

    /// A program that passed: its (possibly renamed) source, the outputs for each input, the time it took.
    public struct Run: Sendable {
        public var program: String
        public var outputs: [String]
        public var seconds: Double
    }

    /// Validates `program` on `inputs`: static rules, then the sandbox (twice when checking determinism). With
    /// `evaluatingInputs`, an input that is not a literal is evaluated as Python inside the sandbox (imported
    /// datasets' inputs); model-written inputs are read as literals before they get here.
    public func validate(program raw: String, inputs: [String], evaluatingInputs: Bool = false) -> Result<Run, Invalid> {
        guard let program = ProgramChecks.withEntryPoint(raw) else { return .failure(Invalid(.noFunction, "no def")) }
        if let violation = ProgramChecks.violation(in: program, banned: bannedImports) {
            return .failure(Invalid(.banned, violation))
        }
        var job = SandboxJob(program: program, calls: inputs)
        job.evaluatesArguments = evaluatingInputs
        let first: SandboxResult
        if checkDeterminism {
            let report = pool.runTwice(job)
            first = report.first
            if let failure = Self.failure(first) { return .failure(failure) }
            if let difference = report.difference { return .failure(Invalid(.nondeterministic, difference)) }
        } else {
            first = pool.run(job)
            if let failure = Self.failure(first) { return .failure(failure) }
        }
        return .success(Run(program: program, outputs: first.calls.compactMap(\.literal), seconds: first.wallSeconds))
    }

    /// Runs `program` on `inputs` once and returns each call's outcome; for checking answers.
    public func outputs(program: String, inputs: [String]) -> Result<[CallOutcome], Invalid> {
        if let violation = ProgramChecks.violation(in: program, banned: bannedImports) {
            return .failure(Invalid(.banned, violation))
        }
        let result = pool.run(SandboxJob(program: program, calls: inputs))
        guard result.completed else { return .failure(Self.failure(result) ?? Invalid(.killed, result.summary)) }
        return .success(result.calls)
    }

    /// The reason a run does not count, or nil when it completed with a literal value for every call.
    static func failure(_ result: SandboxResult) -> Invalid? {
        switch result.status {
        case .completed: break
        case let .syntaxError(error): return Invalid(.syntaxError, error.description)
        case let .raised(error): return Invalid(.raised, error.description)
        case .missingEntryPoint: return Invalid(.noFunction, "f is not defined or not callable")
        case let .bannedImport(module): return Invalid(.banned, "imports \(module)")
        case .timedOut: return Invalid(.timeout, result.summary)
        case .sandboxFailure: return Invalid(.sandboxFailure, result.summary)
        case .resultTooLarge: return Invalid(.tooLarge, result.summary)
        case .cpuLimitExceeded, .forbiddenSyscall, .crashed, .noResult: return Invalid(.killed, result.summary)
        }
        for call in result.calls {
            switch call {
            case .value: continue
            case let .raised(error, _): return Invalid(.raised, error.description)
            case let .notALiteral(reason): return Invalid(.notLiteral, reason)
            case let .valueTooLarge(characters): return Invalid(.tooLarge, "\(characters) characters")
            case let .badArguments(why): return Invalid(.badInput, why)
            case .opaque: return Invalid(.notLiteral, "an object that is not a literal")
            }
        }
        return nil
    }
}
