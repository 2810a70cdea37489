import Foundation

/// A task as AZR stores it: a program defining `f`, with one input and its output (deduction, abduction) or
/// several (induction), and where it came from. Field names are the JSONL buffer format (DESIGN.md §6).
public struct Triple: Codable, Sendable, Equatable {
    public var id: String
    /// The task type's registry name: "deduction", "abduction", "induction", or a plug-in's.
    public var type: String
    public var program: String
    /// The call's argument text, e.g. `"abc", [1, 2]` (deduction, abduction).
    public var input: String?
    /// The Python literal of `f(input)`.
    public var output: String?
    public var inputs: [String]?
    public var outputs: [String]?
    /// Induction: the proposer's description of the function.
    public var message: String?
    public var imports: [String]
    /// Self-play step that produced it (0 for seeds).
    public var step: Int
    /// "seed", "proposer", "import", ... and, for proposals, a hash of the proposer's completion.
    public var source: String
    /// ISO-8601 time of validation.
    public var created: String
    /// Seconds the sandbox spent validating it.
    public var validationSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case id, type, program, input, output, inputs, outputs, message, imports, step, source, created
        case validationSeconds = "validation_seconds"
    }

    public init(type: String, program: String, input: String? = nil, output: String? = nil, inputs: [String]? = nil,
                outputs: [String]? = nil, message: String? = nil, imports: [String] = [], step: Int = 0,
                source: String = "seed", created: Date = Date(), validationSeconds: Double? = nil) {
        self.type = type
        self.program = program
        self.input = input
        self.output = output
        self.inputs = inputs
        self.outputs = outputs
        self.message = message
        self.imports = imports
        self.step = step
        self.source = source
        self.created = ISO8601DateFormatter().string(from: created)
        self.validationSeconds = validationSeconds
        id = ""
        id = Self.identity(of: self)
    }

    /// Lines need only `type`, `program` and the input/output fields; everything else has a default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        program = try c.decode(String.self, forKey: .program)
        input = try c.decodeIfPresent(String.self, forKey: .input)
        output = try c.decodeIfPresent(String.self, forKey: .output)
        inputs = try c.decodeIfPresent([String].self, forKey: .inputs)
        outputs = try c.decodeIfPresent([String].self, forKey: .outputs)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        imports = try c.decodeIfPresent([String].self, forKey: .imports) ?? []
        step = try c.decodeIfPresent(Int.self, forKey: .step) ?? 0
        source = try c.decodeIfPresent(String.self, forKey: .source) ?? "import"
        created = try c.decodeIfPresent(String.self, forKey: .created) ?? ""
        validationSeconds = try c.decodeIfPresent(Double.self, forKey: .validationSeconds)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        if id.isEmpty { id = Self.identity(of: self) }
    }

    /// What makes two triples the same task: type, program (trailing white space ignored) and inputs.
    public var dedupKey: String {
        let program = self.program.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
            .joined(separator: "\n").trimmingCharacters(in: .newlines)
        return [type, program, input ?? "", (inputs ?? []).joined(separator: "\u{1}")].joined(separator: "\u{0}")
    }

    static func identity(of triple: Triple) -> String {
        String(StableHash.fnv1a64(triple.dedupKey), radix: 16)
    }
}

/// A hash that is the same in every process and on every machine (Swift's `Hasher` is seeded per process).
public enum StableHash {
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
