import Sandbox
@testable import Tasks
import XCTest

/// Lenient reading, for small models that rarely write the tags; strict reading stays the paper's.
final class LenientFormatTests: XCTestCase {
    func testWithoutAnswerTagsTheTextAfterThinkIsRead() throws {
        let completion = "<think> plan </think>\n```python\ndef f(a):\n    return a * 2\n```\n```input\n3\n```"
        XCTAssertThrowsError(try AnswerFormat.programAndInput(in: completion))
        let (program, input) = try AnswerFormat.programAndInput(in: completion, mode: .lenient)
        XCTAssertEqual(program, "def f(a):\n    return a * 2")
        XCTAssertEqual(input, "3")
    }

    func testAnAnswerBlockStillWinsOverChatter() throws {
        let completion = "```output\n1\n```\n<answer>\n```output\n2\n```\n</answer>\n```output\n3\n```"
        XCTAssertEqual(try AnswerFormat.block("output", in: completion, mode: .lenient), "2")
        XCTAssertEqual(try AnswerFormat.block("output", in: completion), "2")
    }

    func testUnlabelledAndUnclosedFencesAreSkippedAndTheLastBlockCounts() throws {
        let completion = "```\nnot labelled\n```\n```output\n'a'\n```\n```output\n'b'\n```\n```output\nnever closed"
        XCTAssertThrowsError(try AnswerFormat.block("output", in: "<answer>" + completion + "</answer>"))
        XCTAssertEqual(try AnswerFormat.block("output", in: completion, mode: .lenient), "'b'")
        XCTAssertThrowsError(try AnswerFormat.block("input", in: completion, mode: .lenient)) {
            XCTAssertTrue("\($0)".contains("no ```input block"), "\($0)")
        }
    }
}
