import Foundation

/// Writes GGUF v3 files: metadata, then F32 or F16 tensors at 32-byte alignment. Checkpoints written this way
/// load in llama.cpp and in Hugging Face `transformers` (`from_pretrained(..., gguf_file=...)`). The file is
/// streamed to a temporary name, fsynced and renamed, so a checkpoint is never seen half-written.
public enum GGUFWriter {
    public struct Tensor {
        public var name: String
        /// ggml order (fastest-varying first), as `GGUFTensorInfo.dimensions`.
        public var dimensions: [Int]
        public var values: UnsafeBufferPointer<Float>

        public init(name: String, dimensions: [Int], values: UnsafeBufferPointer<Float>) {
            self.name = name
            self.dimensions = dimensions
            self.values = values
        }
    }

    public static let alignment = 32

    public static func write(to url: URL, metadata: [(String, GGUFValue)], tensors: [Tensor], half: Bool) throws {
        let type: GGMLType = half ? .f16 : .f32
        var header = Data("GGUF".utf8)
        append(&header, UInt32(3))
        append(&header, UInt64(tensors.count))
        append(&header, UInt64(metadata.count + 1))
        appendString(&header, "general.alignment")
        append(&header, UInt32(4))
        append(&header, UInt32(alignment))
        for (key, value) in metadata where key != "general.alignment" {
            appendString(&header, key)
            appendValue(&header, value)
        }
        var offset = 0
        for tensor in tensors {
            appendString(&header, tensor.name)
            append(&header, UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { append(&header, UInt64(dimension)) }
            append(&header, type.rawValue)
            append(&header, UInt64(offset))
            offset += padded(tensor.values.count * type.block.bytes)
        }
        header.append(Data(count: padded(header.count) - header.count))

        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        // FileHandle(forWritingTo:) needs the file to exist; a folder we cannot write to fails here, with its path.
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            try handle.write(contentsOf: header)
            for tensor in tensors {
                var bytes: Data
                if half {
                    var halves = [UInt16](repeating: 0, count: tensor.values.count)
                    halves.withUnsafeMutableBufferPointer { out in
                        let source = tensor.values.baseAddress!, target = out.baseAddress!
                        for i in 0..<out.count { target[i] = Float16(source[i]).bitPattern.littleEndian }
                    }
                    bytes = halves.withUnsafeBytes { Data($0) }
                } else {
                    bytes = Data(buffer: tensor.values) // x86-64 and arm64 are little-endian, as GGUF is
                }
                bytes.append(Data(count: padded(bytes.count) - bytes.count))
                try handle.write(contentsOf: bytes)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }

    static func padded(_ count: Int) -> Int { (count + alignment - 1) / alignment * alignment }

    static func append<T: FixedWidthInteger>(_ data: inout Data, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    static func appendString(_ data: inout Data, _ text: String) {
        append(&data, UInt64(text.utf8.count))
        data.append(contentsOf: Array(text.utf8))
    }

    /// Values keep the widest GGUF type of their kind: u64/i64/f64... except where llama readers expect u32
    /// and f32, which `LlamaCheckpoint` chooses explicitly.
    static func appendValue(_ data: inout Data, _ value: GGUFValue) {
        switch value {
        case let .uint(v):
            if let small = UInt32(exactly: v) { append(&data, UInt32(4)); append(&data, small) } else { append(&data, UInt32(10)); append(&data, v) }
        case let .int(v):
            if let small = Int32(exactly: v) { append(&data, UInt32(5)); append(&data, small) } else { append(&data, UInt32(11)); append(&data, v) }
        case let .float(v):
            append(&data, UInt32(6))
            append(&data, Float(v).bitPattern)
        case let .bool(v):
            append(&data, UInt32(7))
            append(&data, UInt8(v ? 1 : 0))
        case let .string(v):
            append(&data, UInt32(8))
            appendString(&data, v)
        case let .array(values):
            append(&data, UInt32(9))
            appendArray(&data, values)
        }
    }

    private static func appendArray(_ data: inout Data, _ values: [GGUFValue]) {
        // An array has one element type; take it from the first element (empty arrays: u32).
        let probe: Data = {
            var d = Data()
            if let first = values.first { appendValue(&d, first) }
            return d
        }()
        let elementType = probe.count >= 4 ? probe.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } : 4
        append(&data, elementType)
        append(&data, UInt64(values.count))
        for value in values {
            var element = Data()
            appendValue(&element, value)
            data.append(element.dropFirst(4))
        }
    }
}

/// Checkpoints of a llama or qwen2 model as GGUF: the architecture's standard metadata, the source file's tokenizer, the weights.
public enum LlamaCheckpoint {
    public static func write(_ parameters: LlamaParameters, to url: URL, tokenizerFrom source: GGUFFile?, half: Bool = false) throws {
        let c = parameters.config
        let arch = c.architecture
        var metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string(arch)),
            ("general.name", .string("azr-gym checkpoint")),
            ("\(arch).block_count", .uint(UInt64(c.layers))),
            ("\(arch).context_length", .uint(UInt64(c.contextLength))),
            ("\(arch).embedding_length", .uint(UInt64(c.dimension))),
            ("\(arch).feed_forward_length", .uint(UInt64(c.hiddenDimension))),
            ("\(arch).attention.head_count", .uint(UInt64(c.heads))),
            ("\(arch).attention.head_count_kv", .uint(UInt64(c.kvHeads))),
            ("\(arch).rope.freq_base", .float(Double(c.ropeTheta))),
            ("\(arch).rope.dimension_count", .uint(UInt64(c.headDimension))),
            ("\(arch).attention.layer_norm_rms_epsilon", .float(Double(c.normEpsilon))),
            ("\(arch).vocab_size", .uint(UInt64(c.vocabulary))),
            ("general.file_type", .uint(half ? 1 : 0)),
        ]
        if let source {
            for key in source.metadataKeys where key.hasPrefix("tokenizer.") { metadata.append((key, source.metadata[key]!)) }
        }
        let d = c.dimension, h = c.hiddenDimension, kv = c.kvDimension
        func tensor(_ name: String, _ offset: Int, _ dimensions: [Int]) -> GGUFWriter.Tensor {
            GGUFWriter.Tensor(name: name, dimensions: dimensions,
                              values: UnsafeBufferPointer(rebasing: parameters.storage[offset..<offset + dimensions.reduce(1, *)]))
        }
        var tensors = [tensor("token_embd.weight", parameters.embedding, [d, c.vocabulary])]
        for (index, layer) in parameters.layers.enumerated() {
            let prefix = "blk.\(index)."
            tensors += [tensor(prefix + "attn_norm.weight", layer.attentionNorm, [d]),
                        tensor(prefix + "attn_q.weight", layer.query, [d, d]),
                        tensor(prefix + "attn_k.weight", layer.key, [d, kv]),
                        tensor(prefix + "attn_v.weight", layer.value, [d, kv]),
                        tensor(prefix + "attn_output.weight", layer.attentionOutput, [d, d]),
                        tensor(prefix + "ffn_norm.weight", layer.feedForwardNorm, [d]),
                        tensor(prefix + "ffn_gate.weight", layer.gate, [d, h]),
                        tensor(prefix + "ffn_up.weight", layer.up, [d, h]),
                        tensor(prefix + "ffn_down.weight", layer.down, [h, d])]
            if let offset = layer.queryBias { tensors.append(tensor(prefix + "attn_q.bias", offset, [d])) }
            if let offset = layer.keyBias { tensors.append(tensor(prefix + "attn_k.bias", offset, [kv])) }
            if let offset = layer.valueBias { tensors.append(tensor(prefix + "attn_v.bias", offset, [kv])) }
        }
        tensors.append(tensor("output_norm.weight", parameters.outputNorm, [d]))
        if let output = parameters.output { tensors.append(tensor("output.weight", output, [d, c.vocabulary])) }
        try GGUFWriter.write(to: url, metadata: metadata, tensors: tensors, half: half)
    }
}
