import Foundation
import Sandbox

/// Runs `/run_code` requests in the sandbox and answers them as SandboxFusion does. Thread-safe: each call
/// blocks its thread until its program has run, so callers keep at most `workers` of them going.
public final class CodeRunner: @unchecked Sendable {
    public let pool: ZygotePool
    let configuration: ServiceConfiguration
    /// This service's own folder for run directories, removed by ``close()``.
    let scratch: String
    let podName: String

    public init(configuration: ServiceConfiguration) throws {
        self.configuration = configuration
        var template = Array("\(configuration.scratchParent)/azr-serve-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ServiceError.scratch("cannot make a scratch folder in \(configuration.scratchParent): \(String(cString: strerror(errno)))")
        }
        scratch = String(cString: template)
        do {
            pool = try ZygotePool(policy: PolicyLocator.load(configuration.policy), size: configuration.workers)
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
        podName = ProcessInfo.processInfo.hostName
    }

    /// Stops the zygotes and removes the scratch folder.
    public func close() {
        pool.shutdown()
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// The response body for one request (HTTP 200).
    public func run(_ request: RunCodeRequest) -> JSONValue {
        guard request.language == "python" else {
            return response(status: "SandboxError", message: "language \"\(request.language)\" is not supported: azr serve runs python only", run: nil)
        }
        let directory: RunDirectory
        do {
            directory = try RunDirectory(parent: scratch)
        } catch {
            return response(status: "SandboxError", message: "\(error)", run: nil)
        }
        defer { directory.remove() }
        do {
            try directory.write(request.files)
        } catch {
            return response(status: "SandboxError", message: "\(error)", run: nil)
        }
        let seconds = min(request.runTimeout, configuration.maxRunSeconds)
        let memory = request.memoryLimitMegabytes > 0 ? min(request.memoryLimitMegabytes, configuration.maxMemoryMegabytes) : nil
        let job = ScriptJob(source: request.code, stdin: Array((request.stdin ?? "").utf8), directory: directory.path,
                            timeoutMilliseconds: max(1, Int((seconds * 1000).rounded(.up))),
                            memoryBytes: memory.map { $0 << 20 })
        let result = pool.runScript(job)
        var fetched: [(String, JSONValue)] = []
        var missing: [String] = []
        var room = configuration.maxFetchBytes
        for path in request.fetchFiles {
            if let contents = directory.read(path, limit: min(room, pool.policy.fileBytes)) {
                fetched.append((path, .string(Data(contents).base64EncodedString())))
                room -= contents.count
            } else {
                missing.append(path)
            }
        }
        return Self.response(for: result, fetched: fetched, missing: missing, outputCap: pool.policy.outputBytes, podName: podName)
    }

    private func response(status: String, message: String, run: JSONValue?) -> JSONValue {
        Self.body(status: status, message: message, run: run, files: [], podName: podName)
    }

    static func body(status: String, message: String, run: JSONValue?, files: [(String, JSONValue)], podName: String) -> JSONValue {
        .object([("status", .string(status)), ("message", .string(message)), ("compile_result", .null),
                 ("run_result", run ?? .null), ("executor_pod_name", .string(podName)), ("files", .object(files))])
    }

    /// SandboxFusion's reading of an ending: Success only for exit status 0; a timeout keeps its output and has
    /// no return code; a death by signal is the negated signal number.
    static func response(for result: ScriptResult, fetched: [(String, JSONValue)], missing: [String], outputCap: Int,
                         podName: String) -> JSONValue {
        let runStatus: String, code: JSONValue, status: String
        var notes: [String] = []
        switch result.ending {
        case let .exited(value):
            (runStatus, code, status) = ("Finished", .int(Int(value)), value == 0 ? "Success" : "Failed")
        case let .signaled(signal):
            (runStatus, code, status) = ("Finished", .int(-Int(signal)), "Failed")
            notes.append("killed by signal \(signal)\(signal == SIGSYS ? " (a forbidden system call)" : signal == SIGXCPU ? " (CPU time limit)" : "")")
        case .timedOut:
            (runStatus, code, status) = ("TimeLimitExceeded", .null, "Failed")
        case let .sandboxFailure(reason):
            (runStatus, code, status) = ("Error", .null, "SandboxError")
            notes.append(reason)
        }
        if result.stdoutTruncated { notes.append("stdout cut at \(outputCap) bytes") }
        if result.stderrTruncated { notes.append("stderr cut at \(outputCap) bytes") }
        if !missing.isEmpty {
            notes.append("fetch_files not returned (missing, not a regular file, or past the size limit): \(missing.joined(separator: ", "))")
        }
        let run: JSONValue = .object([
            ("status", .string(runStatus)), ("execution_time", .double(result.wallSeconds)), ("return_code", code),
            ("stdout", .string(String(decoding: result.stdout, as: UTF8.self))),
            ("stderr", .string(String(decoding: result.stderr, as: UTF8.self))),
        ])
        return body(status: status, message: notes.joined(separator: "; "), run: run, files: fetched, podName: podName)
    }
}
