import Foundation

/// How RoPE pairs a head's coordinates.
public enum RopeStyle: String, Codable, Sendable {
    /// (2i, 2i+1): llama GGUF files store Q and K permuted for this pairing.
    case adjacent
    /// (i, i + headDimension/2), the GPT-NeoX layout qwen2 files keep.
    case halves
}

/// The shape of a Llama-family decoder (llama or qwen2), read from GGUF metadata.
public struct LlamaConfig: Codable, Sendable, Equatable {
    public var architecture: String
    public var layers: Int
    public var dimension: Int
    public var hiddenDimension: Int
    public var heads: Int
    public var kvHeads: Int
    public var vocabulary: Int
    public var ropeTheta: Float
    public var normEpsilon: Float
    public var contextLength: Int
    public var tiedEmbedding: Bool
    public var ropeStyle: RopeStyle
    /// qwen2 adds biases to the query, key and value projections.
    public var attentionBias: Bool

    public var headDimension: Int { dimension / heads }
    public var kvDimension: Int { kvHeads * headDimension }

    /// A configuration given directly (tests build tiny random models with it).
    public init(layers: Int, dimension: Int, hiddenDimension: Int, heads: Int, kvHeads: Int, vocabulary: Int,
                ropeTheta: Float = 10_000, normEpsilon: Float = 1e-5, contextLength: Int = 2048, tiedEmbedding: Bool = true,
                architecture: String = "llama") {
        self.architecture = architecture
        ropeStyle = architecture == "qwen2" ? .halves : .adjacent
        attentionBias = architecture == "qwen2"
        self.layers = layers
        self.dimension = dimension
        self.hiddenDimension = hiddenDimension
        self.heads = heads
        self.kvHeads = kvHeads
        self.vocabulary = vocabulary
        self.ropeTheta = ropeTheta
        self.normEpsilon = normEpsilon
        self.contextLength = contextLength
        self.tiedEmbedding = tiedEmbedding
    }

    public init(gguf file: GGUFFile) throws {
        let name = try file.require("general.architecture").string ?? ""
        guard name == "llama" || name == "qwen2" else {
            throw GGUFError.malformed(file.path, "architecture \(name) (this build reads llama and qwen2)")
        }
        architecture = name
        ropeStyle = name == "qwen2" ? .halves : .adjacent
        attentionBias = (try? file.tensor("blk.0.attn_q.bias")) != nil
        func int(_ key: String) throws -> Int {
            guard let value = try file.require("\(name).\(key)").int else { throw GGUFError.malformed(file.path, key) }
            return value
        }
        layers = try int("block_count")
        dimension = try int("embedding_length")
        hiddenDimension = try int("feed_forward_length")
        heads = try int("attention.head_count")
        kvHeads = try int("attention.head_count_kv")
        contextLength = try int("context_length")
        let embedding = try file.tensor("token_embd.weight")
        guard embedding.dimensions.count == 2 else {
            throw GGUFError.malformed(file.path, "token_embd.weight has \(embedding.dimensions.count) dimensions, not 2")
        }
        vocabulary = embedding.dimensions[1]
        ropeTheta = Float(file.metadata["\(name).rope.freq_base"]?.double ?? 10_000)
        normEpsilon = Float(file.metadata["\(name).attention.layer_norm_rms_epsilon"]?.double ?? 1e-5)
        tiedEmbedding = (try? file.tensor("output.weight")) == nil
        // A hostile header must give an error, never a trap (a zero divisor) or a later impossible allocation.
        for (key, value) in [("block_count", layers), ("embedding_length", dimension), ("feed_forward_length", hiddenDimension),
                             ("attention.head_count", heads), ("attention.head_count_kv", kvHeads),
                             ("context_length", contextLength), ("vocabulary", vocabulary)] where value <= 0 {
            throw GGUFError.malformed(file.path, "\(key) is \(value)")
        }
        guard embedding.dimensions[0] == dimension else {
            throw GGUFError.malformed(file.path, "token_embd.weight rows have \(embedding.dimensions[0]) values, embedding_length is \(dimension)")
        }
        guard dimension % heads == 0, heads % kvHeads == 0, headDimension % 2 == 0 else {
            throw GGUFError.malformed(file.path, "head layout \(heads)/\(kvHeads) for dimension \(dimension)")
        }
    }
}
