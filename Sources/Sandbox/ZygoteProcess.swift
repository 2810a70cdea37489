import Foundation

/// One running `azr-zygote` and the socket to it. Not thread-safe: the pool lends each zygote to one
/// caller at a time.
final class ZygoteProcess {
    let pid: pid_t
    private let socket: Int32
    private var nextJobID: UInt64 = 1
    private(set) var alive = true

    /// What the zygote sent back for one job, before interpretation.
    struct RawResult {
        var end: Int32
        var code: Int32
        var wallNanoseconds: UInt64
        var cpuNanoseconds: UInt64
        var maxResidentKilobytes: UInt64
        var report: [UInt8]
        /// Script jobs: the kept stdout and stderr bytes, and whether more was written and dropped.
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var stdoutTruncated = false
        var stderrTruncated = false
    }

    /// What a job asks of the zygote besides its payload (see zygote_wire.h).
    struct JobOptions {
        var script = false
        var stdin: [UInt8] = []
        var directory: String?
        var cpuSeconds: Int = 0
        var memoryBytes: Int = 0
    }

    /// Spawns a zygote and waits until it has initialised Python and run the prelude.
    init(executable: String, configuration: [UInt8], startTimeoutSeconds: Double = 30) throws {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SandboxError.zygoteStartFailed("socketpair: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pair[1], 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default dispositions for every signal and nothing blocked: ignored signals survive exec otherwise.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        // LD_BIND_NOW: with lazy binding every child would resolve again each library function the zygote
        // itself never called, and copy the GOT page it writes the address to.
        let environment: [UnsafeMutablePointer<CChar>?] = [strdup("LANG=C.UTF-8"), strdup("LD_BIND_NOW=1"), nil]
        defer { (argv + environment).forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environment)
        close(pair[1])
        guard status == 0 else {
            close(pair[0])
            throw SandboxError.zygoteStartFailed("cannot run \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        socket = pair[0]
        do {
            try send(configuration)
            let header = try receive(16, deadline: .now() + startTimeoutSeconds)
            let magic = header.load(UInt32.self, at: 0)
            let state = header.load(UInt32.self, at: 4)
            let messageLength = Int(header.load(UInt32.self, at: 8))
            let message = try receive(messageLength, deadline: .now() + 5)
            guard magic == ZygoteWire.readyMagic else { throw SandboxError.zygoteStartFailed("bad handshake") }
            guard state == 0 else { throw SandboxError.zygoteStartFailed(String(decoding: message, as: UTF8.self)) }
        } catch {
            terminate()
            if let known = error as? SandboxError { throw known }
            throw SandboxError.zygoteStartFailed("\(error)")
        }
    }

    deinit { terminate() }

    /// Runs one job; throws `ZygoteFailure` when the zygote itself misbehaves (it is then dead).
    func run(payload: [UInt8], timeoutMilliseconds: Int, options: JobOptions = JobOptions()) throws -> RawResult {
        let jobID = nextJobID
        nextJobID += 1
        let directory = Array((options.directory ?? "").utf8)
        var header = [UInt8](repeating: 0, count: ZygoteWire.jobHeaderSize)
        header.store(ZygoteWire.jobMagic, at: 0)
        header.store(UInt32(payload.count), at: 4)
        header.store(jobID, at: 8)
        header.store(UInt64(timeoutMilliseconds), at: 16)
        header.store(options.script ? ZygoteWire.scriptFlag : 0, at: 24)
        header.store(UInt32(options.stdin.count), at: 28)
        header.store(UInt32(directory.count), at: 32)
        header.store(UInt32(options.cpuSeconds), at: 36)
        header.store(UInt64(options.memoryBytes), at: 40)
        do {
            try send(header + payload + options.stdin + directory)
            // The zygote enforces the job's deadline itself; ours only catches a zygote that stopped answering.
            let deadline = DispatchTime.now() + .milliseconds(timeoutMilliseconds + 5000)
            let reply = try receive(ZygoteWire.resultHeaderSize, deadline: deadline)
            guard reply.load(UInt32.self, at: 0) == ZygoteWire.resultMagic, reply.load(UInt64.self, at: 8) == jobID else {
                throw ZygoteFailure("the zygote's reply is out of step")
            }
            let report = try receive(Int(reply.load(UInt32.self, at: 4)), deadline: deadline)
            let stdout = try receive(Int(reply.load(UInt32.self, at: 48)), deadline: deadline)
            let stderr = try receive(Int(reply.load(UInt32.self, at: 52)), deadline: deadline)
            let flags = reply.load(UInt32.self, at: 56)
            return RawResult(end: reply.load(Int32.self, at: 16), code: reply.load(Int32.self, at: 20),
                             wallNanoseconds: reply.load(UInt64.self, at: 24), cpuNanoseconds: reply.load(UInt64.self, at: 32),
                             maxResidentKilobytes: reply.load(UInt64.self, at: 40), report: report,
                             stdout: stdout, stderr: stderr,
                             stdoutTruncated: flags & 1 != 0, stderrTruncated: flags & 2 != 0)
        } catch {
            terminate()
            throw error
        }
    }

    /// Kills and reaps the zygote; its children die with it (they hold PR_SET_PDEATHSIG).
    func terminate() {
        guard alive else { return }
        alive = false
        kill(pid, SIGKILL)
        close(socket)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        try bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let put = Glibc.send(socket, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if put < 0 && errno == EINTR { continue }
                guard put > 0 else { throw ZygoteFailure("the zygote closed its socket") }
                offset += put
            }
        }
    }

    private func receive(_ count: Int, deadline: DispatchTime) throws -> [UInt8] {
        if count == 0 { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let now = DispatchTime.now()
            guard now < deadline else { throw ZygoteFailure("the zygote stopped answering") }
            var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let waitMilliseconds = Int32(min(Double(Int32.max), Double(deadline.uptimeNanoseconds - now.uptimeNanoseconds) / 1e6 + 1))
            let ready = poll(&entry, 1, waitMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let got = bytes.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + offset, count - offset, 0) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw ZygoteFailure("the zygote died") }
            offset += got
        }
        return bytes
    }
}

/// A zygote that died or fell out of step; the pool replaces it and reports the job as a sandbox failure.
struct ZygoteFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Constants and byte layouts shared with Sources/Zygote/include/zygote_wire.h.
enum ZygoteWire {
    static let configMagic: UInt32 = 0x4352_5a41
    static let readyMagic: UInt32 = 0x5252_5a41
    static let jobMagic: UInt32 = 0x4a52_5a41
    static let resultMagic: UInt32 = 0x4f52_5a41

    static let scriptFlag: UInt32 = 1
    static let configHeaderSize = 56
    static let jobHeaderSize = 48
    static let resultHeaderSize = 64

    enum End: Int32 { case exited = 0, signaled, timeout, resultTooBig, forkFailed }

    static func configuration(prelude: String, bpf: [UInt8], policy: SandboxPolicy) -> [UInt8] {
        let source = Array(prelude.utf8)
        let readable = Array((policy.readablePaths + policy.pythonPath).joined(separator: "\n").utf8)
        var header = [UInt8](repeating: 0, count: configHeaderSize)
        header.store(configMagic, at: 0)
        header.store(UInt32(source.count), at: 4)
        header.store(UInt32(bpf.count), at: 8)
        header.store(UInt32(readable.count), at: 12)
        header.store(UInt64(policy.cpuSeconds), at: 16)
        header.store(UInt64(policy.addressSpaceBytes), at: 24)
        header.store(UInt64(policy.resultBytes), at: 32)
        header.store(UInt64(policy.outputBytes), at: 40)
        header.store(UInt64(policy.fileBytes), at: 48)
        return header + source + bpf + readable
    }
}

extension Array where Element == UInt8 {
    func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
    }
}
