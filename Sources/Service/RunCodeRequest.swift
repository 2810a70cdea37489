import Foundation

/// A `POST /run_code` body, field for field as SandboxFusion's `RunCodeRequest`: unknown fields are ignored, a
/// missing `language` is python, and a field of the wrong type is a ``RequestProblem`` naming it.
public struct RunCodeRequest: Equatable, Sendable {
    public var code: String
    public var language: String
    public var compileTimeout: Double
    public var runTimeout: Double
    /// -1: the policy's limit.
    public var memoryLimitMegabytes: Int
    /// nil and "" are both end of file at once.
    public var stdin: String?
    /// Relative path → contents, written into the run's directory before it starts.
    public var files: [(path: String, contents: [UInt8])]
    /// Relative paths whose contents come back base64-encoded in the response.
    public var fetchFiles: [String]

    public static func == (left: RunCodeRequest, right: RunCodeRequest) -> Bool {
        left.code == right.code && left.language == right.language && left.compileTimeout == right.compileTimeout &&
            left.runTimeout == right.runTimeout && left.memoryLimitMegabytes == right.memoryLimitMegabytes &&
            left.stdin == right.stdin && left.fetchFiles == right.fetchFiles &&
            left.files.map(\.path) == right.files.map(\.path) && left.files.map(\.contents) == right.files.map(\.contents)
    }

    /// Parses and checks a body; throws ``RequestProblems`` with every problem found.
    public init(json data: [UInt8]) throws {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(data), options: [.fragmentsAllowed])
        } catch {
            throw RequestProblems([RequestProblem(["body"], type: "json_invalid", "JSON decode error")])
        }
        guard let body = root as? [String: Any] else {
            throw RequestProblems([RequestProblem(["body"], type: "model_attributes_type", "Input should be a valid dictionary or object")])
        }
        var problems: [RequestProblem] = []
        func field<T>(_ name: String, _ read: (Any) throws -> T?, default fallback: T?) -> T? {
            guard let value = body[name] else {
                if fallback == nil { problems.append(RequestProblem(["body", name], type: "missing", "Field required")) }
                return fallback
            }
            do { return try read(value) } catch let problem as RequestProblem {
                problems.append(RequestProblem(["body", name] + problem.location, type: problem.type, problem.message))
            } catch {}
            return nil
        }
        let code = field("code", Self.string, default: nil)
        let language = field("language", { $0 is NSNull ? "python" : try Self.string($0) }, default: "python")
        let compileTimeout = field("compile_timeout", Self.number, default: 10)
        let runTimeout = field("run_timeout", Self.number, default: 10)
        let memory = field("memory_limit_MB", Self.integer, default: -1)
        // stdin may be absent or null (both end of file at once), so its "value" is a one-element list.
        let stdin = field("stdin", { $0 is NSNull ? [nil] : [try Self.string($0)] }, default: [String?.none])?.first
        let files = field("files", Self.files, default: [])
        let fetch = field("fetch_files", Self.paths, default: [])
        if let runTimeout, !(runTimeout > 0) {
            problems.append(RequestProblem(["body", "run_timeout"], type: "greater_than", "Input should be greater than 0"))
        }
        if let compileTimeout, compileTimeout < 0 {
            problems.append(RequestProblem(["body", "compile_timeout"], type: "greater_than_equal", "Input should be greater than or equal to 0"))
        }
        guard problems.isEmpty, let code, let language, let compileTimeout, let runTimeout, let memory, let stdin,
              let files, let fetch else { throw RequestProblems(problems) }
        self.code = code
        self.language = language
        self.compileTimeout = compileTimeout
        self.runTimeout = runTimeout
        memoryLimitMegabytes = memory
        self.stdin = stdin
        self.files = files
        fetchFiles = fetch
    }

    private static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    static func string(_ value: Any) throws -> String {
        guard let text = value as? String else { throw RequestProblem([], type: "string_type", "Input should be a valid string") }
        return text
    }

    static func number(_ value: Any) throws -> Double {
        guard let number = value as? NSNumber, !isBoolean(number), number.doubleValue.isFinite else {
            throw RequestProblem([], type: "float_type", "Input should be a valid number")
        }
        return number.doubleValue
    }

    static func integer(_ value: Any) throws -> Int {
        guard let number = value as? NSNumber, !isBoolean(number), let integer = Int(exactly: number.doubleValue) else {
            throw RequestProblem([], type: "int_type", "Input should be a valid integer")
        }
        return integer
    }

    /// A path inside the run's directory: relative, without `..`, empty or NUL parts.
    static func path(_ value: Any) throws -> String {
        let text = try string(value)
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard !text.hasPrefix("/"), !text.contains("\0"), !parts.isEmpty,
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else { throw RequestProblem([], type: "value_error", "Value error, \"\(text)\" is not a relative path inside the run's directory") }
        return text
    }

    static func paths(_ value: Any) throws -> [String] {
        guard let list = value as? [Any] else { throw RequestProblem([], type: "list_type", "Input should be a valid list") }
        return try list.enumerated().map { index, item in
            do { return try path(item) } catch let problem as RequestProblem {
                throw RequestProblem([String(index)], type: problem.type, problem.message)
            }
        }
    }

    static func files(_ value: Any) throws -> [(path: String, contents: [UInt8])] {
        guard let table = value as? [String: Any] else {
            throw RequestProblem([], type: "dict_type", "Input should be a valid dictionary")
        }
        return try table.keys.sorted().map { key in
            do {
                let path = try path(key)
                if table[key] is NSNull { return (path, []) }
                let encoded = try string(table[key]!)
                guard let data = Data(base64Encoded: encoded) else {
                    throw RequestProblem([], type: "value_error", "Value error, not base64")
                }
                return (path, Array(data))
            } catch let problem as RequestProblem {
                throw RequestProblem([key], type: problem.type, problem.message)
            }
        }
    }
}

