/// The subset of CPython's marshal format (version 2) that a child's report uses: None, booleans, ints, floats,
/// strings, lists, tuples and dicts with string keys. The bytes come from a process that ran hostile code, so
/// every length is checked against what is left, nesting is bounded, strings must be valid UTF-8, and the
/// value must use up the input exactly (a forged report followed by the real one is no report).
public enum MarshalReader {
    public indirect enum Value: Equatable {
        case none
        case bool(Bool)
        case int(Int)
        case float(Double)
        case str(String)
        case list([Value])
        case dict([String: Value])

        subscript(key: String) -> Value? {
            if case let .dict(fields) = self { return fields[key] }
            return nil
        }

        var string: String? {
            if case let .str(text) = self { return text }
            return nil
        }
    }

    public struct Malformed: Error {}

    static let maxDepth = 16

    /// The one value `bytes` hold, or `Malformed`.
    public static func read(_ bytes: [UInt8]) throws -> Value {
        var cursor = Cursor(bytes: bytes)
        let value = try cursor.value(depth: 0)
        guard cursor.offset == bytes.count else { throw Malformed() }
        return value
    }

    private struct Cursor {
        let bytes: [UInt8]
        var offset = 0

        mutating func value(depth: Int) throws -> Value {
            guard depth <= MarshalReader.maxDepth else { throw Malformed() }
            // Bit 7 flags a back-reference target, which version 2 never writes.
            switch try byte() {
            case UInt8(ascii: "N"): return .none
            case UInt8(ascii: "T"): return .bool(true)
            case UInt8(ascii: "F"): return .bool(false)
            case UInt8(ascii: "i"): return .int(Int(Int32(bitPattern: try uint32())))
            case UInt8(ascii: "l"): return .int(try long())
            case UInt8(ascii: "g"): return .float(Double(bitPattern: try uint64()))
            case UInt8(ascii: "u"), UInt8(ascii: "t"): return .str(try string())
            case UInt8(ascii: "["), UInt8(ascii: "("):
                let count = try length()
                var items: [Value] = []
                items.reserveCapacity(count)
                for _ in 0..<count { items.append(try value(depth: depth + 1)) }
                return .list(items)
            case UInt8(ascii: "{"):
                var fields: [String: Value] = [:]
                while offset < bytes.count, bytes[offset] != UInt8(ascii: "0") {
                    guard case let .str(key) = try value(depth: depth + 1) else { throw Malformed() }
                    fields[key] = try value(depth: depth + 1)
                }
                _ = try byte()
                return .dict(fields)
            default:
                throw Malformed()
            }
        }

        private mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw Malformed() }
            defer { offset += 1 }
            return bytes[offset]
        }

        private mutating func uint32() throws -> UInt32 {
            guard bytes.count - offset >= 4 else { throw Malformed() }
            var value: UInt32 = 0
            for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * index) }
            offset += 4
            return value
        }

        private mutating func uint64() throws -> UInt64 {
            let low = UInt64(try uint32())
            return low | UInt64(try uint32()) << 32
        }

        /// A count of items or bytes, which can never exceed the bytes left to hold them.
        private mutating func length() throws -> Int {
            let count = Int(try uint32())
            guard count <= bytes.count - offset else { throw Malformed() }
            return count
        }

        private mutating func string() throws -> String {
            let count = try length()
            defer { offset += count }
            guard let text = String(validating: bytes[offset..<offset + count], as: UTF8.self) else { throw Malformed() }
            return text
        }

        /// Marshal's long: a signed count of 15-bit digits, least significant first. Reports hold only small
        /// ints, so anything past Int's range is malformed.
        private mutating func long() throws -> Int {
            let signedCount = Int32(bitPattern: try uint32())
            let count = Int(signedCount.magnitude)
            guard count <= 4, count * 2 <= bytes.count - offset else { throw Malformed() }
            var magnitude = 0
            for index in 0..<count {
                let digit = Int(bytes[offset + 2 * index]) | Int(bytes[offset + 2 * index + 1]) << 8
                guard digit < 1 << 15 else { throw Malformed() }
                magnitude |= digit << (15 * index)
            }
            offset += 2 * count
            return signedCount < 0 ? -magnitude : magnitude
        }
    }
}
