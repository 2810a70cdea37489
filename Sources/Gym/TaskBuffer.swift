import Foundation
import Sandbox
import Tasks

/// A line of a buffer file that could not be loaded.
public typealias BufferProblem = UnreadableLine

public enum BufferError: Error, CustomStringConvertible {
    case cannotOpen(String, String)
    case cannotWrite(String, String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, why): return "cannot open buffer \(path): \(why)"
        case let .cannotWrite(path, why): return "cannot write buffer \(path): \(why)"
        }
    }
}

/// One task type's buffer: triples in memory, mirrored to a JSON Lines file (one triple per line).
///
/// Appends are crash-safe: each triple is one `write` of a whole line followed by `fsync`. A process killed
/// mid-append can leave at most a torn final line; loading reports it (with its line number, like any
/// corrupt line) and skips it, and the next append first cuts it off so the file stays well formed.
public final class TaskBuffer {
    public let name: String
    public let url: URL?
    public private(set) var triples: [Triple] = []
    /// Lines that could not be loaded, in file order.
    public private(set) var problems: [BufferProblem] = []
    private var keys = Set<String>()
    private var tornTailOffset: Int?

    /// Opens (or creates) the buffer at `url`, or an in-memory one when `url` is nil. An empty buffer gets
    /// `seed` as its first triple.
    public init(name: String, url: URL?, seed: Triple? = nil) throws {
        self.name = name
        self.url = url
        if let url, FileManager.default.fileExists(atPath: url.path) {
            try load(url)
        }
        if triples.isEmpty, let seed { try add(seed) }
    }

    public var count: Int { triples.count }

    public func contains(_ triple: Triple) -> Bool { keys.contains(triple.dedupKey) }

    /// Adds a triple unless the same task is already here; returns whether it was added.
    @discardableResult
    public func add(_ triple: Triple) throws -> Bool {
        guard keys.insert(triple.dedupKey).inserted else { return false }
        if let url { try append(triple, to: url) }
        triples.append(triple)
        return true
    }

    /// Drops the triples proposed at `step` or later (the initial seed stays) and rewrites the file atomically;
    /// resuming a run uses it to forget a step that was interrupted before its checkpoint. Returns how many went.
    /// Lines the file had that could not be read are never dropped: a torn last line goes to `FILE.corrupt`
    /// first; any other refuses the rewrite unless `salvage` lets them go there too.
    @discardableResult
    public func discard(fromStep step: Int, salvage: Bool = false) throws -> Int {
        let kept = triples.filter { $0.step < step || $0.source == "seed" }
        let dropped = triples.count - kept.count
        guard dropped > 0 || tornTailOffset != nil || !problems.isEmpty else { return 0 }
        if let url {
            try UnreadableLines.beforeRewriting(url, problems, salvage: salvage)
            problems = []
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var data = Data()
            for triple in kept {
                data.append(try encoder.encode(triple))
                data.append(0x0a)
            }
            do { try AtomicFile.write(data, to: url) } catch { throw BufferError.cannotWrite(url.path, "\(error)") }
            tornTailOffset = nil
        }
        triples = kept
        keys = Set(kept.map(\.dedupKey))
        return dropped
    }

    /// Triples created at `step` or later, newest first.
    public func created(since step: Int) -> [Triple] {
        triples.filter { $0.step >= step }.reversed()
    }

    /// Checks a decoded line: a deduction or abduction line needs `input` and `output`, an induction line
    /// `inputs` and `outputs` of equal length.
    public static func problem(with triple: Triple) -> String? {
        if triple.program.isEmpty { return "empty program" }
        if triple.inputs != nil || triple.outputs != nil {
            guard let inputs = triple.inputs, let outputs = triple.outputs, inputs.count == outputs.count, !inputs.isEmpty else {
                return "inputs and outputs must both be present and of equal length"
            }
        } else if triple.input == nil || triple.output == nil {
            return "needs input and output"
        }
        return nil
    }

    private func load(_ url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw BufferError.cannotOpen(url.path, "\(error.localizedDescription)") }
        let decoder = JSONDecoder()
        var offset = 0
        var number = 0
        while offset < data.count {
            number += 1
            let end = data[offset...].firstIndex(of: 0x0a)
            guard let end else {
                problems.append(BufferProblem(line: number, reason: "incomplete final line (an interrupted append); skipped",
                                              text: String(decoding: data[offset...], as: UTF8.self), torn: true))
                tornTailOffset = offset
                break
            }
            let line = data[offset..<end]
            offset = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
            func problem(_ reason: String) {
                problems.append(BufferProblem(line: number, reason: reason, text: String(decoding: line, as: UTF8.self), torn: false))
            }
            do {
                let triple = try decoder.decode(Triple.self, from: line)
                if let reason = Self.problem(with: triple) {
                    problem(reason)
                } else if keys.insert(triple.dedupKey).inserted {
                    triples.append(triple)
                } else {
                    problem("the same task as an earlier line")
                }
            } catch let DecodingError.keyNotFound(key, _) {
                problem("missing field \"\(key.stringValue)\"")
            } catch {
                problem("not a valid JSON object")
            }
        }
    }

    private func append(_ triple: Triple, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(triple)
        line.append(0x0a)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BufferError.cannotWrite(url.path, String(cString: strerror(errno))) }
        defer { close(fd) }
        if let torn = tornTailOffset {
            guard ftruncate(fd, off_t(torn)) == 0 else { throw BufferError.cannotWrite(url.path, String(cString: strerror(errno))) }
            tornTailOffset = nil
        }
        let before = lseek(fd, 0, SEEK_END)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            if written > 0 { tornTailOffset = Int(before) }
            throw BufferError.cannotWrite(url.path, written < 0 ? String(cString: strerror(errno)) : "short write")
        }
        guard fsync(fd) == 0 else { throw BufferError.cannotWrite(url.path, String(cString: strerror(errno))) }
    }
}
