import BigInt

/// Writes values in CPython's `marshal` format (version 4, no back-references), so the child rebuilds a job
/// with one C call instead of parsing text: arguments are parsed and checked here, outside the sandbox.
struct MarshalWriter {
    private(set) var bytes: [UInt8] = []

    mutating func write(_ value: PythonValue) {
        switch value {
        case .none: bytes.append(UInt8(ascii: "N"))
        case let .bool(flag): bytes.append(UInt8(ascii: flag ? "T" : "F"))
        case let .int(integer): write(integer)
        case let .float(number):
            bytes.append(UInt8(ascii: "g"))
            append64(number.bitPattern)
        case let .complex(real, imag):
            bytes.append(UInt8(ascii: "y"))
            append64(real.bitPattern)
            append64(imag.bitPattern)
        case let .str(text): write(text)
        case let .bytes(data):
            bytes.append(UInt8(ascii: "s"))
            append32(UInt32(data.count))
            bytes.append(contentsOf: data)
        case let .tuple(items): sequence("(", items)
        case let .list(items): sequence("[", items)
        case let .set(items): sequence("<", items)
        case let .frozenset(items): sequence(">", items)
        case let .dict(pairs):
            bytes.append(UInt8(ascii: "{"))
            for pair in pairs {
                write(pair.key)
                write(pair.value)
            }
            bytes.append(UInt8(ascii: "0"))
        }
    }

    mutating func write(_ text: String) {
        bytes.append(UInt8(ascii: "u"))
        var encoded: [UInt8] = []
        for scalar in text.unicodeScalars {
            // Lone surrogates were parked in U+10F000–U+10F7FF by the parser; marshal carries them as
            // surrogatepass UTF-8, which CPython decodes back to the surrogate.
            if (0x10F000...0x10F7FF).contains(scalar.value) {
                let surrogate = scalar.value - 0x10F000 + 0xD800
                encoded += [UInt8(0xE0 | (surrogate >> 12)), UInt8(0x80 | ((surrogate >> 6) & 0x3F)),
                            UInt8(0x80 | (surrogate & 0x3F))]
            } else {
                encoded += Array(String(scalar).utf8)
            }
        }
        append32(UInt32(encoded.count))
        bytes += encoded
    }

    mutating func write(_ dictionary: [(String, MarshalField)]) {
        bytes.append(UInt8(ascii: "{"))
        for (key, field) in dictionary {
            write(key)
            switch field {
            case let .text(text): write(text)
            case let .values(value): write(value)
            }
        }
        bytes.append(UInt8(ascii: "0"))
    }

    private mutating func write(_ integer: BigInt) {
        if let small = Int32(exactly: integer) {
            bytes.append(UInt8(ascii: "i"))
            append32(UInt32(bitPattern: small))
            return
        }
        // 'l': signed count of 15-bit digits, then the digits of |n|, least significant first.
        var magnitude = integer.magnitude
        var digits: [UInt16] = []
        while !magnitude.isZero {
            digits.append(UInt16(truncatingIfNeeded: magnitude & 0x7FFF))
            magnitude >>= 15
        }
        bytes.append(UInt8(ascii: "l"))
        let count = Int32(digits.count)
        append32(UInt32(bitPattern: integer.sign == .minus ? -count : count))
        for digit in digits {
            bytes.append(UInt8(digit & 0xFF))
            bytes.append(UInt8(digit >> 8))
        }
    }

    private mutating func sequence(_ code: Character, _ items: [PythonValue]) {
        bytes.append(code.asciiValue!)
        append32(UInt32(items.count))
        for item in items { write(item) }
    }

    private mutating func append32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func append64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

enum MarshalField {
    case text(String)
    case values(PythonValue)
}
