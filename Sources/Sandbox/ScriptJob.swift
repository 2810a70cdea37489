import Foundation

/// A whole Python program, run as `python3 main.py < stdin` would run it (`__name__ == "__main__"`), in a
/// confined child of a zygote: what a code-execution service runs for each request.
public struct ScriptJob: Sendable {
    public var source: String
    /// The program's standard input; empty is end of file at once.
    public var stdin: [UInt8]
    /// A directory the program runs in (its working directory and `sys.path[0]`) and may read and write
    /// beneath, enforced by Landlock; nil: it may write nowhere. The caller creates, fills and removes it.
    public var directory: String?
    public var timeoutMilliseconds: Int
    /// The program's own memory on top of the interpreter it inherits (RLIMIT_AS = the child's size at fork
    /// plus this); nil: the policy's `address_space_mb`, counted the same way.
    public var memoryBytes: Int?
    /// RLIMIT_CPU in seconds; nil: the wall timeout rounded up, plus one.
    public var cpuSeconds: Int?

    public init(source: String, stdin: [UInt8] = [], directory: String? = nil, timeoutMilliseconds: Int,
                memoryBytes: Int? = nil, cpuSeconds: Int? = nil) {
        self.source = source
        self.stdin = stdin
        self.directory = directory
        self.timeoutMilliseconds = timeoutMilliseconds
        self.memoryBytes = memoryBytes
        self.cpuSeconds = cpuSeconds
    }
}

/// How a ``ScriptJob`` ended, with everything it printed (each stream up to the policy's `output_bytes`).
public struct ScriptResult: Sendable {
    public enum Ending: Equatable, Sendable {
        /// The program exited with this status (0 on success, 1 after an uncaught exception).
        case exited(Int32)
        /// The kernel killed it: SIGSYS for a forbidden syscall, SIGXCPU past its CPU limit, SIGKILL past its
        /// result cap, SIGSEGV and the like when it crashed the interpreter.
        case signaled(Int32)
        /// The wall-clock timeout passed; the program was killed, and its output up to then is kept.
        case timedOut
        /// The sandbox could not run it; nothing the program did is reported.
        case sandboxFailure(String)
    }

    public var ending: Ending
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// More was printed than the policy keeps; the rest was read and dropped, never blocking the program.
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    public var wallSeconds: Double
    public var cpuSeconds: Double
    public var maxResidentKilobytes: Int

    static func failure(_ reason: String) -> ScriptResult {
        ScriptResult(ending: .sandboxFailure(reason), stdout: [], stderr: [], stdoutTruncated: false,
                     stderrTruncated: false, wallSeconds: 0, cpuSeconds: 0, maxResidentKilobytes: 0)
    }

    /// The zygote's raw result for a script job. The child writes one byte on its result pipe once confined,
    /// so an exit status in the set-up range is the program's own exactly when that byte came first.
    init(_ raw: ZygoteProcess.RawResult) {
        let started = raw.report.first == UInt8(ascii: "S")
        switch ZygoteWire.End(rawValue: raw.end) {
        case .exited? where started: ending = .exited(raw.code)
        case .exited?:
            ending = .sandboxFailure(JobReport.setupFailureCodes.contains(raw.code)
                ? "child set-up failed (step \(raw.code))" : "the sandbox could not start the program (status \(raw.code))")
        case .signaled? where started: ending = .signaled(raw.code)
        case .signaled?: ending = .sandboxFailure("child killed by signal \(raw.code) during set-up")
        case .resultTooBig?: ending = .signaled(SIGKILL)
        case .timeout?: ending = .timedOut
        case .forkFailed?: ending = .sandboxFailure("fork failed: \(String(cString: strerror(raw.code)))")
        case nil: ending = .sandboxFailure("unknown ending \(raw.end)")
        }
        stdout = raw.stdout
        stderr = raw.stderr
        stdoutTruncated = raw.stdoutTruncated
        stderrTruncated = raw.stderrTruncated
        wallSeconds = Double(raw.wallNanoseconds) / 1e9
        cpuSeconds = Double(raw.cpuNanoseconds) / 1e9
        maxResidentKilobytes = Int(raw.maxResidentKilobytes)
    }

    init(ending: Ending, stdout: [UInt8], stderr: [UInt8], stdoutTruncated: Bool, stderrTruncated: Bool,
         wallSeconds: Double, cpuSeconds: Double, maxResidentKilobytes: Int) {
        (self.ending, self.stdout, self.stderr) = (ending, stdout, stderr)
        (self.stdoutTruncated, self.stderrTruncated) = (stdoutTruncated, stderrTruncated)
        (self.wallSeconds, self.cpuSeconds, self.maxResidentKilobytes) = (wallSeconds, cpuSeconds, maxResidentKilobytes)
    }
}
