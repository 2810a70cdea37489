import Foundation

/// Turns what a zygote relayed (how the child ended, plus the child's own JSON report) into a typed result.
/// The report was written by a process that ran hostile code, so anything inconsistent in it, or a report
/// without a clean exit, counts as no result at all.
enum JobReport {
    private struct Report: Decodable {
        var status: String
        var calls: [Call]
        var stdout: String
        var stderr: String
        var truncated: Bool
        var error: PythonException?
        var module: String?
    }

    private struct Call: Decodable {
        var value: String?
        var seconds: Double?
        var raised: PythonException?
        var not_literal: String?
        var too_large: Int?
        var bad_arguments: String?
        var opaque: String?
    }

    /// Exit codes 120–124 are the zygote's own set-up steps failing before any untrusted code ran.
    static let setupFailureCodes: ClosedRange<Int32> = 120...124

    static func interpret(_ raw: ZygoteProcess.RawResult, expectedCalls: Int?, entryPoint: String) -> SandboxResult {
        var result = SandboxResult(status: .completed, calls: [], stdout: "", stderr: "", outputTruncated: false,
                                   wallSeconds: Double(raw.wallNanoseconds) / 1e9,
                                   cpuSeconds: Double(raw.cpuNanoseconds) / 1e9,
                                   maxResidentKilobytes: Int(raw.maxResidentKilobytes))
        switch ZygoteWire.End(rawValue: raw.end) {
        case .forkFailed?:
            result.status = .sandboxFailure("fork failed: \(String(cString: strerror(raw.code)))")
        case .timeout?:
            result.status = .timedOut
        case .resultTooBig?:
            result.status = .resultTooLarge
        case .signaled?:
            switch raw.code {
            case SIGSYS: result.status = .forbiddenSyscall
            case SIGXCPU: result.status = .cpuLimitExceeded
            default: result.status = .crashed(signal: raw.code)
            }
        case .exited?:
            if setupFailureCodes.contains(raw.code) {
                result.status = .sandboxFailure("child set-up failed (step \(raw.code))")
            } else if raw.code != 0 || raw.report.isEmpty {
                result.status = .noResult(exitCode: raw.code)
            } else if let report = try? JSONDecoder().decode(Report.self, from: Data(raw.report)),
                      apply(report, to: &result, expectedCalls: expectedCalls, entryPoint: entryPoint) {
                // applied
            } else {
                result.status = .noResult(exitCode: 0)
            }
        case nil:
            result.status = .sandboxFailure("unknown ending \(raw.end)")
        }
        return result
    }

    private static func apply(_ report: Report, to result: inout SandboxResult, expectedCalls: Int?, entryPoint: String) -> Bool {
        result.stdout = report.stdout
        result.stderr = report.stderr
        result.outputTruncated = report.truncated
        switch report.status {
        case "completed":
            guard report.calls.count == (expectedCalls ?? 0) else { return false }
            result.status = .completed
        case "syntax_error":
            guard let error = report.error else { return false }
            result.status = .syntaxError(error)
        case "raised":
            guard let error = report.error else { return false }
            result.status = .raised(error)
        case "missing_entry_point":
            result.status = .missingEntryPoint(entryPoint)
        case "banned_import":
            result.status = .bannedImport(report.module ?? "")
        default:
            return false
        }
        var calls: [CallOutcome] = []
        for call in report.calls {
            if let value = call.value, let seconds = call.seconds {
                calls.append(.value(literal: value, seconds: seconds))
            } else if let raised = call.raised {
                calls.append(.raised(raised, seconds: call.seconds ?? 0))
            } else if let reason = call.not_literal {
                calls.append(.notALiteral(reason: reason))
            } else if let characters = call.too_large {
                calls.append(.valueTooLarge(characters: characters))
            } else if let why = call.bad_arguments {
                calls.append(.badArguments(why))
            } else if let repr = call.opaque {
                calls.append(.opaque(repr: repr, seconds: call.seconds ?? 0))
            } else {
                return false
            }
        }
        result.calls = calls
        return true
    }
}
