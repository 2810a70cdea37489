import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `azr bench serve`: trivial programs through the HTTP service from many keep-alive clients at once, beside
/// the same programs each spawned as `python3 FILE` (what SandboxFusion does per request, before its own
/// overhead), measured in the same run.
public struct ServiceBenchmark {
    public struct Figures: Codable, Sendable {
        public var runs_per_s: Double
        public var p50_ms: Double
        public var p99_ms: Double
        public var spawn_runs_per_s: Double
        public var ratio: Double
        public var clients: Int
        public var workers: Int
        public var seconds: Double
        public var requests: Int
        /// Answers that were not `Success` with the expected stdout; any is a failed benchmark.
        public var wrong_answers: Int
    }

    public var clients = 64
    public var seconds = 10.0
    public var spawnSeconds = 5.0
    public var configuration: ServiceConfiguration

    public init(configuration: ServiceConfiguration) {
        self.configuration = configuration
    }

    static let program = "import sys\nprint(sum(range(10)))\n"
    static let expected = "45\n"

    public func run() throws -> Figures {
        var settings = configuration
        settings.port = 0
        let service = try CodeService(configuration: settings)
        defer { service.stop() }
        let recorder = LatencyRecorder()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let body = JSONValue.object([("code", .string(Self.program)), ("language", .string("python"))]).bytes
        // Warm up: every zygote runs once before the clock starts.
        _ = try drive(group: group, port: service.port, body: body, clients: settings.workers, seconds: 0.5, recorder: LatencyRecorder())
        let started = DispatchTime.now()
        try drive(group: group, port: service.port, body: body, clients: clients, seconds: seconds, recorder: recorder)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let (latencies, wrong) = recorder.snapshot()
        let sorted = latencies.sorted()
        func percentile(_ fraction: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] * 1000
        }
        let runsPerSecond = Double(sorted.count - wrong) / elapsed
        let spawn = try Self.spawnBaseline(seconds: spawnSeconds, concurrency: 2 * ProcessInfo.processInfo.activeProcessorCount)
        return Figures(runs_per_s: runsPerSecond, p50_ms: percentile(0.5), p99_ms: percentile(0.99), spawn_runs_per_s: spawn,
                       ratio: spawn > 0 ? runsPerSecond / spawn : 0, clients: clients, workers: settings.workers,
                       seconds: elapsed, requests: sorted.count, wrong_answers: wrong)
    }

    /// Runs `clients` keep-alive connections, each sending its next request when the last is answered, until
    /// `seconds` pass.
    @discardableResult
    private func drive(group: MultiThreadedEventLoopGroup, port: Int, body: [UInt8], clients: Int, seconds: Double,
                       recorder: LatencyRecorder) throws -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        let channels = try (0..<clients).map { _ in
            try ClientBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.pipeline.addHTTPClientHandlers().flatMap {
                        channel.pipeline.addHandler(BenchClient(body: body, port: port, deadline: deadline, recorder: recorder))
                    }
                }
                .connect(host: "127.0.0.1", port: port).wait()
        }
        for channel in channels { try? channel.closeFuture.wait() }
        return clients
    }

    /// `python3 FILE` per run, `concurrency` at a time, for `seconds`: runs per second.
    static func spawnBaseline(seconds: Double, concurrency: Int) throws -> Double {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("azr-bench-spawn-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // The interpreter itself, not a launcher script in front of it (pyenv's shims cost more than python3).
        let python = (spawnPython(nil, arguments: ["-c", "import sys; print(sys.executable)"]) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !python.isEmpty else { throw ServiceError.scratch("python3 is not on PATH, so there is no spawn baseline") }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        let counter = LatencyRecorder()
        let started = DispatchTime.now()
        DispatchQueue.concurrentPerform(iterations: concurrency) { worker in
            var index = 0
            while DispatchTime.now().uptimeNanoseconds < deadline {
                let file = folder.appendingPathComponent("run-\(worker)-\(index).py")
                index += 1
                guard (try? Data(program.utf8).write(to: file)) != nil else { return }
                let begin = DispatchTime.now().uptimeNanoseconds
                let output = spawnPython(python, arguments: [file.path])
                try? FileManager.default.removeItem(at: file)
                counter.record(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9, correct: output == expected)
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let (runs, wrong) = counter.snapshot()
        return Double(runs.count - wrong) / elapsed
    }

    /// Runs `executable` (nil: python3 from PATH) and returns its stdout when it exits with 0.
    private static func spawnPython(_ executable: String?, arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? "/usr/bin/env")
        process.arguments = executable == nil ? ["python3"] + arguments : arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}

/// Latencies and wrong answers from many threads.
final class LatencyRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var latencies: [Double] = []
    private var wrong = 0

    func record(_ seconds: Double, correct: Bool) {
        lock.lock()
        latencies.append(seconds)
        if !correct { wrong += 1 }
        lock.unlock()
    }

    func snapshot() -> ([Double], Int) {
        lock.lock()
        defer { lock.unlock() }
        return (latencies, wrong)
    }
}

/// One benchmark connection: sends a request, waits for the whole answer, checks it, sends the next.
private final class BenchClient: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let body: [UInt8]
    private let port: Int
    private let deadline: UInt64
    private let recorder: LatencyRecorder
    private var sentAt: UInt64 = 0
    private var status: HTTPResponseStatus = .ok
    private var answer = ByteBuffer()

    init(body: [UInt8], port: Int, deadline: UInt64, recorder: LatencyRecorder) {
        (self.body, self.port, self.deadline, self.recorder) = (body, port, deadline, recorder)
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "127.0.0.1:\(port)")
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.count))
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        sentAt = DispatchTime.now().uptimeNanoseconds
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/run_code", headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            status = head.status
            answer.clear()
        case var .body(chunk):
            answer.writeBuffer(&chunk)
        case .end:
            let now = DispatchTime.now().uptimeNanoseconds
            let text = answer.readString(length: answer.readableBytes) ?? ""
            let correct = status == .ok && text.contains("\"status\": \"Success\"") && text.contains("\"stdout\": \"45\\n\"")
            recorder.record(Double(now - sentAt) / 1e9, correct: correct)
            if now < deadline { send(context: context) } else { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
