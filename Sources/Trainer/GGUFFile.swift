import Foundation

/// Why a GGUF file could not be read; each prints as one line naming the file.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(String, String)
    case notGGUF(String)
    case unsupportedVersion(String, UInt32)
    case truncated(String, String)
    case malformed(String, String)
    case unsupportedType(String, tensor: String, type: UInt32)
    case missingMetadata(String, key: String)
    case missingTensor(String, name: String)

    /// ggml types that exist but are not read, so the error can name them.
    static let unreadTypes: [UInt32: String] = [9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS",
                                                18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
                                                23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M"]

    public var description: String {
        switch self {
        case let .cannotOpen(path, why): return "\(path): cannot open (\(why))"
        case let .notGGUF(path): return "\(path): not a GGUF file"
        case let .unsupportedVersion(path, version): return "\(path): GGUF version \(version) is not supported (2 and 3 are)"
        case let .truncated(path, what): return "\(path): truncated (\(what))"
        case let .malformed(path, what): return "\(path): malformed (\(what))"
        case let .unsupportedType(path, tensor, type):
            let name = GGMLType(rawValue: type).map { "\($0)" } ?? Self.unreadTypes[type].map { "\($0) (#\(type))" } ?? "#\(type)"
            return "\(path): tensor \(tensor) has type \(name), which is not supported (\(GGMLType.readable))"
        case let .missingMetadata(path, key): return "\(path): no metadata key \(key)"
        case let .missingTensor(path, name): return "\(path): no tensor \(name)"
        }
    }
}

/// A metadata value.
public indirect enum GGUFValue: Equatable, Sendable {
    case uint(UInt64)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    public var int: Int? {
        switch self {
        case let .uint(v): return Int(exactly: v)
        case let .int(v): return Int(exactly: v)
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case let .float(v): return v
        case let .uint(v): return Double(v)
        case let .int(v): return Double(v)
        default: return nil
        }
    }

    public var string: String? {
        if case let .string(v) = self { return v }
        return nil
    }
}

/// Tensor element encodings (ggml's numbering).
public enum GGMLType: UInt32, Sendable, CustomStringConvertible, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q4_K = 12, q5_K = 13, q6_K = 14, bf16 = 30

    /// Elements per block and bytes per block.
    public var block: (elements: Int, bytes: Int) {
        switch self {
        case .f32: return (1, 4)
        case .f16, .bf16: return (1, 2)
        case .q4_0: return (32, 18)
        case .q4_1: return (32, 20)
        case .q5_0: return (32, 22)
        case .q5_1: return (32, 24)
        case .q8_0: return (32, 34)
        case .q4_K: return (256, 144)
        case .q5_K: return (256, 176)
        case .q6_K: return (256, 210)
        }
    }

    /// The types this reader dequantises, for error messages.
    static var readable: String { allCases.map(\.description).joined(separator: ", ") }

    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        case .bf16: return "BF16"
        }
    }
}

public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    /// ggml order: `dimensions[0]` varies fastest (for a weight stored (out, in), it is `in`).
    public var dimensions: [Int]
    public var type: GGMLType
    /// Byte offset from the start of the file.
    public var offset: Int
    public var elementCount: Int { dimensions.reduce(1, *) }
    public var byteCount: Int { elementCount / type.block.elements * type.block.bytes }
}

/// A GGUF file, memory-mapped: metadata and the tensor table are parsed at open, tensor data is read on demand.
public final class GGUFFile {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    private let data: Data

    public init(path: String) throws {
        self.path = path
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw GGUFError.cannotOpen(path, error.localizedDescription)
        }
        var reader = GGUFReader(data: data, path: path)
        guard data.count >= 4, try reader.bytes(4) == Array("GGUF".utf8) else { throw GGUFError.notGGUF(path) }
        version = try reader.scalar(UInt32.self)
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(path, version) }
        let tensorCount = try reader.count("tensor count")
        let metadataCount = try reader.count("metadata count")
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<metadataCount {
            let key = try reader.string()
            let type = try reader.scalar(UInt32.self)
            metadata[key] = try reader.value(type: type, depth: 0)
            keys.append(key)
        }
        var infos: [(String, [Int], UInt32, Int)] = []
        for _ in 0..<tensorCount {
            let name = try reader.string()
            let dimensionCount = Int(try reader.scalar(UInt32.self))
            guard dimensionCount <= 4 else { throw GGUFError.malformed(path, "tensor \(name) has \(dimensionCount) dimensions") }
            let dimensions = try (0..<dimensionCount).map { _ in try reader.count("dimension of \(name)") }
            let type = try reader.scalar(UInt32.self)
            // Not bounded by the file size like counts: a truncated file's offsets point past its end, which the
            // check below reports as truncation naming the tensor.
            guard let offset = Int(exactly: try reader.scalar(UInt64.self)) else {
                throw GGUFError.malformed(path, "offset of \(name)")
            }
            infos.append((name, dimensions, type, offset))
        }
        let alignment = metadata["general.alignment"]?.int ?? 32
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw GGUFError.malformed(path, "alignment \(alignment)") }
        let dataStart = (reader.position + alignment - 1) / alignment * alignment
        let fileSize = data.count
        tensors = try infos.map { name, dimensions, rawType, offset in
            guard let type = GGMLType(rawValue: rawType) else { throw GGUFError.unsupportedType(path, tensor: name, type: rawType) }
            // Every size is checked for overflow: a hostile header must give an error, never a trap.
            var elements = 1
            for dimension in dimensions {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw GGUFError.malformed(path, "tensor \(name) is impossibly large") }
                elements = product
            }
            guard elements % type.block.elements == 0 else {
                throw GGUFError.malformed(path, "tensor \(name) is not a whole number of \(type) blocks")
            }
            let (start, startOverflow) = dataStart.addingReportingOverflow(offset)
            let (bytes, bytesOverflow) = (elements / type.block.elements).multipliedReportingOverflow(by: type.block.bytes)
            guard !startOverflow, !bytesOverflow, start <= fileSize, bytes <= fileSize - start else {
                throw GGUFError.truncated(path, "tensor \(name) ends past the end of the file")
            }
            return GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: start)
        }
        self.metadata = metadata
        metadataKeys = keys
    }

    public func tensor(_ name: String) throws -> GGUFTensorInfo {
        guard let info = tensors.first(where: { $0.name == name }) else { throw GGUFError.missingTensor(path, name: name) }
        return info
    }

    public func require(_ key: String) throws -> GGUFValue {
        guard let value = metadata[key] else { throw GGUFError.missingMetadata(path, key: key) }
        return value
    }

    /// The tensor's elements as fp32, in file order.
    public func dequantize(_ info: GGUFTensorInfo) -> [Float] {
        var output = [Float](repeating: 0, count: info.elementCount)
        data.withUnsafeBytes { raw in
            output.withUnsafeMutableBufferPointer { out in
                Dequantize.run(info.type, from: UnsafeRawBufferPointer(rebasing: raw[info.offset..<info.offset + info.byteCount]), into: out)
            }
        }
        return output
    }

    public func dequantize(_ name: String) throws -> [Float] { dequantize(try tensor(name)) }
}

/// Little-endian cursor over the file with bounds checks that name what was being read.
private struct GGUFReader {
    let data: Data
    let path: String
    var position = 0

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, position + count <= data.count else { throw GGUFError.truncated(path, "at byte \(position)") }
        defer { position += count }
        return Array(data[data.startIndex + position..<data.startIndex + position + count])
    }

    mutating func scalar<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard position + size <= data.count else { throw GGUFError.truncated(path, "at byte \(position)") }
        let value = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) }
        position += size
        return T(littleEndian: value)
    }

    /// A u64 count that must fit the file (a corrupt count would otherwise allocate absurdly).
    mutating func count(_ what: String) throws -> Int {
        let value = try scalar(UInt64.self)
        guard value <= UInt64(data.count) * 8 else { throw GGUFError.malformed(path, "\(what) \(value)") }
        return Int(value)
    }

    mutating func string() throws -> String {
        let length = try count("string length")
        return String(decoding: try bytes(length), as: UTF8.self)
    }

    mutating func value(type: UInt32, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint(UInt64(try scalar(UInt8.self)))
        case 1: return .int(Int64(try scalar(Int8.self)))
        case 2: return .uint(UInt64(try scalar(UInt16.self)))
        case 3: return .int(Int64(try scalar(Int16.self)))
        case 4: return .uint(UInt64(try scalar(UInt32.self)))
        case 5: return .int(Int64(try scalar(Int32.self)))
        case 6: return .float(Double(Float(bitPattern: try scalar(UInt32.self))))
        case 7: return .bool(try scalar(UInt8.self) != 0)
        case 8: return .string(try string())
        case 9:
            guard depth < 4 else { throw GGUFError.malformed(path, "arrays nested too deeply") }
            let elementType = try scalar(UInt32.self)
            let count = try count("array length")
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try value(type: elementType, depth: depth + 1)) }
            return .array(values)
        case 10: return .uint(try scalar(UInt64.self))
        case 11: return .int(try scalar(Int64.self))
        case 12: return .float(Double(bitPattern: try scalar(UInt64.self)))
        default: throw GGUFError.malformed(path, "metadata value type \(type)")
        }
    }
}
