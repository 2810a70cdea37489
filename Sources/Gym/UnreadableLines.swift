import Foundation
import Sandbox

/// A line of a JSON Lines file (a buffer, metrics.jsonl) that could not be read: kept, never dropped.
public struct UnreadableLine: Codable, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number in the file as it was read.
    public var line: Int
    public var reason: String
    /// The line's bytes as text (invalid UTF-8 replaced).
    public var text: String
    /// An incomplete last line: what a kill during an append leaves, not damage.
    public var torn: Bool

    public var description: String { "line \(line): \(reason)" }

    public init(line: Int, reason: String, text: String = "", torn: Bool = false) {
        self.line = line
        self.reason = reason
        self.text = text
        self.torn = torn
    }
}

/// Where unreadable lines go before a file is rewritten without them: `FILE.corrupt` beside it, one JSON object
/// per line (`line`, `reason`, `text`, `torn`, `file`, `saved`), appended and fsynced.
public enum UnreadableLines {
    public static func sideFile(for url: URL) -> URL { url.appendingPathExtension("corrupt") }

    /// Appends `lines` to `url`'s side file; returns its URL.
    @discardableResult
    public static func keep(_ lines: [UnreadableLine], from url: URL) throws -> URL {
        let side = sideFile(for: url)
        struct Entry: Encodable {
            var line: Int, reason: String, text: String, torn: Bool, file: String, saved: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let saved = ISO8601DateFormatter().string(from: Date())
        var data = Data()
        for line in lines {
            data += try encoder.encode(Entry(line: line.line, reason: line.reason, text: line.text, torn: line.torn,
                                             file: url.lastPathComponent, saved: saved)) + Data("\n".utf8)
        }
        let fd = open(side.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UnreadableLinesError.cannotKeep(side.path, String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else { throw UnreadableLinesError.cannotKeep(side.path, String(cString: strerror(errno))) }
        return side
    }

    /// Refuses to rewrite `url` without lines it could not read (other than a torn last line), unless `salvage`
    /// allows keeping them in the side file first; keeps them there when allowed.
    public static func beforeRewriting(_ url: URL, _ lines: [UnreadableLine], salvage: Bool) throws {
        guard !lines.isEmpty else { return }
        let damaged = lines.filter { !$0.torn }
        if !damaged.isEmpty && !salvage {
            throw UnreadableLinesError.wouldDrop(url.path, damaged)
        }
        try keep(lines, from: url)
    }
}

public enum UnreadableLinesError: Error, CustomStringConvertible {
    case wouldDrop(String, [UnreadableLine])
    case cannotKeep(String, String)

    public var description: String {
        switch self {
        case let .wouldDrop(path, lines):
            let more = lines.count > 1 ? " and \(lines.count - 1) more" : ""
            return "\(path) has lines that cannot be read (\(lines[0])\(more)); resuming rewrites it, so pass --salvage "
                + "to keep them in \(UnreadableLines.sideFile(for: URL(fileURLWithPath: path)).lastPathComponent) and go on"
        case let .cannotKeep(path, why): return "cannot write \(path): \(why)"
        }
    }
}
