import Foundation

/// Turns what a zygote relayed (how the child ended, plus the child's own marshalled report) into a typed
/// result. The report was written by a process that ran hostile code, so anything inconsistent in it, or a
/// report without a clean exit, counts as no result at all.
enum JobReport {
    private struct Report {
        var status: String
        var calls: [MarshalReader.Value]
        var stdout: String
        var stderr: String
        var truncated: Bool
        var error: PythonException?
        var module: String?

        init?(_ value: MarshalReader.Value) {
            guard let status = value["status"]?.string, case let .list(calls)? = value["calls"],
                  let stdout = value["stdout"]?.string, let stderr = value["stderr"]?.string,
                  case let .bool(truncated)? = value["truncated"] else { return nil }
            (self.status, self.calls, self.truncated) = (status, calls, truncated)
            (self.stdout, self.stderr) = (stdout, stderr)
            if let error = value["error"] {
                guard let exception = Self.exception(error) else { return nil }
                self.error = exception
            }
            module = value["module"]?.string
        }

        static func exception(_ value: MarshalReader.Value) -> PythonException? {
            guard let type = value["type"]?.string, let message = value["message"]?.string else { return nil }
            return PythonException(type: type, message: message, traceback: value["traceback"]?.string)
        }
    }

    /// Exit codes 119–124 are the zygote's own set-up steps failing before any untrusted code ran.
    static let setupFailureCodes: ClosedRange<Int32> = 119...124

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
            } else if let value = try? MarshalReader.read(raw.report), let report = Report(value),
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
            let seconds: Double? = if case let .float(seconds)? = call["seconds"] { seconds } else { nil }
            if let value = call["value"]?.string, let seconds {
                calls.append(.value(literal: value, seconds: seconds))
            } else if let raised = call["raised"] {
                guard let exception = Report.exception(raised) else { return false }
                calls.append(.raised(exception, seconds: seconds ?? 0))
            } else if let reason = call["not_literal"]?.string {
                calls.append(.notALiteral(reason: reason))
            } else if case let .int(characters)? = call["too_large"] {
                calls.append(.valueTooLarge(characters: characters))
            } else if let repr = call["opaque"]?.string {
                calls.append(.opaque(repr: repr, seconds: seconds ?? 0))
            } else {
                return false
            }
        }
        result.calls = calls
        return true
    }
}
