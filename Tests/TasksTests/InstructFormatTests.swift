import Sandbox
@testable import Tasks
import XCTest

/// The instruct protocol's readers on real model outputs (`RealOutputs`): strict reading takes exactly the asked
/// form, lenient reading finds the answer where a small instruct model puts it.
final class InstructFormatTests: XCTestCase {
    func testTheIssuesOldFailuresAreReadOrRefusedAsTheyShouldBe() throws {
        // The model's own `f(x) == v` form: malformed strictly, the value leniently.
        XCTAssertThrowsError(try AssertionAnswer.read(in: RealOutputs.smolOwnStyle, mode: .strict))
        XCTAssertEqual(try AssertionAnswer.read(in: RealOutputs.smolOwnStyle, mode: .lenient).value, "'bcksrutq'")
        XCTAssertEqual(try AssertionAnswer.read(in: RealOutputs.smolOwnStyle, mode: .lenient).arguments, "'bcksrut', 'q'")
        // A copied placeholder is never a value.
        let deduction = DeductionTask(style: .azr)
        XCTAssertThrowsError(try PythonValue(literal: try deduction.predictedValue(in: RealOutputs.smolPlaceholder, mode: .strict)))
        // The instruct prompts carry no placeholder words and not the old example input.
        for prompt in [DeductionTask(style: .instruct).solverPrompt(for: IdentitySeeds.single(type: "deduction")),
                       AbductionTask(style: .instruct).solverPrompt(for: IdentitySeeds.single(type: "abduction")),
                       DeductionTask(style: .instruct).proposerPrompt(references: [IdentitySeeds.single(type: "deduction")]),
                       InductionTask(style: .instruct).proposerPrompt(references: [IdentitySeeds.single(type: "deduction")]),
                       InductionTask(style: .instruct).solverPrompt(for: IdentitySeeds.induction())] {
            for copied in ["the value", "the arguments", "def f(...)", "\"abc\", [1, 2]", "<answer>", "User: "] {
                XCTAssertFalse(prompt.contains(copied), "\(copied) in \(prompt)")
            }
        }
    }

    func testAProgramWithUsageLinesAndNoInputBlockIsReadLeniently() throws {
        XCTAssertThrowsError(try ProposalReading.programAndInput(in: RealOutputs.qwenNoInputBlock, mode: .strict))
        let (program, input) = try ProposalReading.programAndInput(in: RealOutputs.qwenNoInputBlock, mode: .lenient)
        XCTAssertEqual(program, "def f(xs):\n    return sorted( set( xs ))[-2]\n")
        XCTAssertEqual(input, "[4, 1, 4, 3]")
    }

    func testAnInputAssignmentCountsAsTheInputBlock() throws {
        let (program, input) = try ProposalReading.programAndInput(in: RealOutputs.qwenInputAssignment, mode: .lenient)
        XCTAssertTrue(program.hasPrefix("def f(s):\n    return s.split()[0]"), program)
        XCTAssertEqual(input, "\"Hello world\"")
    }

    func testTheEntryPointIsRenamedAndItsVariableArgumentResolved() throws {
        let (program, input) = try ProposalReading.programAndInput(in: RealOutputs.qwenRenamedWithVariable, mode: .lenient)
        XCTAssertEqual(input, "\"a1b22c333\"")
        XCTAssertTrue(program.contains("def helper(c):"), program)
        XCTAssertTrue(program.contains("def f(text):"), program)
        XCTAssertFalse(program.contains("print("), program)
        XCTAssertFalse(program.contains("sample ="), program)
        XCTAssertFalse(program.contains("count_digits"), program)
    }

    func testTheStrictProposalFormEndsWithAPrintedCall() throws {
        let completion = "```python\nLIMIT = 3\n\ndef f(xs):\n    return xs[:LIMIT]\n\nprint(f([5, 6, 7, 8]))\n```"
        let (program, input) = try ProposalReading.programAndInput(in: completion, mode: .strict)
        XCTAssertEqual(program, "LIMIT = 3\n\ndef f(xs):\n    return xs[:LIMIT]")
        XCTAssertEqual(input, "[5, 6, 7, 8]")
        // Leniently the constant the function reads stays in the program.
        XCTAssertEqual(try ProposalReading.programAndInput(in: completion, mode: .lenient).program, program + "\n")
    }

    func testDeductionAnswersStrictAndLenient() throws {
        let task = DeductionTask(style: .instruct)
        XCTAssertThrowsError(try task.predictedValue(in: RealOutputs.qwenInlineAssert, mode: .strict))
        XCTAssertEqual(try task.predictedValue(in: RealOutputs.qwenInlineAssert, mode: .lenient), "['a', 'b']")
        XCTAssertEqual(try task.predictedValue(in: RealOutputs.qwenFencedAssert, mode: .strict), "'Hello worlda'")
        // A string holding brackets and `==` does not confuse the call's end.
        let tricky = "assert f(\"a)b\", [1, (2, 3)]) == 'x == y'  # done"
        XCTAssertEqual(try AssertionAnswer.read(in: tricky, mode: .strict).arguments, "\"a)b\", [1, (2, 3)]")
        XCTAssertEqual(try AssertionAnswer.read(in: tricky, mode: .strict).value, "'x == y'")
        // The last assert line counts.
        XCTAssertEqual(try task.predictedValue(in: "assert f(1) == 2\nassert f(1) == 3", mode: .strict), "3")
        // An assertion's message is not part of the value, as in Python; a tuple needs its parentheses there too.
        for mode in [AnswerFormat.Mode.strict, .lenient] {
            XCTAssertEqual(try task.predictedValue(in: RealOutputs.qwenAssertWithMessage, mode: mode), "'world'")
            XCTAssertEqual(try task.predictedValue(in: "assert f(1) == (1, 'a, b'), 'x'", mode: mode), "(1, 'a, b')")
            XCTAssertEqual(try task.predictedValue(in: "assert f(1) == {'k': [1, 2]}, f'{1, 2}'", mode: mode), "{'k': [1, 2]}")
            XCTAssertEqual(try task.predictedValue(in: "assert f(1) == 1, 2", mode: mode), "1")
        }
        XCTAssertEqual(try task.predictedValue(in: "so `f(2) == 'a,b', as shown`.", mode: .lenient), "'a,b'")
    }

    func testAbductionArgumentsAreTheAssertionsCall() throws {
        XCTAssertEqual(try AbductionTask(style: .instruct).arguments(in: RealOutputs.qwenAbduction, mode: .strict), "\"x9j\"")
        XCTAssertThrowsError(try AbductionTask(style: .instruct).arguments(in: "I think the input is 3.", mode: .lenient))
    }

    func testInductionCallsAndMessagesFromRealOutputs() throws {
        let task = InductionTask(style: .instruct)
        XCTAssertThrowsError(try task.inputsAndMessage(in: RealOutputs.qwenNumberedCalls, mode: .strict))
        let numbered = try task.inputsAndMessage(in: RealOutputs.qwenNumberedCalls, mode: .lenient)
        XCTAssertEqual(numbered.inputs, ["\"Hello, world!\"", "\"Hello, world!\"", "\"Hello, world!\""])
        XCTAssertEqual(numbered.message, "f does nothing.")
        let commented = try task.inputsAndMessage(in: RealOutputs.qwenCallsWithCommentMessages, mode: .lenient)
        XCTAssertEqual(commented.inputs, ["1", "2", "3"])
        XCTAssertEqual(commented.message, "1")
        let strict = try task.inputsAndMessage(in: "```python\nprint(f([1]))\nf([2, 3])\n```\nMessage: sums a list.", mode: .strict)
        XCTAssertEqual(strict.inputs, ["[1]", "[2, 3]"])
        XCTAssertEqual(strict.message, "sums a list.")
    }

    func testInductionSolutionsAreRenamedLeniently() throws {
        let answer = "```python\ndef echo(x):\n    return x\n\nprint(echo(1))\n```"
        XCTAssertEqual(try InductionTask(style: .instruct).solution(in: answer, mode: .lenient), "def f(x):\n    return x\n")
        XCTAssertEqual(try InductionTask(style: .instruct).solution(in: answer, mode: .strict), "def f(x):\n    return x\n\nprint(echo(1))")
    }

    func testTopicHintsDependOnTheReferencesOnly() {
        let a = DeductionTask(style: .instruct, topicHints: true).proposerPrompt(references: [IdentitySeeds.single(type: "deduction")])
        XCTAssertEqual(a, DeductionTask(style: .instruct, topicHints: true).proposerPrompt(references: [IdentitySeeds.single(type: "deduction")]))
        XCTAssertTrue(a.contains("Build it around `"), a)
        XCTAssertFalse(DeductionTask(style: .instruct, topicHints: false).proposerPrompt(references: []).contains("Build it around"))
    }

    func testTheMultilineShapeShowsALoopAndAsksForOne() throws {
        let references = [IdentitySeeds.single(type: "deduction")]
        for (short, multiline) in [
            (DeductionTask(style: .instruct, topicHints: true).proposerPrompt(references: references),
             DeductionTask(style: .instruct, topicHints: true, proposalShape: .multiline).proposerPrompt(references: references)),
            (AbductionTask(style: .instruct, topicHints: true).proposerPrompt(references: references),
             AbductionTask(style: .instruct, topicHints: true, proposalShape: .multiline).proposerPrompt(references: references)),
        ] {
            XCTAssertTrue(short.contains("Now write a new short Python puzzle"), short)
            XCTAssertTrue(short.contains("return sorted(set(xs))[-2]"), short)
            XCTAssertFalse(short.contains("for w in words:"), short)
            XCTAssertTrue(multiline.contains("four to eight lines that keep state across a loop or branch"), multiline)
            XCTAssertTrue(multiline.contains("    for w in words:\n        if w[0] not in lengths:"), multiline)
            XCTAssertFalse(multiline.contains("short Python puzzle"), multiline)
            XCTAssertFalse(multiline.contains("sorted(set(xs))"), multiline)
            // The shape changes the example and the request only: the topic and the references stay.
            let topic = short.components(separatedBy: "Build it around `")[1].prefix(while: { $0 != "`" })
            XCTAssertTrue(multiline.contains("Build it around `\(topic)`"), multiline)
            XCTAssertTrue(multiline.contains("print(f('Hello world'))"), multiline)
        }
        // The example is itself a proposal in the asked form, read strictly.
        let shown = InstructPrompts.multilineExample
        let block = Prompts.fence("python", shown.program + "\n\nprint(f(\(shown.input)))")
        let read = try ProposalReading.programAndInput(in: block, mode: .strict)
        XCTAssertEqual(read.input, "['ab', 'cde', 'af']")
        XCTAssertEqual(read.program.split(separator: "\n").count, 7, read.program)
        // The paper's prompts have no such setting: the shape leaves them as they were.
        XCTAssertEqual(DeductionTask(style: .azr, proposalShape: .multiline).proposerPrompt(references: references),
                       DeductionTask(style: .azr).proposerPrompt(references: references))
    }
}
