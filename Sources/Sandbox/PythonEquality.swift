import BigInt

/// `==` is Python's: `1 == 1.0 == True == (1+0j)`, `nan != nan`, `-0.0 == 0.0`, sets and dicts ignore order,
/// `set == frozenset`, list never equals tuple, str never equals bytes, and strings compare code point by
/// code point (no Unicode normalisation, unlike Swift's `String ==`).
extension PythonValue: Equatable {
    public static func == (lhs: PythonValue, rhs: PythonValue) -> Bool {
        if let left = lhs.number, let right = rhs.number { return left.equals(right) }
        switch (lhs, rhs) {
        case (.none, .none): return true
        case let (.str(a), .str(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.bytes(a), .bytes(b)): return a == b
        case let (.tuple(a), .tuple(b)), let (.list(a), .list(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case let (.dict(a), .dict(b)):
            guard a.count == b.count else { return false }
            var table = PythonValueTable<PythonValue>()
            for pair in b {
                guard let key = pair.key.hashKey else { return false }
                table.insert(pair.key, key: key, payload: pair.value)
            }
            return a.allSatisfy { pair in
                guard let key = pair.key.hashKey, let value = table.lookup(pair.key, key: key) else { return false }
                return value == pair.value
            }
        case let (.set(a), .set(b)), let (.set(a), .frozenset(b)), let (.frozenset(a), .set(b)),
             let (.frozenset(a), .frozenset(b)):
            guard a.count == b.count else { return false }
            var table = PythonValueTable<Void>()
            for item in b {
                guard let key = item.hashKey else { return false }
                table.insert(item, key: key, payload: ())
            }
            return a.allSatisfy { item in item.hashKey.map { table.lookup(item, key: $0) != nil } ?? false }
        default:
            return false
        }
    }

    /// The numeric tower view of bool, int, float and complex.
    public var number: PythonNumber? {
        switch self {
        case let .bool(value): return .integer(BigInt(value ? 1 : 0))
        case let .int(value): return .integer(value)
        case let .float(value): return .real(value)
        case let .complex(real, imag): return imag == 0 ? .real(real) : .complex(real, imag)
        default: return nil
        }
    }

    /// A key that equal values share (Python's hash contract); `nil` for unhashable values (list, dict, set).
    var hashKey: PythonHashKey? {
        if let number {
            switch number {
            case let .integer(value): return .integer(value)
            case let .real(value):
                if value.isNaN { return .nan }
                if value.isFinite, value == value.rounded(), let exact = BigInt(exactly: value) { return .integer(exact) }
                return .real(value)
            case let .complex(real, imag): return .complex(real, imag)
            }
        }
        switch self {
        case .none: return PythonHashKey.none
        case let .str(text): return .str(text.unicodeScalars.map(\.value))
        case let .bytes(bytes): return .bytes(bytes)
        case let .tuple(items):
            var keys: [PythonHashKey] = []
            for item in items {
                guard let key = item.hashKey else { return nil }
                keys.append(key)
            }
            return .tuple(keys)
        case let .frozenset(items):
            var keys = Set<PythonHashKey>()
            for item in items {
                guard let key = item.hashKey else { return nil }
                keys.insert(key)
            }
            return .frozenset(keys)
        default:
            return nil
        }
    }
}

/// The numeric tower view of a value.
public enum PythonNumber {
    case integer(BigInt)
    case real(Double)
    case complex(Double, Double)

    func equals(_ other: PythonNumber) -> Bool {
        switch (self, other) {
        case let (.integer(a), .integer(b)): return a == b
        case let (.integer(a), .real(b)), let (.real(b), .integer(a)):
            // Exact, as Python compares: 2**53 + 1 != float(2**53).
            guard b.isFinite, b == b.rounded(), let exact = BigInt(exactly: b) else { return false }
            return exact == a
        case let (.real(a), .real(b)): return a == b
        case let (.complex(ar, ai), .complex(br, bi)): return ar == br && ai == bi
        default: return false // a complex with a non-zero imaginary part never equals a real
        }
    }
}

indirect enum PythonHashKey: Hashable {
    case none
    case integer(BigInt)
    case real(Double)
    case nan
    case complex(Double, Double)
    case str([UInt32])
    case bytes([UInt8])
    case tuple([PythonHashKey])
    case frozenset(Set<PythonHashKey>)
}

/// A small hash table from Python values to payloads, with Python's equality deciding among values that
/// share a key (only `nan` shares a key without being equal).
struct PythonValueTable<Payload> {
    private var buckets: [PythonHashKey: [(value: PythonValue, payload: Payload)]] = [:]

    mutating func insert(_ value: PythonValue, key: PythonHashKey, payload: Payload) {
        buckets[key, default: []].append((value, payload))
    }

    func lookup(_ value: PythonValue, key: PythonHashKey) -> Payload? {
        buckets[key]?.first { $0.value == value }?.payload
    }
}
