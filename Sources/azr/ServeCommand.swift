import ArgumentParser
import Foundation
import Sandbox
import Service

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "A SandboxFusion-compatible code-execution service: POST /run_code, GET /v1/ping.",
        discussion: """
        Point veRL's sandbox_fusion_url at http://HOST:PORT/run_code. Each program runs as a whole script in a \
        fresh confined child (seccomp + Landlock) with a private directory for its files. Stops on SIGINT or \
        SIGTERM, taking its zygotes and scratch folder with it.
        """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one (printed at start).") var port = 8080
    @Option(help: "Programs running at once (default: two per core, at least 4; more for programs that sleep).") var workers: Int?
    @Option(help: "Sandbox policy, by name or path.") var policy = "service"
    @Option(help: "A file holding the bearer token every request but /v1/ping must carry.") var tokenFile: String?
    @Option(help: "Requests that may wait for a worker; past that, 504 at once.") var maxQueue = 512
    @Option(help: "Largest request body, in MiB (413 past it).") var maxBodyMb = 32
    @Option(help: "Largest run_timeout honoured, in seconds.") var maxRunSeconds = 60.0
    @Option(help: "Largest memory_limit_MB honoured.") var maxMemoryMb = 4096
    @Option(help: "Seconds a keep-alive connection with nothing running may stay silent before it is closed.") var idleSeconds = 120
    @Option(help: "Folder for the runs' private directories (default: the system's temporary folder).") var scratch: String?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must not be negative") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard maxBodyMb > 0, maxRunSeconds > 0, maxMemoryMb > 0, idleSeconds > 0 else {
            throw ValidationError("--max-body-mb, --max-run-seconds, --max-memory-mb and --idle-seconds must be positive")
        }
    }

    func run() throws {
        var settings = ServiceConfiguration()
        settings.host = host
        settings.port = port
        if let workers { settings.workers = workers }
        settings.policy = policy
        settings.maxQueue = maxQueue
        settings.maxBodyBytes = maxBodyMb << 20
        settings.maxRunSeconds = maxRunSeconds
        settings.maxMemoryMegabytes = maxMemoryMb
        settings.idleSeconds = idleSeconds
        if let scratch { settings.scratchParent = scratch }
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw CLIError.usage("cannot read the token file \(tokenFile)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
                throw CLIError.usage("the token file \(tokenFile) must hold one token without spaces")
            }
            settings.token = token
        }
        let service: CodeService
        do {
            service = try CodeService(configuration: settings)
        } catch let error as ServiceError {
            printError(error.description)
            throw ExitCode(1)
        }
        // Stop cleanly on SIGINT and SIGTERM: the zygotes, their children and the scratch folder go too.
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { service.stop() }
            source.resume()
            sources.append(source)
        }
        print("azr serve: listening on http://\(host):\(service.port)/run_code (\(settings.workers) workers, queue \(settings.maxQueue), policy \(service.runner.pool.policy.name)\(settings.token == nil ? "" : ", bearer token required"))")
        fflush(stdout)
        service.wait()
        service.stop()
        print("azr serve: stopped after \(service.runner.pool.jobCount) runs")
        _ = sources
    }
}
