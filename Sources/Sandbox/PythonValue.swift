import BigInt

/// A Python literal value, parsed outside the sandbox so that comparisons never run untrusted code.
public indirect enum PythonValue: Sendable, CustomStringConvertible {
    case none
    case bool(Bool)
    case int(BigInt)
    case float(Double)
    case complex(real: Double, imag: Double)
    case str(String)
    case bytes([UInt8])
    case tuple([PythonValue])
    case list([PythonValue])
    /// Insertion order is kept for display; equality ignores it.
    case dict([(key: PythonValue, value: PythonValue)])
    case set([PythonValue])
    case frozenset([PythonValue])

    /// The Python type name (`int`, `dict`, ...).
    public var typeName: String {
        switch self {
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .complex: return "complex"
        case .str: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .set: return "set"
        case .frozenset: return "frozenset"
        }
    }

    /// Python's `repr`, close enough for display and for round-tripping through the parser.
    public var description: String {
        switch self {
        case .none: return "None"
        case let .bool(value): return value ? "True" : "False"
        case let .int(value): return value.description
        case let .float(value): return Self.floatRepr(value)
        case let .complex(real, imag):
            let imagText = Self.complexPartRepr(imag) + "j"
            if real == 0 && real.sign == .plus { return imagText }
            return "(\(Self.complexPartRepr(real))\(imagText.hasPrefix("-") ? "" : "+")\(imagText))"
        case let .str(value): return Self.quote(value)
        case let .bytes(value):
            // Like str: double quotes when the bytes hold ' but not ".
            let quote: UInt8 = value.contains(0x27) && !value.contains(0x22) ? 0x22 : 0x27
            return "b" + String(UnicodeScalar(quote)) + value.map { byte -> String in
                switch byte {
                case 0x5c: return "\\\\"
                case quote: return "\\" + String(UnicodeScalar(quote))
                case 0x0a: return "\\n"
                case 0x0d: return "\\r"
                case 0x09: return "\\t"
                case 0x20...0x7e: return String(UnicodeScalar(byte))
                default: return "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
                }
            }.joined() + String(UnicodeScalar(quote))
        case let .tuple(items):
            return items.count == 1 ? "(\(items[0]),)" : "(" + items.map(\.description).joined(separator: ", ") + ")"
        case let .list(items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .dict(pairs): return "{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case let .set(items): return items.isEmpty ? "set()" : "{" + items.map(\.description).joined(separator: ", ") + "}"
        case let .frozenset(items):
            return items.isEmpty ? "frozenset()" : "frozenset({" + items.map(\.description).joined(separator: ", ") + "})"
        }
    }

    static func floatRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), abs(value) < 1e16 { return String(format: "%.1f", value) }
        return "\(value)"
    }

    /// A complex number's part as CPython writes it: the float's repr without a trailing ".0" (`1`, `-0`,
    /// `1.05`, `1e+16`, `nan`).
    static func complexPartRepr(_ value: Double) -> String {
        let text = floatRepr(value)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    /// CPython's `str.isprintable` for one character beyond ASCII: not a control, format, surrogate, private-use,
    /// unassigned, line or paragraph separator, or space other than " ".
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func quote(_ text: String) -> String {
        let useDouble = text.contains("'") && !text.contains("\"")
        let quote: Character = useDouble ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\\(quote)"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            case _ where scalar.value > 0x7f && !isPrintable(scalar):
                // As CPython: \xhh up to 0xff, \uhhhh up to 0xffff, else \Uhhhhhhhh.
                let (prefix, width) = scalar.value <= 0xff ? ("\\x", 2) : scalar.value <= 0xffff ? ("\\u", 4) : ("\\U", 8)
                let digits = String(scalar.value, radix: 16)
                out += prefix + String(repeating: "0", count: width - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append(quote)
        return out
    }
}
