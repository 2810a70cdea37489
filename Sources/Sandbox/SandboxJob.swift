/// One unit of untrusted work: run `program`, then (optionally) call its entry point once per argument text,
/// then (optionally) run a test script in the program's namespace.
public struct SandboxJob: Sendable, Equatable {
    /// Python source. It may do anything; the child it runs in is disposable.
    public var program: String
    /// Argument texts, one per call of the entry point: `"abc", [1, 2]` calls `f("abc", [1, 2])`. `nil` runs
    /// the program only. The texts are Python literals; each call gets freshly built arguments.
    public var calls: [String]?
    /// Already-parsed arguments, one array per call; when set, `calls` is ignored. Benchmarks use it to skip
    /// printing and re-parsing hundreds of thousands of inputs.
    public var argumentValues: [[PythonValue]]?
    /// The function the calls go to.
    public var entryPoint: String
    /// Source run after the program and the calls, in the same namespace (a benchmark's `check(candidate)`).
    public var testScript: String?
    /// Wall-clock limit for the whole job; `nil` takes the policy's.
    public var timeoutMilliseconds: Int?
    /// Whether a call text that is not a literal is evaluated as Python inside the child, in the program's
    /// namespace (CRUXEval's reference calls `f(<input>)` on text such as `''.join(['A'] * 20)`). Off, such a
    /// call fails with `badArguments` and never reaches the child.
    public var evaluatesArguments = false

    public init(program: String, calls: [String]? = nil, entryPoint: String = "f", testScript: String? = nil,
                timeoutMilliseconds: Int? = nil) {
        self.program = program
        self.calls = calls
        self.entryPoint = entryPoint
        self.testScript = testScript
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public init(program: String, arguments: [[PythonValue]], entryPoint: String = "f", timeoutMilliseconds: Int? = nil) {
        self.init(program: program, entryPoint: entryPoint, timeoutMilliseconds: timeoutMilliseconds)
        argumentValues = arguments
    }
}

/// An exception as the child described it. The text is the untrusted program's; treat it as data.
public struct PythonException: Sendable, Equatable, Codable, CustomStringConvertible {
    public var type: String
    public var message: String
    public var traceback: String?

    public init(type: String, message: String, traceback: String? = nil) {
        self.type = type
        self.message = message
        self.traceback = traceback
    }

    public var description: String { message.isEmpty ? type : "\(type): \(message)" }
}

/// How the job as a whole ended. Only `.completed` means the program ran to its end and reported back;
/// an exit status of 0 alone never does.
public enum SandboxStatus: Sendable, Equatable {
    case completed
    case syntaxError(PythonException)
    /// The program's module body or the test script raised.
    case raised(PythonException)
    case missingEntryPoint(String)
    case bannedImport(String)
    case timedOut
    case cpuLimitExceeded
    /// The seccomp filter killed the child: it attempted a syscall the policy does not allow.
    case forbiddenSyscall
    case crashed(signal: Int32)
    /// The child exited without a valid report (`os._exit(0)`, a broken harness, a forged frame).
    case noResult(exitCode: Int32)
    case resultTooLarge
    /// Our side failed (a zygote died or could not confine the child); the program is not to blame.
    case sandboxFailure(String)

    /// A short stable name, used as the key of failure counters.
    public var reason: String {
        switch self {
        case .completed: return "completed"
        case .syntaxError: return "syntax_error"
        case .raised: return "raised"
        case .missingEntryPoint: return "missing_entry_point"
        case .bannedImport: return "banned_import"
        case .timedOut: return "timeout"
        case .cpuLimitExceeded: return "cpu_limit"
        case .forbiddenSyscall: return "forbidden_syscall"
        case .crashed: return "crashed"
        case .noResult: return "no_result"
        case .resultTooLarge: return "result_too_large"
        case .sandboxFailure: return "sandbox_failure"
        }
    }
}

/// What one call of the entry point gave.
public enum CallOutcome: Sendable, Equatable {
    /// The value, as its builtin `repr` (only exact builtin literal types are reported this way).
    case value(literal: String, seconds: Double)
    case raised(PythonException, seconds: Double)
    /// The value is not made only of literal types (`reason` names the offending type).
    case notALiteral(reason: String)
    case valueTooLarge(characters: Int)
    case badArguments(String)
    /// Lenient policies only: an object that is not a literal, as its own repr (untrusted text).
    case opaque(repr: String, seconds: Double)

    public var literal: String? {
        if case let .value(text, _) = self { return text }
        return nil
    }
}

/// Everything a job produced.
public struct SandboxResult: Sendable, Equatable {
    public var status: SandboxStatus
    /// One entry per requested call, in order, when the program ran far enough to make them.
    public var calls: [CallOutcome]
    public var stdout: String
    public var stderr: String
    public var outputTruncated: Bool
    public var wallSeconds: Double
    public var cpuSeconds: Double
    public var maxResidentKilobytes: Int

    public var completed: Bool { status == .completed }

    /// The one-line summary the CLI prints.
    public var summary: String {
        switch status {
        case .completed:
            if calls.count == 1 {
                switch calls[0] {
                case let .value(literal, _): return "ok: \(literal.prefix(200))"
                case let .raised(exception, _): return "call raised \(exception)"
                case let .notALiteral(reason): return "call returned a non-literal value (\(reason))"
                case let .valueTooLarge(characters): return "call returned a value too large (\(characters) characters)"
                case let .badArguments(why): return "bad arguments: \(why)"
                case let .opaque(repr, _): return "ok (opaque): \(repr.prefix(200))"
                }
            }
            return calls.isEmpty ? "ok" : "ok: \(calls.count) calls"
        case let .syntaxError(exception): return "syntax error: \(exception.message)"
        case let .raised(exception): return "raised \(exception)"
        case let .missingEntryPoint(name): return "the program defines no callable \(name)"
        case let .bannedImport(module): return "banned import: \(module)"
        case .timedOut: return "killed: wall-clock timeout"
        case .cpuLimitExceeded: return "killed: CPU time limit"
        case .forbiddenSyscall: return "killed: forbidden system call"
        case let .crashed(signal): return "crashed with signal \(signal)"
        case let .noResult(code): return "exited (status \(code)) without reporting a result"
        case .resultTooLarge: return "killed: result larger than the policy allows"
        case let .sandboxFailure(why): return "sandbox failure: \(why)"
        }
    }
}
