import Foundation

/// Every parameter of the model in one flat fp32 allocation, stored as in PyTorch ((out, in) row-major, so
/// GGUF tensors load without transposes), located by named offsets. Gradients and optimiser moments will use
/// the same layout, so one loop can update them all.
public final class LlamaParameters {
    public struct LayerOffsets: Sendable {
        public var attentionNorm, query, key, value, attentionOutput, feedForwardNorm, gate, up, down: Int
        /// qwen2's projection biases; nil for llama.
        public var queryBias, keyBias, valueBias: Int?
    }

    public let config: LlamaConfig
    public let embedding: Int
    public let layers: [LayerOffsets]
    public let outputNorm: Int
    /// Only for untied models.
    public let output: Int?
    public let count: Int
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(config: LlamaConfig) {
        self.config = config
        var next = 0
        func take(_ size: Int) -> Int {
            defer { next += size }
            return next
        }
        let d = config.dimension, h = config.hiddenDimension, kv = config.kvDimension
        embedding = take(config.vocabulary * d)
        layers = (0..<config.layers).map { _ in
            let biased = config.attentionBias
            return LayerOffsets(attentionNorm: take(d), query: take(d * d), key: take(kv * d), value: take(kv * d),
                                attentionOutput: take(d * d), feedForwardNorm: take(d), gate: take(h * d), up: take(h * d),
                                down: take(d * h), queryBias: biased ? take(d) : nil, keyBias: biased ? take(kv) : nil,
                                valueBias: biased ? take(kv) : nil)
        }
        outputNorm = take(d)
        output = config.tiedEmbedding ? nil : take(config.vocabulary * d)
        count = next
        storage = .allocate(capacity: next)
        storage.initialize(repeating: 0)
    }

    deinit { storage.deallocate() }

    /// Dequantises every tensor of a GGUF file into place.
    public convenience init(gguf file: GGUFFile) throws {
        try self.init(config: LlamaConfig(gguf: file))
        func load(_ name: String, at offset: Int, count expected: Int) throws {
            let info = try file.tensor(name)
            guard info.elementCount == expected else {
                throw GGUFError.malformed(file.path, "\(name) has \(info.elementCount) elements, \(expected) expected")
            }
            let values = file.dequantize(info)
            values.withUnsafeBufferPointer { source in
                _ = UnsafeMutableBufferPointer(rebasing: storage[offset..<offset + expected]).initialize(from: source)
            }
        }
        let d = config.dimension, h = config.hiddenDimension, kv = config.kvDimension
        try load("token_embd.weight", at: embedding, count: config.vocabulary * d)
        for (index, layer) in layers.enumerated() {
            let prefix = "blk.\(index)."
            try load(prefix + "attn_norm.weight", at: layer.attentionNorm, count: d)
            try load(prefix + "attn_q.weight", at: layer.query, count: d * d)
            try load(prefix + "attn_k.weight", at: layer.key, count: kv * d)
            try load(prefix + "attn_v.weight", at: layer.value, count: kv * d)
            try load(prefix + "attn_output.weight", at: layer.attentionOutput, count: d * d)
            try load(prefix + "ffn_norm.weight", at: layer.feedForwardNorm, count: d)
            try load(prefix + "ffn_gate.weight", at: layer.gate, count: h * d)
            try load(prefix + "ffn_up.weight", at: layer.up, count: h * d)
            try load(prefix + "ffn_down.weight", at: layer.down, count: d * h)
            if let offset = layer.queryBias { try load(prefix + "attn_q.bias", at: offset, count: d) }
            if let offset = layer.keyBias { try load(prefix + "attn_k.bias", at: offset, count: kv) }
            if let offset = layer.valueBias { try load(prefix + "attn_v.bias", at: offset, count: kv) }
        }
        try load("output_norm.weight", at: outputNorm, count: d)
        if let output { try load("output.weight", at: output, count: config.vocabulary * d) }
    }

    public subscript(offset: Int) -> UnsafeMutablePointer<Float> { storage.baseAddress! + offset }
}
