import BigInt
import Foundation
import XCTest
@testable import Sandbox

final class PythonLiteralTests: XCTestCase {
    func parse(_ text: String) throws -> PythonValue { try PythonValue(literal: text) }

    /// Runs the reference CPython on `script` with `input` on stdin and returns its stdout.
    static func python(_ script: String, input: Data, arguments: [String] = []) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        stdin.fileHandleForWriting.closeFile()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        return output
    }

    func testScalars() throws {
        XCTAssertEqual(try parse("None").typeName, "NoneType")
        XCTAssertEqual(try parse("-17"), .int(-17))
        XCTAssertEqual(try parse("0x_ff"), .int(255))
        XCTAssertEqual(try parse("0b101"), .int(5))
        XCTAssertEqual(try parse("1_000"), .int(1000))
        XCTAssertEqual(try parse("123456789012345678901234567890"), .int(BigInt("123456789012345678901234567890")))
        XCTAssertEqual(try parse("2.5e-3"), .float(0.0025))
        XCTAssertEqual(try parse(".5"), .float(0.5))
        XCTAssertEqual(try parse("(1+2j)"), .complex(real: 1, imag: 2))
        XCTAssertEqual(try parse("-1.5-2j"), .complex(real: -1.5, imag: -2))
        XCTAssertEqual(try parse("'a\\tb\\x41\\u00e9\\U0001F600\\101'"), .str("a\tbAé😀A"))
        XCTAssertEqual(try parse("r'a\\nb'"), .str("a\\nb"))
        XCTAssertEqual(try parse("'ab' \"cd\""), .str("abcd"))
        XCTAssertEqual(try parse("b'\\x00\\xff'"), .bytes([0, 255]))
        XCTAssertEqual(try parse("'''multi\nline'''"), .str("multi\nline"))
    }

    func testContainersAndReprs() throws {
        XCTAssertEqual(try parse("(1,)"), .tuple([.int(1)]))
        XCTAssertEqual(try parse("()"), .tuple([]))
        XCTAssertEqual(try parse("1, 2"), .tuple([.int(1), .int(2)]))
        XCTAssertEqual(try parse("set()"), .set([]))
        XCTAssertEqual(try parse("frozenset({1, 2})"), .frozenset([.int(1), .int(2)]))
        XCTAssertEqual(try parse("{'a': [1, (2, 3)], 'b': {}}").description, "{'a': [1, (2, 3)], 'b': {}}")
        // Later values win, earlier keys keep their place; 1 and True are one key.
        guard case let .dict(pairs) = try parse("{1: 'a', True: 'b', 2: 'c'}") else { return XCTFail() }
        XCTAssertEqual(pairs.count, 2)
        XCTAssertEqual(pairs[0].value, .str("b"))
        guard case let .set(items) = try parse("{1, 1.0, True, 2}") else { return XCTFail() }
        XCTAssertEqual(items.count, 2)
    }

    func testRejections() {
        for text in ["f(1)", "[1, 2", "{[1]: 2}", "{[]}", "'unterminated", "1 + 2", "__import__('os')", "01",
                     "b'é'", "b'\\é'", "rb'\\é'", "b'\\\u{FFFD}O'", "x", "", "1 if True else 2", "[*a]", "'a' b'b'"] {
            XCTAssertThrowsError(try parse(text), "accepted \(text)")
        }
    }

    func testLimits() {
        let deep = String(repeating: "[", count: 150) + String(repeating: "]", count: 150)
        XCTAssertThrowsError(try parse(deep))
        XCTAssertNoThrow(try PythonLiteralParser(maxDepth: 200).parse(deep))
        let wide = "[" + Array(repeating: "0", count: 2000).joined(separator: ",") + "]"
        XCTAssertThrowsError(try PythonLiteralParser(maxNodes: 1000).parse(wide))
    }

    func testPythonEqualitySemantics() throws {
        XCTAssertEqual(try parse("1"), try parse("1.0"))
        XCTAssertEqual(try parse("True"), try parse("1"))
        XCTAssertEqual(try parse("1"), try parse("(1+0j)"))
        XCTAssertEqual(try parse("-0.0"), try parse("0.0"))
        XCTAssertNotEqual(try parse("nan"), try parse("nan"))
        XCTAssertNotEqual(try parse("9007199254740993"), try parse("9007199254740992.0"))
        XCTAssertEqual(try parse("9007199254740992"), try parse("9007199254740992.0"))
        XCTAssertEqual(try parse("{1, 2, 3}"), try parse("frozenset({3, 2, 1})"))
        XCTAssertEqual(try parse("{'a': 1, 'b': 2}"), try parse("{'b': 2.0, 'a': True}"))
        XCTAssertNotEqual(try parse("[1, 2]"), try parse("(1, 2)"))
        XCTAssertNotEqual(try parse("'a'"), try parse("b'a'"))
        // Code points, not canonical equivalence: precomposed é is not e + combining acute.
        XCTAssertNotEqual(try parse("'\\u00e9'"), try parse("'e\\u0301'"))
        XCTAssertNotEqual(try parse("'\\udc80'"), try parse("'\\udc81'"))
    }

    func testRoundTripThroughDescription() throws {
        for text in ["[1, 'a\\n', (2.5, None), {'k': b'\\x00'}, {1}, frozenset({2}), set(), -3, (1+2j), 1e+300, True]",
                     "{'x': [[], {}, ()]}", "('\\'', \"it's\")"] {
            let value = try parse(text)
            XCTAssertEqual(try parse(value.description), value, text)
        }
    }

    /// Equality decided by CPython for each pair must be ours too.
    func testEqualityAgreesWithCPython() throws {
        let pairs: [(String, String)] = [
            ("1", "1.0"), ("1", "True"), ("0", "False"), ("2", "2.5"), ("(1+0j)", "1"), ("1j", "1"),
            ("[1, 2]", "[1, 2.0]"), ("[1, 2]", "(1, 2)"), ("{1: 2}", "{1.0: 2}"), ("{1, 2}", "{2, 1}"),
            ("frozenset({1})", "{1}"), ("'a'", "b'a'"), ("{'a': [1]}", "{'a': [1.0]}"), ("(1, (2, 3))", "(1, (2, 3.0))"),
            ("12345678901234567890", "12345678901234567890.0"), ("-0.0", "0"), ("None", "0"),
            ("{}", "set()"), ("[]", "()"), ("1e16", "10000000000000000"), ("0.1 + 0.2j", "(0.1+0.2j)"),
            ("'\\u00e9'", "'e\\u0301'"), ("{(1, 2): 'x'}", "{(1.0, 2): 'x'}"), ("{True, 2}", "{1, 2.0}"),
        ]
        let script = """
        import sys, json
        names = {'__builtins__': {}, 'set': set, 'frozenset': frozenset}
        pairs = json.load(sys.stdin)
        print(json.dumps([eval(a, names) == eval(b, names) for a, b in pairs]))
        """
        let data = try Self.python(script, input: try JSONSerialization.data(withJSONObject: pairs.map { [$0.0, $0.1] }))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [Bool])
        XCTAssertEqual(expected.count, pairs.count)
        for ((a, b), truth) in zip(pairs, expected) {
            XCTAssertEqual(try parse(a) == parse(b), truth, "\(a) == \(b)")
        }
    }

    func testMarshalMatchesCPython() throws {
        let value = try parse("[None, True, -5, 123456789012345678901234567890, -2147483649, 1.5, (1-2j), 'é\\udc80', b'\\x01', (1,), {1: [2]}, {3}, frozenset({4})]")
        var writer = MarshalWriter()
        writer.write(value)
        let output = try Self.python("import marshal, sys; print(repr(marshal.loads(sys.stdin.buffer.read())))",
                                     input: Data(writer.bytes))
        let text = String(decoding: output, as: UTF8.self)
        XCTAssertEqual(try parse(text.trimmingCharacters(in: .whitespacesAndNewlines)), value, text)
    }
}

final class ArgumentParsingTests: XCTestCase {
    func testArgumentLists() throws {
        let parser = PythonLiteralParser()
        XCTAssertEqual(try parser.parseArguments(""), [])
        XCTAssertEqual(try parser.parseArguments("  "), [])
        XCTAssertEqual(try parser.parseArguments("'abc', [1, 2]"), [.str("abc"), .list([.int(1), .int(2)])])
        XCTAssertEqual(try parser.parseArguments("(1, 2),"), [.tuple([.int(1), .int(2)])])
        XCTAssertThrowsError(try parser.parseArguments("[3, 1")) { error in
            XCTAssertEqual("\(error)", "not a Python literal at character 5: expected ']'")
        }
        XCTAssertThrowsError(try parser.parseArguments("x=1"))
        XCTAssertThrowsError(try parser.parseArguments("1,,2"))
    }
}

final class JSONModeTests: XCTestCase {
    func testJSONLinesParseAsPythonValues() throws {
        let parser = PythonLiteralParser(json: true)
        let value = try parser.parse(#"{"a": [true, false, null, 12345678901234567890123, 1.5e3, -Infinity], "s": "\ud83d\ude00\u00e9\/"}"#)
        XCTAssertEqual(value, try PythonValue(literal: "{'a': [True, False, None, 12345678901234567890123, 1500.0, -inf], 's': '😀é/'}"))
        guard case let .float(x) = try parser.parse("NaN"), x.isNaN else { return XCTFail() }
        XCTAssertThrowsError(try PythonLiteralParser().parse("true"), "plain mode stays Python")
    }
}
