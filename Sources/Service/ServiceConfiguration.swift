import Foundation

/// How `azr serve` runs: where it listens, how many programs run at once, how many wait, and its limits.
public struct ServiceConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port; ``CodeService/port`` tells which.
    public var port = 8080
    /// Programs running at once: one zygote each. Programs that sleep hold a worker without using a core, so
    /// the default is two per core (at least 4): more only adds switching for busy programs.
    public var workers = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
    /// Requests that may wait for a worker; past that a request gets 504 at once.
    public var maxQueue = 512
    /// The sandbox policy, by name or path.
    public var policy = "service"
    /// When set, every request but `GET /v1/ping` needs `Authorization: Bearer <token>`.
    public var token: String?
    /// Larger request bodies get 413.
    public var maxBodyBytes = 32 << 20
    /// `run_timeout` is honoured up to this many seconds.
    public var maxRunSeconds = 60.0
    /// The fetched files of one response together, at most (each is at most the policy's `file_bytes`).
    public var maxFetchBytes = 64 << 20
    /// `memory_limit_MB` is honoured up to this.
    public var maxMemoryMegabytes = 4096
    /// A keep-alive connection with nothing running for it is closed after this many seconds without a request.
    public var idleSeconds = 120
    /// Where each run's private directory is made (and removed after it); a folder of its own is made inside.
    public var scratchParent = FileManager.default.temporaryDirectory.path

    public init() {}
}
