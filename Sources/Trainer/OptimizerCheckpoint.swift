import Foundation

/// AdamW's moments and step count on disk, so a resumed run continues the same optimisation rather than
/// restarting the moments. Layout: "AZRADAM1", UInt64 parameter count, UInt64 step, then the first and second
/// moments as little-endian Float32. Written to a temporary name, fsynced and renamed.
public enum OptimizerCheckpoint {
    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String, String)
        case mismatch(String, expected: Int, found: Int)

        public var description: String {
            switch self {
            case let .unreadable(path, why): return "optimizer state \(path): \(why)"
            case let .mismatch(path, expected, found):
                return "optimizer state \(path) holds \(found) parameters, the model has \(expected)"
            }
        }
    }

    static let magic = Data("AZRADAM1".utf8)

    public static func write(_ optimizer: AdamW, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure.unreadable(temporary.path, String(cString: strerror(errno))) }
        func put(_ pointer: UnsafeRawPointer, _ count: Int) throws {
            var done = 0
            while done < count {
                let written = Foundation.write(fd, pointer + done, min(count - done, 1 << 26))
                guard written > 0 else { throw Failure.unreadable(temporary.path, String(cString: strerror(errno))) }
                done += written
            }
        }
        do {
            var header = magic
            withUnsafeBytes(of: UInt64(optimizer.firstMoment.count).littleEndian) { header.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt64(optimizer.step).littleEndian) { header.append(contentsOf: $0) }
            try header.withUnsafeBytes { try put($0.baseAddress!, $0.count) }
            for moment in [optimizer.firstMoment, optimizer.secondMoment] {
                try put(UnsafeRawPointer(moment.baseAddress!), moment.count * 4)
            }
            guard fsync(fd) == 0 else { throw Failure.unreadable(temporary.path, String(cString: strerror(errno))) }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary.path)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else { throw Failure.unreadable(url.path, String(cString: strerror(errno))) }
    }

    public static func read(into optimizer: AdamW, from url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.unreadable(url.path, String(cString: strerror(errno))) }
        defer { close(fd) }
        func take(_ pointer: UnsafeMutableRawPointer, _ count: Int) throws {
            var done = 0
            while done < count {
                let got = Foundation.read(fd, pointer + done, min(count - done, 1 << 26))
                guard got > 0 else { throw Failure.unreadable(url.path, "truncated") }
                done += got
            }
        }
        var header = [UInt8](repeating: 0, count: 24)
        try header.withUnsafeMutableBytes { try take($0.baseAddress!, 24) }
        guard Data(header[0..<8]) == magic else { throw Failure.unreadable(url.path, "not an AZR optimizer file") }
        let count = header[8..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let step = header[16..<24].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard count == optimizer.firstMoment.count else {
            throw Failure.mismatch(url.path, expected: optimizer.firstMoment.count, found: count)
        }
        for moment in [optimizer.firstMoment, optimizer.secondMoment] {
            try take(UnsafeMutableRawPointer(moment.baseAddress!), moment.count * 4)
        }
        optimizer.restore(step: step)
    }
}
