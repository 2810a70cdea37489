import BigInt
import Foundation
import XCTest
@testable import Sandbox

/// `PythonValue.description` against CPython's `repr`, and the literal parser against CPython's own reading,
/// on a seeded corpus of thousands of values CPython generates: ints of every size, floats with subnormals,
/// -0.0, inf and nan, complex numbers, str and bytes with every kind of escape, nested containers.
final class ReprCorpusTests: XCTestCase {
    /// Each line: the value in a tagged form that needs no parser (floats as hex), its repr, and what CPython
    /// reads back from the repr: `ast.literal_eval`'s value, or where that refuses (nan, inf, set(), frozenset(…)
    /// are names, which our parser reads because sandbox results' reprs contain them) what evaluating the repr
    /// with only those names gives. Neither need be the value itself: `(-0+1j)` reads back as `1j`.
    static let generator = #"""
        import ast, json, random, sys
        rng = random.Random(int(sys.argv[1]))
        ranges = [(0x20, 0x7e), (0x00, 0x1f), (0x7f, 0xff), (0x370, 0x3ff), (0x2000, 0x206f), (0x4e00, 0x4e40),
                  (0xe000, 0xe010), (0xfff0, 0xffff), (0x1f600, 0x1f64f), (0x10000, 0x1000f)]
        def text():
            return ''.join(chr(rng.randint(*rng.choice(ranges))) for _ in range(rng.randint(0, 8)))
        def scalar():
            kind = rng.randrange(9)
            if kind == 0: return rng.randint(-2 ** rng.randint(1, 2000), 2 ** rng.randint(1, 2000))
            if kind == 1: return rng.choice([0.0, -0.0, 5e-324, -2.5e-320, 1e16, 1e-5, 1e-4, 0.1, 1.5e300, 123456789012345678.0,
                                             1000000000000000.5, float('inf'), float('-inf'), float('nan'), 1.05])
            if kind == 2: return rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)
            if kind == 3: return complex(scalar_float(), scalar_float())
            if kind == 4: return text()
            if kind == 5: return bytes(rng.randrange(256) for _ in range(rng.randint(0, 6))) + rng.choice([b"", b"'", b'"', b"'\""])
            if kind == 6: return rng.choice([True, False, None])
            if kind == 7: return text() + rng.choice(["'", '"', "'\"", "\\"])
            return rng.randint(-1000, 1000)
        def scalar_float():
            return rng.choice([0.0, -0.0, 1.0, -2.0, 1.05, 1e16, 2.5e-7, float('nan'), float('inf'), -float('inf'), rng.uniform(-9, 9)])
        def hashable(depth):
            value = scalar()
            if depth > 0 and rng.random() < 0.3: return tuple(hashable(depth - 1) for _ in range(rng.randint(0, 3)))
            return value
        def value(depth):
            if depth == 0 or rng.random() < 0.4: return scalar()
            kind = rng.randrange(6)
            items = [value(depth - 1) for _ in range(rng.randint(0, 4))]
            if kind == 0: return items
            if kind == 1: return tuple(items)
            if kind == 2: return {hashable(1): value(depth - 1) for _ in range(rng.randint(0, 4))}
            if kind == 3: return set(hashable(1) for _ in range(rng.randint(0, 4)))
            if kind == 4: return frozenset(hashable(1) for _ in range(rng.randint(0, 3)))
            return (value(depth - 1),)
        def tag(v):
            if v is None: return ['none']
            if isinstance(v, bool): return ['bool', v]
            if isinstance(v, int): return ['int', str(v)]
            if isinstance(v, float): return ['float', v.hex()]
            if isinstance(v, complex): return ['complex', v.real.hex(), v.imag.hex()]
            if isinstance(v, str): return ['str', [ord(c) for c in v]]
            if isinstance(v, bytes): return ['bytes', v.hex()]
            if isinstance(v, tuple): return ['tuple', [tag(x) for x in v]]
            if isinstance(v, list): return ['list', [tag(x) for x in v]]
            if isinstance(v, dict): return ['dict', [[tag(k), tag(x)] for k, x in v.items()]]
            if isinstance(v, frozenset): return ['frozenset', [tag(x) for x in v]]
            return ['set', [tag(x) for x in v]]
        names = {'nan': float('nan'), 'inf': float('inf'), 'nanj': complex(0, float('nan')), 'infj': complex(0, float('inf')),
                 'set': set, 'frozenset': frozenset}
        for _ in range(int(sys.argv[2])):
            v = value(3)
            text_ = repr(v)
            try:
                parsed, literal = tag(ast.literal_eval(text_)), True
            except ValueError:
                parsed, literal = tag(eval(text_, {'__builtins__': {}}, names)), False
            print(json.dumps({'value': tag(v), 'repr': text_, 'parsed': parsed, 'literal': literal}))
        """#

    struct Line: Decodable {
        var value: Tagged
        var repr: String
        var parsed: Tagged
        var literal: Bool
    }

    /// The tagged form: ["int", "12"], ["float", "0x1.8p+1"], ["list", [...]], ….
    indirect enum Tagged: Decodable {
        case value(PythonValue)
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            let kind = try c.decode(String.self)
            func float(_ text: String) throws -> Double {
                guard let value = Double(text) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "float \(text)") }
                return value
            }
            func items() throws -> [PythonValue] { try c.decode([Tagged].self).map(\.python) }
            switch kind {
            case "none": self = .value(.none)
            case "bool": self = .value(.bool(try c.decode(Bool.self)))
            case "int": self = .value(.int(BigInt(try c.decode(String.self))!))
            case "float": self = .value(.float(try float(try c.decode(String.self))))
            case "complex": self = .value(.complex(real: try float(try c.decode(String.self)), imag: try float(try c.decode(String.self))))
            case "str":
                var text = String.UnicodeScalarView()
                for code in try c.decode([UInt32].self) { text.append(Unicode.Scalar(code)!) }
                self = .value(.str(String(text)))
            case "bytes":
                let hex = Array(try c.decode(String.self).utf8)
                self = .value(.bytes(stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }))
            case "tuple": self = .value(.tuple(try items()))
            case "list": self = .value(.list(try items()))
            case "set": self = .value(.set(try items()))
            case "frozenset": self = .value(.frozenset(try items()))
            case "dict": self = .value(.dict(try c.decode([[Tagged]].self).map { (key: $0[0].python, value: $0[1].python) }))
            default: throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown kind \(kind)")
            }
        }
        var python: PythonValue { if case let .value(v) = self { return v }; fatalError() }
    }

    /// Identity of values for the test: the repr, with set and dict entries in a fixed order.
    static func canonical(_ value: PythonValue) -> String {
        switch value {
        case let .tuple(items): return "(" + items.map(canonical).joined(separator: ", ") + ",)"
        case let .list(items): return "[" + items.map(canonical).joined(separator: ", ") + "]"
        case let .set(items): return "set{" + items.map(canonical).sorted().joined(separator: ", ") + "}"
        case let .frozenset(items): return "frozenset{" + items.map(canonical).sorted().joined(separator: ", ") + "}"
        case let .dict(pairs): return "{" + pairs.map { canonical($0.key) + ": " + canonical($0.value) }.sorted().joined(separator: ", ") + "}"
        default: return value.description
        }
    }

    func testReprAndParsingAgreeWithCPythonOnAGeneratedCorpus() throws {
        let output = try PythonLiteralTests.python(Self.generator + "\n", input: Data(), arguments: ["20261130", "4000"])
        let lines = try output.split(separator: 0x0a).map { try JSONDecoder().decode(Line.self, from: Data($0)) }
        XCTAssertEqual(lines.count, 4000)
        var literals = 0, mismatches = 0
        for line in lines {
            let value = line.value.python
            if value.description != line.repr {
                mismatches += 1
                if mismatches <= 5 { XCTFail("repr differs:\n ours   \(value.description)\n python \(line.repr)") }
            }
            let expected = line.parsed.python
            if line.literal { literals += 1 }
            do {
                let parsed = try PythonValue(literal: line.repr)
                // The value CPython reads, down to the sign of a zero and NaN for NaN (sets in any order).
                XCTAssertEqual(Self.canonical(parsed), Self.canonical(expected), line.repr)
            } catch {
                XCTFail("CPython reads \(line.repr.prefix(200)) but we do not: \(error)")
            }
        }
        XCTAssertEqual(mismatches, 0)
        // The corpus must exercise both paths substantially.
        XCTAssertGreaterThan(literals, 2000)
        XCTAssertGreaterThan(lines.count - literals, 300)
    }
}
