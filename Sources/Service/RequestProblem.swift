/// One reason a request body was refused, reported as FastAPI does in a 422 `{"detail": [...]}`.
public struct RequestProblem: Error, Equatable, Sendable {
    /// Where: `["body", "run_timeout"]`, `["body", "files", "a.txt"]`.
    public var location: [String]
    /// Pydantic's kind of error: `missing`, `string_type`, `float_type`, `value_error`, `json_invalid`, ...
    public var type: String
    public var message: String

    public init(_ location: [String], type: String, _ message: String) {
        self.location = location
        self.type = type
        self.message = message
    }

    var json: JSONValue {
        .object([("type", .string(type)), ("loc", .array(location.map(JSONValue.string))), ("msg", .string(message))])
    }

    /// The 422 body for these problems.
    static func body(_ problems: [RequestProblem]) -> JSONValue {
        .object([("detail", .array(problems.map(\.json)))])
    }
}

/// Every problem found in one body.
public struct RequestProblems: Error, Sendable {
    public var problems: [RequestProblem]
    public init(_ problems: [RequestProblem]) { self.problems = problems }
}
