import BigInt

/// Why a text is not a Python literal; `offset` counts Unicode scalars from the start.
public struct PythonLiteralError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { "not a Python literal at character \(offset): \(message)" }
}

/// Parses Python literal text (what `ast.literal_eval` accepts, plus the reprs `nan`, `inf`, `set()`,
/// `frozenset({...})`) without running anything. Depth and element count are bounded, so hostile text
/// costs at most linear time and bounded memory.
public struct PythonLiteralParser {
    public var maxDepth: Int
    public var maxNodes: Int
    /// Also read JSON: `true`, `false`, `null`, `NaN`, `Infinity`, and `\uD83D\uDE00` surrogate pairs as
    /// one character. Benchmark files store Python values as JSON, and JSONSerialization would turn large
    /// integers into doubles.
    public var json: Bool

    public init(maxDepth: Int = 100, maxNodes: Int = 1_000_000, json: Bool = false) {
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.json = json
    }

    /// Parses one value; a top-level `1, 2` is the tuple `(1, 2)`, as in `ast.literal_eval`.
    public func parse(_ text: String) throws -> PythonValue {
        var cursor = Cursor(scalars: Array(text.unicodeScalars), limits: self)
        let first = try cursor.expression(depth: 0)
        cursor.skipSpace()
        guard cursor.peek() == "," else {
            try cursor.expectEnd()
            return first
        }
        var items = [first]
        while cursor.consume(",") {
            cursor.skipSpace()
            if cursor.atEnd { break }
            items.append(try cursor.expression(depth: 1))
            cursor.skipSpace()
        }
        try cursor.expectEnd()
        return .tuple(items)
    }

    /// Parses call arguments (`"abc", [1, 2]`) into the positional arguments; empty text is none at all.
    /// Errors point into `text` itself.
    public func parseArguments(_ text: String) throws -> [PythonValue] {
        var cursor = Cursor(scalars: Array(text.unicodeScalars), limits: self)
        var items: [PythonValue] = []
        cursor.skipSpace()
        while !cursor.atEnd {
            items.append(try cursor.expression(depth: 1))
            cursor.skipSpace()
            if cursor.atEnd { break }
            try cursor.expect(",")
            cursor.skipSpace()
        }
        return items
    }
}

private struct Cursor {
    let scalars: [Unicode.Scalar]
    let limits: PythonLiteralParser
    var position = 0
    var nodes = 0

    init(scalars: [Unicode.Scalar], limits: PythonLiteralParser) {
        self.scalars = scalars
        self.limits = limits
    }

    var atEnd: Bool { position >= scalars.count }
    func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        position + ahead < scalars.count ? scalars[position + ahead] : nil
    }

    func fail(_ message: String) -> PythonLiteralError { PythonLiteralError(message: message, offset: position) }

    mutating func skipSpace() {
        while let scalar = peek() {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}" {
                position += 1
            } else if scalar == "\\", peek(1) == "\n" {
                position += 2
            } else {
                return
            }
        }
    }

    mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
        skipSpace()
        guard peek() == scalar else { return false }
        position += 1
        return true
    }

    mutating func expect(_ scalar: Unicode.Scalar) throws {
        guard consume(scalar) else { throw fail("expected '\(scalar)'") }
    }

    mutating func expectEnd() throws {
        skipSpace()
        guard atEnd else { throw fail("unexpected '\(peek()!)'") }
    }

    mutating func count() throws {
        nodes += 1
        guard nodes <= limits.maxNodes else { throw fail("more than \(limits.maxNodes) elements") }
    }

    /// `unary (('+' | '-') unary)?` where the binary form is only for complex literals like `1+2j`.
    mutating func expression(depth: Int) throws -> PythonValue {
        guard depth <= limits.maxDepth else { throw fail("nested deeper than \(limits.maxDepth)") }
        try count()
        let left = try unary(depth: depth)
        skipSpace()
        guard let op = peek(), op == "+" || op == "-" else { return left }
        let start = position
        position += 1
        let right = try unary(depth: depth)
        guard case let .complex(0, imag) = right, right.isPureImaginaryLiteral else {
            position = start
            throw fail("only a real and an imaginary number may be added")
        }
        // As CPython computes `a ± bj`: complex(a, 0.0) ± complex(0.0, b), so zeros take IEEE sums' signs
        // (`1-0j` is 1+0j, `-0.0+1j` is 1j).
        func combine(_ real: Double) -> PythonValue {
            op == "-" ? .complex(real: real - 0.0, imag: 0.0 - imag) : .complex(real: real + 0.0, imag: 0.0 + imag)
        }
        switch left {
        case let .int(value): return combine(Double(value))
        case let .float(value): return combine(value)
        default:
            position = start
            throw fail("only a real and an imaginary number may be added")
        }
    }

    mutating func unary(depth: Int) throws -> PythonValue {
        skipSpace()
        if let sign = peek(), sign == "-" || sign == "+" {
            position += 1
            guard depth + 1 <= limits.maxDepth else { throw fail("nested deeper than \(limits.maxDepth)") }
            let operand = try unary(depth: depth + 1)
            let negate = sign == "-"
            switch operand {
            case let .int(value): return .int(negate ? -value : value)
            case let .float(value): return .float(negate ? -value : value)
            case let .complex(real, imag): return .complex(real: negate ? -real : real, imag: negate ? -imag : imag)
            case let .bool(value): return .int(negate ? BigInt(value ? -1 : 0) : BigInt(value ? 1 : 0))
            default: throw fail("a sign applies to numbers only")
            }
        }
        return try atom(depth: depth)
    }

    mutating func atom(depth: Int) throws -> PythonValue {
        skipSpace()
        guard let scalar = peek() else { throw fail("unexpected end of text") }
        switch scalar {
        case "(":
            position += 1
            if consume(")") { return .tuple([]) }
            let first = try expression(depth: depth + 1)
            if consume(")") { return first }
            try expect(",")
            var items = [first]
            while !consume(")") {
                items.append(try expression(depth: depth + 1))
                if !consume(",") {
                    try expect(")")
                    break
                }
            }
            return .tuple(items)
        case "[":
            position += 1
            return .list(try sequence(until: "]", depth: depth))
        case "{":
            position += 1
            return try braces(depth: depth)
        case "0"..."9", ".":
            return try number()
        case "'", "\"":
            return try strings()
        default:
            guard isIdentifierStart(scalar) else { throw fail("unexpected '\(scalar)'") }
            let word = identifier()
            if let next = peek(), next == "'" || next == "\"", isStringPrefix(word) {
                position -= word.unicodeScalars.count
                return try strings()
            }
            if limits.json {
                switch word {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .none
                case "NaN": return .float(.nan)
                case "Infinity": return .float(.infinity)
                default: break
                }
            }
            switch word {
            case "None": return .none
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "nan": return .float(.nan)
            case "inf": return .float(.infinity)
            // CPython's repr of complex numbers with such parts: (1+nanj), (-inf-infj).
            case "nanj": return .complex(real: 0, imag: .nan)
            case "infj": return .complex(real: 0, imag: .infinity)
            case "set", "frozenset":
                try expect("(")
                var items: [PythonValue] = []
                if !consume(")") {
                    items = try elements(of: try expression(depth: depth + 1), word: word)
                    _ = consume(",")
                    try expect(")")
                }
                let unique = try Self.deduplicated(items, at: position)
                return word == "set" ? .set(unique) : .frozenset(unique)
            default:
                throw fail("'\(word)' is not a literal")
            }
        }
    }

    func elements(of value: PythonValue, word: String) throws -> [PythonValue] {
        switch value {
        case let .list(items), let .tuple(items), let .set(items), let .frozenset(items): return items
        case let .str(text): return text.unicodeScalars.map { .str(String($0)) }
        default: throw fail("\(word)() takes a list, tuple or set literal")
        }
    }

    mutating func sequence(until close: Unicode.Scalar, depth: Int) throws -> [PythonValue] {
        var items: [PythonValue] = []
        while !consume(close) {
            items.append(try expression(depth: depth + 1))
            if !consume(",") {
                try expect(close)
                break
            }
        }
        return items
    }

    mutating func braces(depth: Int) throws -> PythonValue {
        if consume("}") { return .dict([]) }
        let first = try expression(depth: depth + 1)
        if consume(":") {
            var pairs = [(key: first, value: try expression(depth: depth + 1))]
            while consume(",") {
                if consume("}") { return .dict(try Self.deduplicatedPairs(pairs, at: position)) }
                let key = try expression(depth: depth + 1)
                try expect(":")
                pairs.append((key, try expression(depth: depth + 1)))
            }
            try expect("}")
            return .dict(try Self.deduplicatedPairs(pairs, at: position))
        }
        var items = [first]
        while consume(",") {
            if consume("}") { return .set(try Self.deduplicated(items, at: position)) }
            items.append(try expression(depth: depth + 1))
        }
        try expect("}")
        return .set(try Self.deduplicated(items, at: position))
    }

    static func deduplicated(_ items: [PythonValue], at offset: Int) throws -> [PythonValue] {
        var seen = PythonValueTable<Void>()
        var unique: [PythonValue] = []
        for item in items {
            guard let key = item.hashKey else {
                throw PythonLiteralError(message: "unhashable type: '\(item.typeName)'", offset: offset)
            }
            if seen.lookup(item, key: key) == nil {
                seen.insert(item, key: key, payload: ())
                unique.append(item)
            }
        }
        return unique
    }

    /// Later values win, earlier keys keep their place: Python's dict display semantics.
    static func deduplicatedPairs(_ pairs: [(key: PythonValue, value: PythonValue)], at offset: Int) throws
        -> [(key: PythonValue, value: PythonValue)] {
        var seen = PythonValueTable<Int>()
        var unique: [(key: PythonValue, value: PythonValue)] = []
        for pair in pairs {
            guard let key = pair.key.hashKey else {
                throw PythonLiteralError(message: "unhashable type: '\(pair.key.typeName)'", offset: offset)
            }
            if let index = seen.lookup(pair.key, key: key) {
                unique[index].value = pair.value
            } else {
                seen.insert(pair.key, key: key, payload: unique.count)
                unique.append(pair)
            }
        }
        return unique
    }

    func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic
    }

    mutating func identifier() -> String {
        var word = ""
        while let scalar = peek(), scalar == "_" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
            word.unicodeScalars.append(scalar)
            position += 1
        }
        return word
    }

    func isStringPrefix(_ word: String) -> Bool {
        ["r", "u", "b", "br", "rb"].contains(word.lowercased())
    }

    // MARK: numbers

    mutating func number() throws -> PythonValue {
        let start = position
        var text = ""
        func digits(_ allowed: (Unicode.Scalar) -> Bool) {
            while let scalar = peek(), allowed(scalar) || (scalar == "_" && peek(1).map(allowed) == true && !text.isEmpty) {
                if scalar != "_" { text.unicodeScalars.append(scalar) }
                position += 1
            }
        }
        let decimal: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }
        if peek() == "0", let kind = peek(1).map({ Character($0).lowercased() }), ["x", "o", "b"].contains(kind) {
            position += 2
            let radix = kind == "x" ? 16 : kind == "o" ? 8 : 2
            if peek() == "_" { position += 1 }
            digits { ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) }
            guard !text.isEmpty, let value = BigInt(text, radix: radix) else {
                position = start
                throw fail("malformed base-\(radix) integer")
            }
            return .int(value)
        }
        digits(decimal)
        var isFloat = false
        if peek() == "." {
            isFloat = true
            text += "."
            position += 1
            let before = text.count
            digits(decimal)
            if text.count == before && text == "." {
                position = start
                throw fail("malformed number")
            }
        }
        if let e = peek(), e == "e" || e == "E" {
            let save = position
            var exponent = "e"
            position += 1
            if let sign = peek(), sign == "+" || sign == "-" {
                exponent.unicodeScalars.append(sign)
                position += 1
            }
            let mantissa = text
            text = ""
            digits(decimal)
            if text.isEmpty {
                position = save
                text = mantissa
            } else {
                isFloat = true
                text = mantissa + exponent + text
            }
        }
        if let j = peek(), j == "j" || j == "J" {
            position += 1
            guard let imag = Double(text) else { throw fail("malformed number") }
            return .complex(real: 0, imag: imag)
        }
        if isFloat {
            guard let value = Double(text) else { throw fail("malformed number") }
            return .float(value)
        }
        if text.count > 1, text.first == "0", text.contains(where: { $0 != "0" }) {
            position = start
            throw fail("leading zeros in a decimal integer")
        }
        guard let value = BigInt(text) else { throw fail("malformed integer") }
        return .int(value)
    }

    // MARK: strings

    /// One or more adjacent string literals, concatenated; str and bytes may not mix.
    mutating func strings() throws -> PythonValue {
        var text: [Unicode.Scalar] = []
        var bytes: [UInt8] = []
        var kind: Bool? = nil // true = bytes
        while true {
            skipSpace()
            let save = position
            var prefix = ""
            while let scalar = peek(), scalar.properties.isAlphabetic {
                prefix.unicodeScalars.append(scalar)
                position += 1
            }
            guard let quote = peek(), quote == "'" || quote == "\"", prefix.isEmpty || isStringPrefix(prefix) else {
                position = save
                break
            }
            let lower = prefix.lowercased()
            let isBytes = lower.contains("b")
            if let earlier = kind, earlier != isBytes { throw fail("cannot mix bytes and str literals") }
            kind = isBytes
            let body = try stringBody(raw: lower.contains("r"), bytes: isBytes)
            if isBytes {
                bytes.append(contentsOf: body.map { UInt8($0.value) })
            } else {
                text.append(contentsOf: body)
            }
            guard text.count + bytes.count <= limits.maxNodes * 16 else { throw fail("string too long") }
        }
        if kind == true { return .bytes(bytes) }
        var string = ""
        string.unicodeScalars.append(contentsOf: text)
        return .str(string)
    }

    mutating func stringBody(raw: Bool, bytes: Bool) throws -> [Unicode.Scalar] {
        let quote = peek()!
        let triple = peek(1) == quote && peek(2) == quote
        position += triple ? 3 : 1
        var out: [Unicode.Scalar] = []
        while true {
            guard let scalar = peek() else { throw fail("unterminated string") }
            if scalar == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                position += triple ? 3 : 1
                return out
            }
            if scalar == "\n" && !triple { throw fail("newline in a single-quoted string") }
            if bytes && scalar.value > 0x7f { throw fail("bytes can only contain ASCII characters") }
            position += 1
            guard scalar == "\\", let next = peek() else {
                out.append(scalar)
                continue
            }
            // The escaped character is checked too: `b'\é'` is no more ASCII than `b'é'` (found by azr-fuzz).
            if bytes && next.value > 0x7f { throw fail("bytes can only contain ASCII characters") }
            if raw {
                out.append(scalar)
                out.append(next)
                position += 1
                continue
            }
            position += 1
            switch next {
            case "\n": break
            case "\\", "'", "\"": out.append(next)
            case "/" where limits.json: out.append(next)
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var value = next.value - 48
                for _ in 0..<2 {
                    guard let digit = peek(), ("0"..."7").contains(digit) else { break }
                    value = value * 8 + digit.value - 48
                    position += 1
                }
                guard let decoded = Self.scalar(value, bytes: bytes) else { throw fail("octal escape out of range") }
                out.append(decoded)
            case "x":
                out.append(try hexEscape(digits: 2, bytes: bytes))
            case "u" where !bytes:
                let unit = try hexEscape(digits: 4, bytes: false)
                // JSON writes a character outside the BMP as two \u escapes; join them.
                if limits.json, (0x10F000...0x10F3FF).contains(unit.value), peek() == "\\", peek(1) == "u" {
                    let save = position
                    position += 2
                    let low = try hexEscape(digits: 4, bytes: false)
                    if (0x10F400...0x10F7FF).contains(low.value) {
                        let high = unit.value - 0x10F000 + 0xD800, lowUnit = low.value - 0x10F000 + 0xD800
                        out.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (lowUnit - 0xDC00))!)
                        continue
                    }
                    position = save
                }
                out.append(unit)
            case "U" where !bytes:
                out.append(try hexEscape(digits: 8, bytes: false))
            case "N" where !bytes:
                throw fail("\\N{...} escapes are not supported")
            default:
                out.append("\\")
                out.append(next)
            }
        }
    }

    mutating func hexEscape(digits: Int, bytes: Bool) throws -> Unicode.Scalar {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let digit = peek(), let nibble = UInt32(String(digit), radix: 16) else {
                throw fail("truncated \\x, \\u or \\U escape")
            }
            value = value * 16 + nibble
            position += 1
        }
        guard let decoded = Self.scalar(value, bytes: bytes) else { throw fail("escape out of range") }
        return decoded
    }

    /// Python strings may hold lone surrogates, Swift strings may not: they map one-to-one onto the private-use
    /// block U+10F000–U+10F7FF so that distinct strings stay distinct.
    static func scalar(_ value: UInt32, bytes: Bool) -> Unicode.Scalar? {
        if bytes { return value <= 0xff ? Unicode.Scalar(value) : nil }
        if (0xD800...0xDFFF).contains(value) { return Unicode.Scalar(0x10F000 + value - 0xD800) }
        return Unicode.Scalar(value)
    }
}

extension PythonValue {
    /// Parses literal text with the default limits.
    public init(literal text: String) throws {
        self = try PythonLiteralParser().parse(text)
    }

    fileprivate var isPureImaginaryLiteral: Bool {
        if case .complex(0, _) = self { return true }
        return false
    }
}
