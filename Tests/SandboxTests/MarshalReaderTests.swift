import Foundation
import XCTest
@testable import Sandbox

/// The child's report format, read back from what CPython's own marshal writes, and refused when forged badly.
final class MarshalReaderTests: XCTestCase {
    typealias Value = MarshalReader.Value

    static let reportScript = """
        import marshal, sys
        report = {'status': 'completed', 'stdout': '', 'stderr': 'two\\nlines', 'truncated': False,
                  'calls': [{'value': "'Hello world'", 'seconds': 1.5e-06},
                            {'raised': {'type': 'ValueError', 'message': 'caf\\u00e9 \\u2603 \\U0001d11e', 'traceback': None},
                             'seconds': 0.25},
                            {'too_large': 10 ** 15}, {'too_large': -70000}, {'not_literal': 'set of lists'}],
                  'module': None, 'pair': (1, True)}
        sys.stdout.buffer.write(marshal.dumps(report, 2))
        """

    func cpythonReport() throws -> [UInt8] {
        [UInt8](try PythonLiteralTests.python(Self.reportScript, input: Data()))
    }

    func testReadsWhatCPythonWrites() throws {
        let expected: Value = .dict([
            "status": .str("completed"), "stdout": .str(""), "stderr": .str("two\nlines"), "truncated": .bool(false),
            "calls": .list([
                .dict(["value": .str("'Hello world'"), "seconds": .float(1.5e-06)]),
                .dict(["raised": .dict(["type": .str("ValueError"), "message": .str("café ☃ 𝄞"), "traceback": .none]),
                       "seconds": .float(0.25)]),
                .dict(["too_large": .int(1_000_000_000_000_000)]),
                .dict(["too_large": .int(-70000)]),
                .dict(["not_literal": .str("set of lists")]),
            ]),
            "module": .none, "pair": .list([.int(1), .bool(true)]),
        ])
        XCTAssertEqual(try MarshalReader.read(try cpythonReport()), expected)
    }

    func testRefusesTrailingAndTruncatedInput() throws {
        let bytes = try cpythonReport()
        XCTAssertThrowsError(try MarshalReader.read(bytes + bytes), "a forged report followed by the real one")
        XCTAssertThrowsError(try MarshalReader.read(bytes + [0]))
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try MarshalReader.read(Array(bytes[..<length])), "prefix of \(length) bytes")
        }
    }

    func testRefusesWhatNoChildReportHolds() {
        let deep = (0...MarshalReader.maxDepth).flatMap { _ in [UInt8(ascii: "["), 1, 0, 0, 0] } + [UInt8(ascii: "N")]
        XCTAssertThrowsError(try MarshalReader.read(deep), "nested past the depth limit")
        let shallow = (0..<MarshalReader.maxDepth).flatMap { _ in [UInt8(ascii: "["), 1, 0, 0, 0] } + [UInt8(ascii: "N")]
        XCTAssertNoThrow(try MarshalReader.read(shallow))
        let cases: [(String, [UInt8])] = [
            ("a list claiming two billion items", [UInt8(ascii: "["), 0xff, 0xff, 0xff, 0x7f, UInt8(ascii: "N")]),
            ("a string longer than the input", [UInt8(ascii: "u"), 9, 0, 0, 0, UInt8(ascii: "x")]),
            ("invalid UTF-8", [UInt8(ascii: "u"), 2, 0, 0, 0, 0xc3, 0x28]),
            ("a dict with an int key", [UInt8(ascii: "{"), UInt8(ascii: "i"), 1, 0, 0, 0, UInt8(ascii: "N"), UInt8(ascii: "0")]),
            ("a dict without its end", [UInt8(ascii: "{")]),
            ("a back-reference", [UInt8(ascii: "r"), 0, 0, 0, 0]),
            ("code objects", [UInt8(ascii: "c")]),
            ("a long past Int", [UInt8(ascii: "l"), 5, 0, 0, 0] + [UInt8](repeating: 1, count: 10)),
            ("a long digit of 16 bits", [UInt8(ascii: "l"), 1, 0, 0, 0, 0xff, 0xff]),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try MarshalReader.read(bytes), name)
        }
    }
}
