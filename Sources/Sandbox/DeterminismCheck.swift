/// The verdict of running one job twice in separate children.
public struct DeterminismReport: Sendable {
    public var first: SandboxResult
    public var second: SandboxResult
    /// Why the two runs differ, or `nil` when they agree.
    public var difference: String?

    public var deterministic: Bool { difference == nil }
}

extension ZygotePool {
    /// Runs `job` twice at once on two different zygotes, however busy the pool (different address-space
    /// layouts, so output that depends on `id()` shows), and compares the outcomes outside the sandbox:
    /// statuses, and each call's value (as text first, then as Python values) or exception.
    public func runTwice(_ job: SandboxJob) -> DeterminismReport {
        let (first, second) = runInTwoZygotes(job)
        return DeterminismReport(first: first, second: second, difference: Self.difference(first, second))
    }

    static func difference(_ a: SandboxResult, _ b: SandboxResult) -> String? {
        guard a.status == b.status else { return "status \(a.status.reason) then \(b.status.reason)" }
        guard a.calls.count == b.calls.count else { return "\(a.calls.count) calls then \(b.calls.count)" }
        for (index, (x, y)) in zip(a.calls, b.calls).enumerated() {
            switch (x, y) {
            case let (.value(left, _), .value(right, _)):
                if left == right { continue }
                guard let l = try? PythonValue(literal: left), let r = try? PythonValue(literal: right), l == r else {
                    return "call \(index) returned \(left.prefix(80)) then \(right.prefix(80))"
                }
            case let (.raised(left, _), .raised(right, _)):
                guard left.type == right.type, left.message == right.message else {
                    return "call \(index) raised \(left) then \(right)"
                }
            default:
                guard x == y else { return "call \(index) ended differently" }
            }
        }
        return nil
    }
}
