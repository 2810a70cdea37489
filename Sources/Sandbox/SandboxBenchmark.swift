import Foundation

/// Sandboxed executions per second against two baselines measured in the same run: a fresh `python3 -c`
/// per program (what isolation costs without zygotes) and an in-process `exec` loop (the unsafe ceiling).
public struct SandboxBenchmark {
    public struct Figures: Codable, Sendable {
        public var runs_per_s_trivial: Double
        public var runs_per_s_1ms: Double
        public var runs_per_s_trivial_one_zygote: Double
        public var spawn_runs_per_s: Double
        public var inprocess_runs_per_s: Double
        public var work_program_cpu_ms: Double
        /// Mean fork-to-reap time of one trivial job as the zygote measured it, and the child's CPU time.
        public var child_wall_ms_trivial: Double
        public var child_cpu_ms_trivial: Double
        public var zygotes: Int
        public var seconds_per_measurement: Double
        public var python: String
        public var sandbox_vs_spawn: Double
        public var sandbox_fraction_of_inprocess: Double
    }

    /// The identity task AZR seeds its buffers with.
    public static let trivialJob = SandboxJob(program: "def f(a):\n    return a\n", calls: ["'Hello world'"])
    /// About a millisecond of pure-Python work on this machine class.
    public static let workJob = SandboxJob(
        program: "def f(n):\n    return sum(i * i for i in range(n)) % 1000003\n", calls: ["12000"])

    public var seconds: Double
    public var zygotes: Int
    public var policy: SandboxPolicy

    public init(policy: SandboxPolicy, seconds: Double = 3, zygotes: Int? = nil) {
        self.policy = policy
        self.seconds = seconds
        self.zygotes = zygotes ?? ProcessInfo.processInfo.activeProcessorCount
    }

    public func run(progress: (String) -> Void = { _ in }) throws -> Figures {
        progress("sandbox, trivial program, \(zygotes) zygotes")
        let pool = try ZygotePool(policy: policy, size: zygotes)
        defer { pool.shutdown() }
        let trivial = try rate(pool: pool, job: Self.trivialJob, threads: zygotes)
        let samples = (0..<200).map { _ in pool.run(Self.trivialJob) }
        let childWall = samples.map(\.wallSeconds).reduce(0, +) / Double(samples.count)
        let childCPU = samples.map(\.cpuSeconds).reduce(0, +) / Double(samples.count)
        progress("sandbox, ~1 ms program, \(zygotes) zygotes")
        let work = try rate(pool: pool, job: Self.workJob, threads: zygotes)
        let cpu = pool.run(Self.workJob).cpuSeconds
        progress("sandbox, trivial program, 1 zygote")
        let single = try ZygotePool(policy: policy, size: 1)
        defer { single.shutdown() }
        let one = try rate(pool: single, job: Self.trivialJob, threads: 1)
        progress("python3 -c per program, \(zygotes) at a time")
        let python = try Self.python()
        let spawn = try spawnRate(python: python, threads: zygotes)
        progress("in-process exec loop")
        let inprocess = try inProcessRate(python: python)
        return Figures(runs_per_s_trivial: trivial, runs_per_s_1ms: work, runs_per_s_trivial_one_zygote: one,
                       spawn_runs_per_s: spawn, inprocess_runs_per_s: inprocess, work_program_cpu_ms: cpu * 1000,
                       child_wall_ms_trivial: childWall * 1000, child_cpu_ms_trivial: childCPU * 1000,
                       zygotes: zygotes, seconds_per_measurement: seconds, python: python,
                       sandbox_vs_spawn: trivial / spawn, sandbox_fraction_of_inprocess: trivial / inprocess)
    }

    /// Jobs completed per second with `threads` callers keeping the pool busy for `seconds`.
    private func rate(pool: ZygotePool, job: SandboxJob, threads: Int) throws -> Double {
        for _ in 0..<20 { _ = pool.run(job) } // warm the zygotes' pages
        let counter = Counter()
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while DispatchTime.now().uptimeNanoseconds < deadline {
                let result = pool.run(job)
                counter.add(ok: result.completed && result.calls.first?.literal != nil)
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard counter.failures == 0 else {
            throw SandboxError.invalidJob("benchmark job failed \(counter.failures) times")
        }
        return Double(counter.successes) / elapsed
    }

    private func spawnRate(python: String, threads: Int) throws -> Double {
        let code = Self.trivialJob.program + "f('Hello world')\n"
        let counter = Counter()
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while DispatchTime.now().uptimeNanoseconds < deadline {
                counter.add(ok: Self.spawnAndWait([python, "-I", "-c", code]) == 0)
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard counter.failures == 0 else { throw SandboxError.invalidJob("python3 -c failed \(counter.failures) times") }
        return Double(counter.successes) / elapsed
    }

    /// One long-lived interpreter compiling and executing the program in a loop: no isolation at all.
    private func inProcessRate(python: String) throws -> Double {
        let script = """
        import time
        src = \(PythonValue.str(Self.trivialJob.program).description) + "f('Hello world')\\n"
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < \(seconds):
            for _ in range(200):
                exec(compile(src, '<program>', 'exec'), {})
            n += 200
        print(n / (time.perf_counter() - start))
        """
        let output = try Self.capture([python, "-I", "-c", script])
        guard let rate = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SandboxError.invalidJob("in-process loop printed \(output)")
        }
        return rate
    }

    static func python() throws -> String {
        for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw SandboxError.invalidJob("no python3 executable for the baselines")
    }

    static func spawnAndWait(_ arguments: [String]) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    static func capture(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var successes = 0
    private(set) var failures = 0

    func add(ok: Bool) {
        lock.lock()
        if ok { successes += 1 } else { failures += 1 }
        lock.unlock()
    }
}
