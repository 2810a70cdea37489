import Foundation

/// A fixed set of zygotes that run untrusted jobs in parallel, one confined child per job.
///
/// Thread-safe: any number of threads may call ``run(_:)`` at once; each blocks until a zygote is free.
/// A zygote that dies or stops answering is replaced, and the job it held is reported as
/// `.sandboxFailure`, never lost and never hung.
public final class ZygotePool: @unchecked Sendable {
    public let policy: SandboxPolicy
    public let size: Int
    private let executable: String
    private let configuration: [UInt8]
    private let lock = NSLock()
    private let free: DispatchSemaphore
    /// Held while a `runInTwoZygotes` call takes its two slots.
    private let pairLock = NSLock()
    /// Idle zygotes; `nil` marks a slot whose zygote must be (re)started before use.
    private var idle: [ZygoteProcess?]
    private var busy: [ZygoteProcess] = []
    private var closed = false
    private var restarts = 0
    private var jobsRun = 0

    /// The largest program or test script a job may carry.
    public static let maxSourceBytes = 1 << 20

    /// Starts `size` zygotes (one per core by default) under `policy`.
    public init(policy: SandboxPolicy, size: Int? = nil, zygoteExecutable: String? = nil) throws {
        self.policy = policy
        self.size = max(1, size ?? ProcessInfo.processInfo.activeProcessorCount)
        executable = try zygoteExecutable ?? Self.findZygote()
        let bpf = try SeccompCompiler.compile(policy, file: "\(policy.name).json")
        configuration = ZygoteWire.configuration(prelude: ZygotePrelude.source(for: policy), bpf: bpf, policy: policy)
        free = DispatchSemaphore(value: self.size)
        idle = []
        for _ in 0..<self.size {
            idle.append(try ZygoteProcess(executable: executable, configuration: configuration))
        }
    }

    /// Loads a policy by name (see ``PolicyLocator``) and starts a pool under it.
    public convenience init(policyNamed name: String, size: Int? = nil) throws {
        try self.init(policy: PolicyLocator.load(name), size: size)
    }

    deinit { shutdown() }

    /// Runs one job and returns what it did. Never throws: every failure is a ``SandboxStatus``.
    /// Call arguments are parsed here, outside the sandbox; a call whose text is not a literal gets
    /// `.badArguments` and is not sent.
    public func run(_ job: SandboxJob) -> SandboxResult {
        run(job) { payload, timeout, expected, entry in self.execute(payload, timeout: timeout, expectedCalls: expected, entryPoint: entry) }
    }

    /// Runs `job` twice at once on two different zygotes — separately executed processes, so with different
    /// address-space layouts, and a program whose result depends on `id()` or addresses gives two results. A
    /// one-zygote pool starts a second zygote for the second run and stops it afterwards.
    public func runInTwoZygotes(_ job: SandboxJob) -> (SandboxResult, SandboxResult) {
        // Pairs take their two slots one pair at a time, so two pairs never each hold one slot and wait forever.
        let slots = min(2, size)
        pairLock.lock()
        for _ in 0..<slots { free.wait() }
        pairLock.unlock()
        defer { for _ in 0..<slots { free.signal() } }
        var zygotes: [ZygoteProcess] = [], extra: ZygoteProcess?
        defer {
            zygotes.forEach(checkin)
            extra?.terminate()
        }
        do {
            for _ in 0..<slots {
                guard let lent = try checkout() else {
                    let closed = Self.failure(.sandboxFailure(SandboxError.poolClosed.description))
                    return (closed, closed)
                }
                zygotes.append(lent)
            }
            if slots == 1 {
                extra = try ZygoteProcess(executable: executable, configuration: configuration)
            }
        } catch {
            let failed = Self.failure(.sandboxFailure("\(error)"))
            return (failed, failed)
        }
        let pair = zygotes + (extra.map { [$0] } ?? [])
        var results = [SandboxResult?](repeating: nil, count: 2)
        let resultsLock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let result = run(job) { payload, timeout, expected, entry in
                self.execute(payload, timeout: timeout, expectedCalls: expected, entryPoint: entry, on: pair[index])
            }
            resultsLock.lock()
            results[index] = result
            resultsLock.unlock()
        }
        return (results[0]!, results[1]!)
    }

    /// Checks and prepares `job`, hands its payload to `execute`, and fills in calls whose arguments did not parse.
    private func run(_ job: SandboxJob, execute: ([UInt8], Int, Int?, String) -> SandboxResult) -> SandboxResult {
        if let problem = Self.problem(with: job) { return Self.failure(.sandboxFailure(problem)) }
        if let arguments = job.argumentValues {
            return execute(Self.payload(for: job, calls: arguments.map(PythonValue.tuple)), job.timeoutMilliseconds ?? policy.wallTimeoutMilliseconds,
                           arguments.count, job.entryPoint)
        }
        let texts = job.calls ?? []
        let parsed = texts.map { text in Result { try argumentParser.parseArguments(text) } }
        // Per call, what goes to the child: the parsed argument tuple, or, for a text that is not a literal, the
        // source itself when the job evaluates arguments (the child evaluates it; nothing is evaluated here).
        // Nil: the call fails here with `badArguments` and never reaches the child.
        let sent: [PythonValue?] = zip(texts, parsed).map { text, outcome in
            (try? outcome.get()).map(PythonValue.tuple) ?? (job.evaluatesArguments ? .str(text) : nil)
        }
        let calls = sent.compactMap { $0 }
        var result = execute(Self.payload(for: job, calls: job.calls == nil ? nil : calls), job.timeoutMilliseconds ?? policy.wallTimeoutMilliseconds,
                             job.calls == nil ? nil : calls.count, job.entryPoint)
        if calls.count < sent.count, result.calls.count == calls.count {
            var ran = result.calls.makeIterator()
            result.calls = zip(sent, parsed).map { call, outcome in
                guard call == nil, case let .failure(error) = outcome else { return ran.next()! }
                return .badArguments("\(error)")
            }
        }
        return result
    }

    private var argumentParser: PythonLiteralParser {
        PythonLiteralParser(maxDepth: policy.maxValueDepth, maxNodes: policy.maxValueNodes)
    }

    private func execute(_ payload: [UInt8], timeout: Int, expectedCalls: Int?, entryPoint: String) -> SandboxResult {
        withFreeZygote(failure: { Self.failure(.sandboxFailure($0)) }) { zygote in
            execute(payload, timeout: timeout, expectedCalls: expectedCalls, entryPoint: entryPoint, on: zygote)
        }
    }

    /// Waits for a free slot, lends `body` a zygote and takes it back; `failure` answers when none can be had.
    private func withFreeZygote<Result>(failure: (String) -> Result, _ body: (ZygoteProcess) -> Result) -> Result {
        free.wait()
        defer { free.signal() }
        let zygote: ZygoteProcess
        do {
            guard let lent = try checkout() else { return failure(SandboxError.poolClosed.description) }
            zygote = lent
        } catch {
            return failure("\(error)")
        }
        defer { checkin(zygote) }
        return body(zygote)
    }

    /// Runs a payload on a zygote the caller has checked out (and checks back in).
    private func execute(_ payload: [UInt8], timeout: Int, expectedCalls: Int?, entryPoint: String, on zygote: ZygoteProcess) -> SandboxResult {
        do {
            let raw = try zygote.run(payload: payload, timeoutMilliseconds: timeout)
            return JobReport.interpret(raw, expectedCalls: expectedCalls, entryPoint: entryPoint)
        } catch {
            return Self.failure(.sandboxFailure("zygote \(zygote.pid) failed: \(error); replaced"))
        }
    }

    /// Runs a whole program (see ``ScriptJob``). Never throws; blocks until a zygote is free.
    public func runScript(_ job: ScriptJob) -> ScriptResult {
        if job.source.utf8.count > Self.maxSourceBytes { return .failure("program larger than \(Self.maxSourceBytes) bytes") }
        guard job.timeoutMilliseconds > 0 else { return .failure("timeout must be positive") }
        if let directory = job.directory, !directory.hasPrefix("/") || directory.utf8.contains(0) {
            return .failure("the working directory must be an absolute path")
        }
        let options = ZygoteProcess.JobOptions(
            script: true, stdin: job.stdin, directory: job.directory,
            cpuSeconds: job.cpuSeconds ?? (job.timeoutMilliseconds + 999) / 1000 + 1,
            memoryBytes: job.memoryBytes ?? policy.addressSpaceBytes)
        var writer = MarshalWriter()
        writer.write([("source", .text(job.source)), ("directory", job.directory.map(MarshalField.text) ?? .values(.none))])
        return withFreeZygote(failure: ScriptResult.failure) { zygote in
            do {
                return ScriptResult(try zygote.run(payload: writer.bytes, timeoutMilliseconds: job.timeoutMilliseconds, options: options))
            } catch {
                return .failure("zygote \(zygote.pid) failed: \(error); replaced")
            }
        }
    }

    /// Runs jobs across all zygotes at once; results are in the jobs' order.
    public func runAll(_ jobs: [SandboxJob]) -> [SandboxResult] {
        var results = [SandboxResult?](repeating: nil, count: jobs.count)
        let resultsLock = NSLock()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: min(size, jobs.count)) { _ in
            while true {
                resultsLock.lock()
                let index = next
                next += 1
                resultsLock.unlock()
                guard index < jobs.count else { return }
                let result = run(jobs[index])
                resultsLock.lock()
                results[index] = result
                resultsLock.unlock()
            }
        }
        return results.map { $0! }
    }

    /// Stops every zygote (and so every child). Later jobs report `.sandboxFailure`.
    public func shutdown() {
        lock.lock()
        closed = true
        let all = idle.compactMap { $0 } + busy
        idle = []
        busy = []
        lock.unlock()
        all.forEach { $0.terminate() }
    }

    /// The zygotes' process ids right now (idle and busy).
    public var zygotePIDs: [pid_t] {
        lock.lock()
        defer { lock.unlock() }
        return (idle.compactMap { $0 } + busy).filter(\.alive).map(\.pid)
    }

    /// How many zygotes were replaced after dying.
    public var restartCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return restarts
    }

    /// How many jobs reached a zygote.
    public var jobCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return jobsRun
    }

    private func checkout() throws -> ZygoteProcess? {
        lock.lock()
        guard !closed, !idle.isEmpty else {
            lock.unlock()
            return nil
        }
        let slot = idle.removeLast()
        jobsRun += 1
        if let zygote = slot, zygote.alive {
            busy.append(zygote)
            lock.unlock()
            return zygote
        }
        restarts += 1
        lock.unlock()
        do {
            let fresh = try ZygoteProcess(executable: executable, configuration: configuration)
            lock.lock()
            busy.append(fresh)
            lock.unlock()
            return fresh
        } catch {
            lock.lock()
            idle.append(nil)
            lock.unlock()
            throw error
        }
    }

    private func checkin(_ zygote: ZygoteProcess) {
        lock.lock()
        busy.removeAll { $0 === zygote }
        if closed {
            lock.unlock()
            zygote.terminate()
            return
        }
        idle.append(zygote.alive ? zygote : nil)
        lock.unlock()
    }

    static func problem(with job: SandboxJob) -> String? {
        if job.program.utf8.count > maxSourceBytes { return "program larger than \(maxSourceBytes) bytes" }
        if let test = job.testScript, test.utf8.count > maxSourceBytes { return "test script larger than \(maxSourceBytes) bytes" }
        if let calls = job.calls, calls.reduce(0, { $0 + $1.utf8.count }) > maxSourceBytes {
            return "call arguments larger than \(maxSourceBytes) bytes"
        }
        if !SandboxPolicy.isModuleName(job.entryPoint) || job.entryPoint.contains(".") {
            return "entry point \"\(job.entryPoint)\" is not an identifier"
        }
        if let timeout = job.timeoutMilliseconds, timeout <= 0 { return "timeout must be positive" }
        return nil
    }

    /// The job as one marshalled dict: `program`, `entry`, `calls` (a list with an argument tuple, or argument
    /// source to evaluate in the child, per call; or None), `test` (source, or None).
    static func payload(for job: SandboxJob, calls: [PythonValue]?) -> [UInt8] {
        var writer = MarshalWriter()
        writer.write([
            ("program", .text(job.program)),
            ("entry", .text(job.entryPoint)),
            ("calls", .values(calls.map { .list($0) } ?? .none)),
            ("test", job.testScript.map(MarshalField.text) ?? .values(.none)),
        ])
        return writer.bytes
    }

    static func failure(_ status: SandboxStatus) -> SandboxResult {
        SandboxResult(status: status, calls: [], stdout: "", stderr: "", outputTruncated: false,
                      wallSeconds: 0, cpuSeconds: 0, maxResidentKilobytes: 0)
    }

    /// `$AZR_ZYGOTE`, else `azr-zygote` beside the running executable (the CLI, or the test bundle in .build).
    static func findZygote() throws -> String {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["AZR_ZYGOTE"], !path.isEmpty { candidates.append(path) }
        candidates.append(ExecutableLocation.directory.appendingPathComponent("azr-zygote").path)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw SandboxError.zygoteNotFound(searched: candidates)
    }
}
