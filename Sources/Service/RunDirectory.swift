import Foundation

/// One run's private directory: made empty beneath the service's scratch folder, filled with the request's
/// `files`, read back for `fetch_files`, and removed. The program inside may write here (Landlock) but make no
/// links or special files; reading back still refuses to follow a link or open anything but a regular file.
final class RunDirectory {
    let path: String

    init(parent: String) throws {
        var template = Array("\(parent)/run-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ServiceError.scratch("cannot make a run directory in \(parent): \(String(cString: strerror(errno)))")
        }
        path = String(cString: template)
    }

    /// Writes each file, making the folders on its path.
    func write(_ files: [(path: String, contents: [UInt8])]) throws {
        for file in files {
            let parts = file.path.split(separator: "/").map(String.init)
            var folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard folder >= 0 else { throw ServiceError.scratch("cannot open \(path)") }
            defer { close(folder) }
            for part in parts.dropLast() {
                if mkdirat(folder, part, 0o700) != 0 && errno != EEXIST {
                    throw ServiceError.scratch("cannot make the folder of \(file.path): \(String(cString: strerror(errno)))")
                }
                let next = openat(folder, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else { throw ServiceError.scratch("\(file.path): a file and a folder share a name") }
                close(folder)
                folder = next
            }
            let fd = openat(folder, parts.last!, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ServiceError.scratch("cannot write \(file.path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var offset = 0
            while offset < file.contents.count {
                let put = file.contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, file.contents.count - offset) }
                if put < 0 && errno == EINTR { continue }
                guard put > 0 else { throw ServiceError.scratch("cannot write \(file.path): \(String(cString: strerror(errno)))") }
                offset += put
            }
        }
    }

    /// The contents of a regular file the run left at `relative`, or nil when there is none (or it is larger
    /// than `limit`, or a link, or not a regular file).
    func read(_ relative: String, limit: Int) -> [UInt8]? {
        let parts = relative.split(separator: "/").map(String.init)
        var folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return nil }
        defer { close(folder) }
        for part in parts.dropLast() {
            let next = openat(folder, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { return nil }
            close(folder)
            folder = next
        }
        let fd = openat(folder, parts.last!, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else { return nil }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, size - offset) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            offset += got
        }
        return Array(bytes[0..<offset])
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Why the service could not start or serve; each reaches the user as one line.
public enum ServiceError: Error, CustomStringConvertible, Equatable {
    case scratch(String)
    case listen(String)
    case tokenFile(String)

    public var description: String {
        switch self {
        case let .scratch(reason): reason
        case let .listen(reason): reason
        case let .tokenFile(reason): reason
        }
    }
}
