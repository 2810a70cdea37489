import XCTest
@testable import Tasks

/// Where solver sampling stops: on real completions, the stop comes right after the answer and what is read
/// from the stopped text is what the whole completion gave.
final class AnswerStopTests: XCTestCase {
    /// The shortest prefix at which `stop` ends sampling (a character at a time, as if each were a token).
    private func stopped(_ text: String, _ stop: AnswerStop) -> String? {
        stop.wholePrefix(of: text).map(String.init)
    }

    func testAssertionWithExplanationStopsAfterTheAssertionLine() throws {
        let text = RealOutputs.qwenAssertWithMessage
        let cut = try XCTUnwrap(stopped(text, .assertionLine))
        XCTAssertEqual(cut, "assert f('Hello world') == 'world', \"Test case 1 failed\"\n")
        XCTAssertEqual(try AssertionAnswer.read(in: cut, mode: .strict).value, "'world'")
        XCTAssertEqual(try AssertionAnswer.read(in: cut, mode: .lenient).value, try AssertionAnswer.read(in: text, mode: .lenient).value)
    }

    func testFencedAssertionStopsBeforeTheClosingFence() throws {
        let cut = try XCTUnwrap(stopped(RealOutputs.qwenFencedAssert, .assertionLine))
        XCTAssertTrue(cut.hasSuffix("assert f('Hello world') == 'Hello worlda'\n"))
        XCTAssertEqual(try AssertionAnswer.read(in: cut, mode: .strict).value, "'Hello worlda'")
        let abduction = try XCTUnwrap(stopped(RealOutputs.qwenAbduction, .assertionLine))
        XCTAssertTrue(abduction.hasSuffix("```python\nassert f(\"x9j\") == \"j\"\n"))
        XCTAssertEqual(try AssertionAnswer.read(in: abduction, mode: .strict).arguments, "\"x9j\"")
    }

    func testEchoedPromptLinesAndUnfinishedLinesDoNotStop() {
        // The prompt's own lines, echoed, are not answers; nor is a line still being written.
        XCTAssertFalse(AnswerStop.assertionLine.isComplete("```python\ndef f(s):\n    return s\nassert f(??) == 'ab'\n"))
        XCTAssertFalse(AnswerStop.assertionLine.isComplete("assert f('ab') == ??\n"))
        XCTAssertFalse(AnswerStop.assertionLine.isComplete("assert f('ab') == 'a"))
        XCTAssertFalse(AnswerStop.assertionLine.isComplete("assert f('ab') == 'ab'"))
        XCTAssertFalse(AnswerStop.assertionLine.isComplete("The answer is f('ab') == 'ab'\n"))
        XCTAssertTrue(AnswerStop.assertionLine.isComplete("assert f('ab') == 'ab'\n"))
    }

    func testInductionAnswerStopsAfterItsFunctionBlock() throws {
        // Qwen after twelve training steps: prose, the function, then test code and more prose.
        let text = """
        Here's the implementation:

        ```python
        def f(text):
            return text.lower()
        ```

        # Test cases
        ```python
        print(f('Hello world'))
        ```
        The function `f` is called with the string
        """
        let cut = try XCTUnwrap(stopped(text, .functionBlock))
        XCTAssertTrue(cut.hasSuffix("    return text.lower()\n```"))
        let task = InductionTask(style: .instruct)
        XCTAssertEqual(try task.solution(in: cut, mode: .lenient), try task.solution(in: text, mode: .lenient))
        // Strict reading wants one python block: only the stopped text has one.
        XCTAssertNotNil(try task.solution(in: cut, mode: .strict))
        XCTAssertThrowsError(try task.solution(in: text, mode: .strict))
    }

    func testBlocksWithoutAFunctionDoNotStop() {
        XCTAssertFalse(AnswerStop.functionBlock.isComplete("```python\nprint(f(1))\n```"))
        XCTAssertFalse(AnswerStop.functionBlock.isComplete("```python\ndef f(x):\n    return x\n"))
        XCTAssertTrue(AnswerStop.functionBlock.isComplete("```python\ndef f(x):\n    return x\n```"))
    }

    func testAProposalStopsAtTheCloseOfItsBlockAndReadsAsTheWholeCompletionDid() throws {
        let text = RealOutputs.qwenProposalWithExplanation
        let cut = try XCTUnwrap(stopped(text, .singleInputProposal))
        XCTAssertEqual(cut, "```python\ndef f(xs):\n    return sorted(set(xs))[-2]\n\nprint(f([4, 1, 4, 3]))\n```")
        for mode in [AnswerFormat.Mode.strict, .lenient] {
            let whole = try ProposalReading.programAndInput(in: text, mode: mode), part = try ProposalReading.programAndInput(in: cut, mode: mode)
            XCTAssertEqual(whole.program, part.program)
            XCTAssertEqual(whole.input, part.input)
        }
        // Still writing the block, or a block with no call yet: not whole.
        XCTAssertFalse(AnswerStop.singleInputProposal.isComplete("```python\ndef f(xs):\n    return xs\n\nprint(f([1]))\n"))
        XCTAssertFalse(AnswerStop.singleInputProposal.isComplete("```python\ndef f(xs):\n    return xs\n```"))
        // AZR's two blocks: whole once the ```input block closes.
        XCTAssertTrue(AnswerStop.singleInputProposal.isComplete("```python\ndef f(xs):\n    return xs\n```\n```input\n[1, 2]\n```"))
    }

    func testAnInductionProposalStopsOnceItHasItsMessageAndEveryCallOutsideAnOpenFence() throws {
        let stop = AnswerStop.inductionProposal(inputs: 10)
        let calls = (1...10).map { "print(f(\($0)))" }.joined(separator: "\n")
        let proposal = "Message: f doubles its argument.\n```python\n\(calls)\n```\nThese calls show that"
        let cut = try XCTUnwrap(stopped(proposal, stop))
        XCTAssertTrue(cut.hasSuffix("print(f(10))\n```"), cut)
        let task = InductionTask(inputCount: 10, style: .instruct)
        XCTAssertEqual(try task.inputsAndMessage(in: cut, mode: .strict).inputs.count, 10)
        XCTAssertFalse(stop.isComplete("```python\n\(calls)\n```\n"), "no message yet")
        XCTAssertFalse(stop.isComplete("Message: f doubles.\n```python\n\(calls)\n"), "the block is still open")
        XCTAssertFalse(stop.isComplete("Message: f doubles.\n```python\nprint(f(1))\nprint(f(1))\n```"), "too few distinct calls")
        // The real one never closed its block before the token cap: it is read as before, without a stop.
        XCTAssertNil(stopped(RealOutputs.qwenInductionProposal, stop))
        // The calls before the message, as the model sometimes writes them: the message's line must end first.
        let messageLast = "```python\n\(calls)\n```\nMessage: f doubles `x`, so f(2) is 4.\nThat is all."
        XCTAssertEqual(try XCTUnwrap(stopped(messageLast, stop)), "```python\n\(calls)\n```\nMessage: f doubles `x`, so f(2) is 4.\n")
        XCTAssertFalse(stop.isComplete("```python\n\(calls)\n```\nMessage: f doubles `"), "the message is unfinished")
    }

    func testOnlyInstructStyleWithTheSettingStops() {
        XCTAssertEqual(DeductionTask(style: .instruct, stopsAtAnswer: true).solverStop, .assertionLine)
        XCTAssertEqual(AbductionTask(style: .instruct, stopsAtAnswer: true).solverStop, .assertionLine)
        XCTAssertEqual(InductionTask(style: .instruct, stopsAtAnswer: true).solverStop, .functionBlock)
        XCTAssertNil(DeductionTask(style: .azr, stopsAtAnswer: true).solverStop)
        XCTAssertNil(InductionTask(style: .instruct, stopsAtAnswer: false).solverStop)
        XCTAssertEqual(DeductionTask(style: .instruct, stopsAtAnswer: true).proposerStop, .singleInputProposal)
        XCTAssertEqual(InductionTask(inputCount: 10, style: .instruct, stopsAtAnswer: true).proposerStop, .inductionProposal(inputs: 10))
        XCTAssertNil(AbductionTask(style: .azr, stopsAtAnswer: true).proposerStop)
    }
}
