import Foundation
import Sandbox
import Tasks
import Trainer

/// A training run's directory, `runs/NAME/`:
///
///     config.json        the resolved settings
///     state.json         the last checkpointed step, RNG and sampler state (written last, atomically)
///     buffers/*.jsonl    one task buffer per type
///     metrics.jsonl      one line per step
///     samples/step-N.jsonl  every proposal and answer of step N, judged
///     samples/seeding.jsonl every judged completion of the work before step 0 (AZR: the seeding proposals)
///     checkpoints/step-N/   model.gguf (+ optimizer.bin): the newest complete one is named in state.json
///
/// A checkpoint becomes current only when state.json names it, so a run killed at any moment resumes from a
/// consistent (model, optimizer, buffers, RNG) point; resuming drops what later, unfinished steps wrote.
public final class TrainingRun {
    public let directory: URL
    public let config: TrainingConfig

    public struct State: Codable, Sendable, Equatable {
        /// Steps whose update is in the checkpoint (the next step to run).
        public var completedSteps: Int
        public var generator: SeededGenerator
        public var policyCalls: UInt64
        /// The checkpoint folder under checkpoints/, nil before the first.
        public var checkpoint: String?
        public var seeded: Bool

        enum CodingKeys: String, CodingKey {
            case generator, checkpoint, seeded
            case completedSteps = "completed_steps", policyCalls = "policy_calls"
        }
    }

    public enum RunError: Error, CustomStringConvertible {
        case exists(String)
        case notARun(String, String)
        /// Training cannot go on (the reason says why and what is kept).
        case stopped(String)

        public var description: String {
            switch self {
            case let .stopped(why): return why
            case let .exists(path): return "\(path) already holds a run; pass --resume \(path) to continue it, or choose another --name"
            case let .notARun(path, why): return "cannot resume \(path): \(why)"
            }
        }
    }

    public var configURL: URL { directory.appendingPathComponent("config.json") }
    public var stateURL: URL { directory.appendingPathComponent("state.json") }
    public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }
    public var buffersURL: URL { directory.appendingPathComponent("buffers") }
    public var samplesURL: URL { directory.appendingPathComponent("samples") }
    public var checkpointsURL: URL { directory.appendingPathComponent("checkpoints") }

    init(directory: URL, config: TrainingConfig) {
        self.directory = directory
        self.config = config
    }

    /// Starts a new run in `directory`, which must not hold one already.
    public static func create(at directory: URL, config: TrainingConfig) throws -> TrainingRun {
        let run = TrainingRun(directory: directory, config: config)
        if FileManager.default.fileExists(atPath: run.configURL.path) { throw RunError.exists(directory.path) }
        try FileManager.default.createDirectory(at: run.buffersURL, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: run.samplesURL, withIntermediateDirectories: true)
        if let folder = config.seedBuffers { try run.copyBuffers(from: URL(fileURLWithPath: folder), types: config.registry.names) }
        try AtomicFile.write(try Self.encoder.encode(config) + Data("\n".utf8), to: run.configURL)
        return run
    }

    /// Starts the buffers from saved ones: every loadable triple, marked as given before seeding (step −2), so
    /// that resuming never mistakes it for the work of an unfinished seeding (−1) or step (0, 1, …).
    func copyBuffers(from folder: URL, types: [String]) throws {
        var found = 0
        for type in types {
            let source = folder.appendingPathComponent("\(type).jsonl")
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            found += 1
            let saved = try TaskBuffer(name: type, url: source)
            let target = try TaskBuffer(name: type, url: buffersURL.appendingPathComponent("\(type).jsonl"))
            for var triple in saved.triples {
                triple.step = Self.givenStep
                try target.add(triple)
            }
        }
        if found == 0 { throw RunError.notARun(folder.path, "no buffer files (\(types.map { "\($0).jsonl" }.joined(separator: ", "))) to start from") }
    }

    /// The step of triples a run starts with from `seed_buffers`.
    public static let givenStep = -2
    /// The step of triples the base model proposed while seeding the buffers.
    public static let seedingStep = -1

    /// Opens an existing run with the config it was started with.
    public static func open(_ directory: URL) throws -> TrainingRun {
        let configURL = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL) else { throw RunError.notARun(directory.path, "no config.json") }
        do {
            return TrainingRun(directory: directory, config: try TrainingConfig.saved(data))
        } catch {
            throw RunError.notARun(directory.path, "config.json is unreadable (\(error))")
        }
    }

    /// The same run with a changed config (only to extend its step count), saved over config.json.
    public static func reopen(_ run: TrainingRun, config: TrainingConfig) throws -> TrainingRun {
        try AtomicFile.write(try encoder.encode(config) + Data("\n".utf8), to: run.configURL)
        return TrainingRun(directory: run.directory, config: config)
    }

    public func readState() throws -> State? {
        guard let data = try? Data(contentsOf: stateURL) else { return nil }
        do { return try JSONDecoder().decode(State.self, from: data) } catch {
            throw RunError.notARun(directory.path, "state.json is unreadable")
        }
    }

    public func writeState(_ state: State) throws {
        try AtomicFile.write(try Self.encoder.encode(state) + Data("\n".utf8), to: stateURL)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    // MARK: metrics

    /// The step lines of metrics.jsonl (none before the first step); lines that cannot be read are left out
    /// here and listed by `readMetricsFile`.
    public func readMetrics() throws -> [StepMetrics] { try readMetricsFile().metrics }

    /// Every line of metrics.jsonl: the readable ones, and the others with their numbers, reasons and text.
    /// A file that exists but cannot be read is an error, not an empty run.
    public func readMetricsFile() throws -> (metrics: [StepMetrics], unreadable: [UnreadableLine]) {
        guard FileManager.default.fileExists(atPath: metricsURL.path) else { return ([], []) }
        let data: Data
        do { data = try Data(contentsOf: metricsURL) } catch {
            throw RunError.notARun(directory.path, "metrics.jsonl is unreadable (\(error.localizedDescription))")
        }
        let decoder = StepMetricsJSON.fileDecoder
        var metrics: [StepMetrics] = [], unreadable: [UnreadableLine] = []
        let lines = data.split(separator: 0x0a, omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            do {
                metrics.append(try decoder.decode(StepMetrics.self, from: line))
            } catch {
                // Only the last line can lack its newline: a kill during an append.
                let torn = index == lines.count - 1
                unreadable.append(UnreadableLine(line: index + 1, reason: torn ? "incomplete final line (an interrupted append)"
                                                    : "not a metrics object", text: String(decoding: line, as: UTF8.self), torn: torn))
            }
        }
        return (metrics, unreadable)
    }

    /// Appends one whole line and fsyncs it.
    public func appendMetrics(_ metrics: StepMetrics) throws {
        try appendLine(try Self.metricsEncoder.encode(metrics), to: metricsURL)
    }

    /// Keeps only the metrics of steps before `step`. Lines that cannot be read go to metrics.jsonl.corrupt
    /// first: a torn last line always, any other only with `salvage` (otherwise nothing is rewritten).
    public func discardMetrics(fromStep step: Int, salvage: Bool = false) throws {
        let file = try readMetricsFile()
        try UnreadableLines.beforeRewriting(metricsURL, file.unreadable, salvage: salvage)
        let kept = file.metrics.filter { $0.step < step }
        var data = Data()
        for line in kept { data += try Self.metricsEncoder.encode(line) + Data("\n".utf8) }
        try AtomicFile.write(data, to: metricsURL)
    }

    private static var metricsEncoder: JSONEncoder { StepMetricsJSON.fileEncoder }

    func appendLine(_ line: Data, to url: URL) throws {
        let fd = Foundation.open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BufferError.cannotWrite(url.path, String(cString: strerror(errno))) }
        defer { close(fd) }
        let data = line + Data("\n".utf8)
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else { throw BufferError.cannotWrite(url.path, String(cString: strerror(errno))) }
    }

    // MARK: samples

    /// Writes samples/step-N.jsonl whole (write, fsync, rename): one JSON object per judged completion of the
    /// step (AZR: each proposal and answer), with how it was judged.
    public func writeSamples(step: Int, _ lines: [SampleLine]) throws {
        try writeSamples(lines, to: samplesFile(step: step))
    }

    private func writeSamples(_ lines: [SampleLine], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for line in lines { data += try encoder.encode(line) + Data("\n".utf8) }
        try AtomicFile.write(data, to: url)
    }

    /// Writes samples/seeding.jsonl whole: the judged completions of the work before step 0 (`Game.prepare`).
    public func writeSeedingSamples(_ lines: [SampleLine]) throws {
        try writeSamples(lines, to: samplesURL.appendingPathComponent("seeding.jsonl"))
    }

    public struct SampleLine: Codable, Sendable {
        public var step: Int
        public var role: String
        public var task_type: String
        public var prompt: String
        public var completion: String
        public var reward: Double
        public var outcome = ""
        public var detail: String?
        public var task: Triple?
        /// "learnability" for a learnability rollout trained on as a solver answer; absent otherwise.
        public var source: String?

        public init(step: Int, role: String, task_type: String, prompt: String, completion: String, reward: Double,
                    outcome: String = "", detail: String? = nil, task: Triple? = nil) {
            self.step = step
            self.role = role
            self.task_type = task_type
            self.prompt = prompt
            self.completion = completion
            self.reward = reward
            self.outcome = outcome
            self.detail = detail
            self.task = task
        }
    }

    func samplesFile(step: Int) -> URL { samplesURL.appendingPathComponent(Self.stepName(step) + ".jsonl") }

    public func readSamples(step: Int) -> [SampleLine] {
        guard let data = try? Data(contentsOf: samplesFile(step: step)) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: 0x0a).compactMap { try? decoder.decode(SampleLine.self, from: $0) }
    }

    // MARK: checkpoints

    /// Writes checkpoints/step-N/ (model, optimizer) completely before anything points at it.
    public func writeCheckpoint(step: Int, parameters: LlamaParameters, optimizer: AdamW?, tokenizerFrom source: GGUFFile?) throws -> String {
        let name = Self.stepName(step)
        let folder = checkpointsURL.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try LlamaCheckpoint.write(parameters, to: folder.appendingPathComponent("model.gguf"), tokenizerFrom: source,
                                  half: config.halfCheckpoints)
        if let optimizer { try OptimizerCheckpoint.write(optimizer, to: folder.appendingPathComponent("optimizer.bin")) }
        return name
    }

    /// `step-N`, zero-padded so names sort by step: checkpoints/step-N holds the model after N steps,
    /// samples/step-N.jsonl the judged samples of step N.
    public static func stepName(_ step: Int) -> String { String(format: "step-%06d", step) }

    /// Removes every checkpoint folder but `keep`.
    public func pruneCheckpoints(keeping keep: String?) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsURL.path)) ?? []
        for name in names where name != keep {
            try? FileManager.default.removeItem(at: checkpointsURL.appendingPathComponent(name))
        }
    }

    public func modelURL(checkpoint: String) -> URL {
        checkpointsURL.appendingPathComponent(checkpoint).appendingPathComponent("model.gguf")
    }

    public func optimizerURL(checkpoint: String) -> URL {
        checkpointsURL.appendingPathComponent(checkpoint).appendingPathComponent("optimizer.bin")
    }

    /// The newest checkpointed model of a run, for `azr eval --model runs/NAME`.
    public func latestModel() throws -> URL? {
        guard let checkpoint = try readState()?.checkpoint else { return nil }
        return modelURL(checkpoint: checkpoint)
    }
}
