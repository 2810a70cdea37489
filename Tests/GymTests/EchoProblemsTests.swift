import Gym
import Tasks
import XCTest

/// Echo problems (the output equals an argument) on real CRUXEval problems and on hand-made edge cases.
final class EchoProblemsTests: XCTestCase {
    /// The reference count comes from Python itself: `ast.literal_eval` of every argument of `f(<input>)` and of
    /// the output, compared with `==`; inputs with a non-literal or keyword argument count as no echo.
    func testCRUXEvalHas151EchoProblemsPerDirection() throws {
        let triples = try BufferFiles.cruxeval(from: try Repository.dataset("cruxeval.jsonl.gz"), limit: nil)
        XCTAssertEqual(triples.count, 1600)
        let echoes = EchoProblems.keys(in: triples)
        XCTAssertEqual(echoes.filter { $0.hasPrefix("deduction/") }.count, 151)
        XCTAssertEqual(echoes.filter { $0.hasPrefix("abduction/") }.count, 151)
        XCTAssertEqual(triples.prefix(400).filter(EchoProblems.isEcho).count, 76)
        func problem(_ name: String) throws -> Triple {
            try XCTUnwrap(triples.first { $0.type == "deduction" && $0.source == "import:\(name)" })
        }
        // sample_2: f('hbtofdeiequ') == 'hbtofdeiequ'; sample_0's output is a list of pairs built from its list.
        XCTAssertTrue(EchoProblems.isEcho(try problem("sample_2")))
        XCTAssertFalse(EchoProblems.isEcho(try problem("sample_0")))
        // sample_152's input is an expression (`''.join(['A'] * 20)`) that only the sandbox evaluates.
        XCTAssertFalse(EchoProblems.isEcho(try problem("sample_152")))
    }

    func testEchoFollowsPythonEquality() {
        func echo(_ input: String, _ output: String) -> Bool {
            EchoProblems.isEcho(Triple(type: "deduction", program: "def f(*a, **k):\n    return None", input: input, output: output))
        }
        XCTAssertTrue(echo("[1, 2], 3", "[1, 2]"))
        XCTAssertTrue(echo("'a', 3", "3"))
        XCTAssertTrue(echo("1", "1.0"), "1 == 1.0 in Python")
        XCTAssertTrue(echo("1", "True"), "1 == True in Python")
        XCTAssertFalse(echo("[1, 2]", "(1, 2)"), "a list is never equal to a tuple")
        XCTAssertFalse(echo("'abc'", "'abcd'"))
        XCTAssertFalse(echo("x=1", "1"), "a keyword argument is not compared")
        XCTAssertFalse(echo("", "None"))
        XCTAssertFalse(echo("'a'", "not a literal"))
    }
}
