/// Everything that can go wrong *around* an untrusted program, as opposed to what the program itself did
/// (that is a ``SandboxStatus``). Each case prints as one line a user can act on.
public enum SandboxError: Error, CustomStringConvertible, Equatable {
    /// The policy file is malformed; `field` is its path inside the JSON (`limits.cpu_seconds`).
    case invalidPolicy(file: String, field: String, reason: String)
    /// No policy of that name in any of the searched folders.
    case policyNotFound(name: String, searched: [String])
    /// The `azr-zygote` executable is not where it was looked for.
    case zygoteNotFound(searched: [String])
    /// A zygote could not be started or did not come up (the message is the zygote's own when it has one).
    case zygoteStartFailed(String)
    /// libseccomp refused the filter the policy describes.
    case seccompFailed(String)
    /// A job was rejected before it reached a zygote (too large, bad argument text, ...).
    case invalidJob(String)
    /// The pool was shut down.
    case poolClosed

    public var description: String {
        switch self {
        case let .invalidPolicy(file, field, reason): return "policy \(file): \(field): \(reason)"
        case let .policyNotFound(name, searched):
            return "no sandbox policy named '\(name)' (looked in \(searched.joined(separator: ", ")))"
        case let .zygoteNotFound(searched):
            return "cannot find the azr-zygote executable (looked at \(searched.joined(separator: ", "))); set AZR_ZYGOTE"
        case let .zygoteStartFailed(why): return "sandbox zygote failed to start: \(why)"
        case let .seccompFailed(why): return "seccomp filter: \(why)"
        case let .invalidJob(why): return "invalid sandbox job: \(why)"
        case .poolClosed: return "the sandbox pool is closed"
        }
    }
}
