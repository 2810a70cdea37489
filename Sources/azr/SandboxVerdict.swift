import Foundation
import Sandbox

/// What `azr sandbox run` decides and prints for one result.
struct SandboxVerdict {
    let result: SandboxResult
    let expected: PythonValue?
    /// Set when an expected value was given and the call produced a value to compare.
    let matches: Bool?
    let comparisonProblem: String?

    init(result: SandboxResult, expected: PythonValue?) {
        self.result = result
        self.expected = expected
        var matches: Bool?
        var problem: String?
        if let expected, result.completed, let literal = result.calls.first?.literal {
            do { matches = try PythonValue(literal: literal) == expected } catch {
                problem = "the value is not a parsable literal: \(error)"
                matches = false
            }
        }
        self.matches = matches
        comparisonProblem = problem
    }

    var passed: Bool {
        guard result.completed else { return false }
        if let call = result.calls.first, call.literal == nil { return false }
        if expected != nil { return matches == true }
        return true
    }

    var line: String {
        var text = result.summary
        if let expected, let matches {
            text += matches ? " (equals \(expected))" : " (expected \(expected))"
        }
        if let comparisonProblem { text += " (\(comparisonProblem))" }
        return (passed ? "PASS " : "FAIL ") + text + String(format: " [%.1f ms]", result.wallSeconds * 1000)
    }

    var json: String {
        var object: [String: Any] = [
            "passed": passed, "status": result.status.reason, "summary": result.summary,
            "wall_seconds": result.wallSeconds, "cpu_seconds": result.cpuSeconds,
            "max_rss_kb": result.maxResidentKilobytes, "stdout": result.stdout, "stderr": result.stderr,
            "output_truncated": result.outputTruncated,
        ]
        if let literal = result.calls.first?.literal { object["value"] = literal }
        if let expected { object["expected"] = expected.description }
        if let matches { object["matches"] = matches }
        switch result.status {
        case let .raised(exception), let .syntaxError(exception):
            object["exception"] = ["type": exception.type, "message": exception.message]
        default:
            if case let .raised(exception, _)? = result.calls.first {
                object["exception"] = ["type": exception.type, "message": exception.message]
            }
        }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
