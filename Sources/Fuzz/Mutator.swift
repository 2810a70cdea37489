/// Seeded byte-level mutations in the manner of libFuzzer's default mutators: bit flips, random and
/// "interesting" bytes, insertions and deletions, duplicated runs, dictionary tokens and splices with another
/// corpus entry. The same seed gives the same input sequence.
struct Mutator {
    private var state: UInt64
    let maxLength: Int

    init(seed: UInt64, maxLength: Int) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        self.maxLength = maxLength
    }

    /// xorshift64*: fast, and enough to spread mutations.
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

    /// Values that sit on boundaries: sign bits, all ones, small counts, and counts that overflow when scaled.
    static let interesting: [[UInt8]] = [
        [0], [1], [0x7f], [0x80], [0xff], [0xff, 0xff], [0, 0, 0, 0x80], [0xff, 0xff, 0xff, 0x7f], [0xff, 0xff, 0xff, 0xff],
        [0, 0, 0, 0, 0, 0, 0, 0x80], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x10, 0, 0, 0], [0, 1, 0, 0],
    ]

    /// `count` stacked mutations of `input`; `dictionary` holds tokens of the input's grammar, `other` is a
    /// corpus entry to splice with.
    mutating func mutate(_ input: [UInt8], dictionary: [[UInt8]], other: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + below(6)) {
            switch below(10) {
            case 0 where !bytes.isEmpty:
                bytes[below(bytes.count)] ^= UInt8(1) << UInt8(below(8))
            case 1 where !bytes.isEmpty:
                bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: next())
            case 2:
                let chunk = (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: next()) }
                bytes.insert(contentsOf: chunk, at: below(bytes.count + 1))
            case 3 where !bytes.isEmpty:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(16)))
            case 4 where !bytes.isEmpty:
                let start = below(bytes.count), end = min(bytes.count, start + 1 + below(32))
                bytes.insert(contentsOf: bytes[start..<end], at: below(bytes.count + 1))
            case 5:
                let value = Self.interesting[below(Self.interesting.count)]
                if bytes.count >= value.count, below(2) == 0 {
                    let at = below(bytes.count - value.count + 1)
                    bytes.replaceSubrange(at..<at + value.count, with: value)
                } else {
                    bytes.insert(contentsOf: value, at: below(bytes.count + 1))
                }
            case 6 where !dictionary.isEmpty, 7 where !dictionary.isEmpty:
                let token = dictionary[below(dictionary.count)]
                if below(3) == 0, bytes.count >= token.count {
                    let at = below(bytes.count - token.count + 1)
                    bytes.replaceSubrange(at..<at + token.count, with: token)
                } else {
                    bytes.insert(contentsOf: token, at: below(bytes.count + 1))
                }
            case 8 where !other.isEmpty:
                let cut = below(bytes.count + 1), from = below(other.count)
                bytes = Array(bytes[..<cut]) + other[from..<min(other.count, from + 1 + below(64))]
            case 9 where bytes.count > 1:
                // Truncation: the commonest shape of a damaged file.
                bytes.removeLast(1 + below(bytes.count / 2))
            default:
                bytes.append(UInt8(truncatingIfNeeded: next()))
            }
        }
        return bytes.count > maxLength ? Array(bytes.prefix(maxLength)) : bytes
    }
}
