import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `azr serve`: the sandbox behind SandboxFusion's HTTP API. Start it, read ``port``, and ``stop()`` it; its
/// zygotes and scratch folder go with it.
public final class CodeService: @unchecked Sendable {
    /// The port it listens on (the one picked when the configuration asked for 0).
    public let port: Int
    public let configuration: ServiceConfiguration
    public let runner: CodeRunner
    private let queue: WorkQueue
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let stopLock = NSLock()
    private var stopped = false

    public init(configuration: ServiceConfiguration) throws {
        self.configuration = configuration
        runner = try CodeRunner(configuration: configuration)
        queue = WorkQueue(workers: configuration.workers, capacity: configuration.maxQueue)
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount / 2))
        let state = ServiceState(runner: runner, queue: queue, configuration: configuration)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(IdleStateHandler(readTimeout: .seconds(Int64(configuration.idleSeconds))))
                    try pipeline.addHandler(ServiceHandler(state: state))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
        do {
            channel = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
        } catch {
            queue.stop()
            runner.close()
            try? group.syncShutdownGracefully()
            throw ServiceError.listen("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        port = channel.localAddress?.port ?? configuration.port
    }

    /// Blocks until ``stop()``.
    public func wait() {
        try? channel.closeFuture.wait()
    }

    /// Stops listening, lets running programs end, and removes the zygotes and scratch folder.
    public func stop() {
        stopLock.lock()
        defer { stopLock.unlock() }
        guard !stopped else { return }
        stopped = true
        try? channel.close().wait()
        queue.stop()
        runner.close()
        try? group.syncShutdownGracefully()
    }

    deinit { stop() }
}
