import Foundation
import Tasks

/// SGS's guide (arXiv 2604.20209, its appendix E.3): the model scores a synthetic task against the unsolved
/// target it was written for on three sub-scores — relevance to the target (0–5), redundancy (0 or 1: code or
/// parameters that do not affect the result) and complexity (0–4: how convoluted the program is) — combined as
/// the paper's equation 3: 0 when complexity is 3 or 4, else max(0, relevance + (2 − complexity) + (1 − redundancy)),
/// 0…8, divided by 8 to lie in [0, 1]. The paper's guide reasons before its tags; a 0.5B model asked to reason
/// first rarely writes the tags at all (`LSPJudge` measured the same), so this one asks for the tags alone.
public enum SGSGuide {
    /// The highest combined score (relevance 5, complexity 0, redundancy 0).
    public static let maxPoints = 8

    /// One parsed verdict.
    public struct Verdict: Sendable, Equatable {
        public var relevance: Int
        public var redundancy: Int
        public var complexity: Int

        public init(relevance: Int, redundancy: Int, complexity: Int) {
            self.relevance = relevance
            self.redundancy = redundancy
            self.complexity = complexity
        }

        /// The paper's combination, 0…8.
        public var points: Int {
            complexity >= 3 ? 0 : max(0, relevance + (2 - complexity) + (1 - redundancy))
        }

        /// `points` in [0, 1].
        public var score: Double { Double(points) / Double(SGSGuide.maxPoints) }
    }

    /// The three tags, their ranges, in the order the reply gives them.
    static let tags: [(name: String, range: ClosedRange<Int>)] = [("relevance", 0...5), ("redundancy", 0...1), ("complexity", 0...4)]

    /// Sampling stops once the last tag is closed.
    public static let stop = AnswerStop.closingTag("complexity")

    /// The worked verdict the prompt shows. Asked to put "your three numbers in place of R, D and C" without one,
    /// Qwen2.5-Coder-0.5B wrote the numbers as tag names (`<5>0</5> …`); with it, it writes the tags, and copies
    /// this very line part of the time (`SGSGame` counts such copies in `guide_copied_example`).
    public static let example = "<relevance>3</relevance> <redundancy>0</redundancy> <complexity>1</complexity>"

    /// The guide's prompt: the target and the synthetic task as their solvers see them, the rubric, and a reply
    /// that is only the three tags.
    public static func prompt(target: String, task: String) -> String {
        """
        You review a practice puzzle that was written to help with a harder Python puzzle.

        [Harder puzzle, not solved yet]
        \(target)

        [Practice puzzle]
        \(task)

        Rate the practice puzzle on three scales.
        relevance, 0 to 5: 0 unrelated and trivial, or the same as the harder puzzle (also with renamed variables \
        or changed constants); 1 unrelated; 2 about similar Python but no help with the harder puzzle; 3 related \
        and may help; 4 directly useful: solving it makes the harder puzzle easier; 5 very useful: solving it makes \
        the harder puzzle much easier.
        redundancy, 0 or 1: 1 when the program has code or parameters that do not change its result, else 0.
        complexity, 0 to 4: 0 one clear idea; 1 a few closely related steps; 2 several steps that are still clear; \
        3 many loosely related steps or deep nesting; 4 several unrelated computations packed into one function.

        Reply with only the three scores in this exact form and nothing else:
        <relevance>N</relevance> <redundancy>N</redundancy> <complexity>N</complexity>
        For example, a related puzzle without dead code and with two clear steps gets exactly: \(example)
        """
    }

    /// Why a guide's output gave no verdict: a typed failure, counted in the step's metrics. As in the paper's
    /// code, such a task then gets the mean score of the step's readable verdicts.
    public enum OutputError: Error, Equatable, CustomStringConvertible {
        case missing(String)
        case several(String, Int)
        case notAnInteger(String, String)
        case outOfRange(String, Int)

        public var description: String {
            switch self {
            case let .missing(tag): return "no <\(tag)>N</\(tag)> tag"
            case let .several(tag, count): return "\(count) <\(tag)> tags, one expected"
            case let .notAnInteger(tag, text): return "\(tag) \"\(text)\" is not an integer"
            case let .outOfRange(tag, value): return "\(tag) \(value) is outside its range"
            }
        }

        /// A short name for metrics, e.g. `missing_relevance`.
        public var reason: String {
            switch self {
            case let .missing(tag): return "missing_\(tag)"
            case let .several(tag, _): return "several_\(tag)"
            case let .notAnInteger(tag, _): return "not_an_integer_\(tag)"
            case let .outOfRange(tag, _): return "out_of_range_\(tag)"
            }
        }
    }

    /// The verdict in one guide output; a missing, repeated, non-integer or out-of-range sub-score throws.
    public static func verdict(_ output: String) throws -> Verdict {
        var values: [Int] = []
        for (tag, range) in tags {
            let found = taggedValues(tag, in: output)
            guard !found.isEmpty else { throw OutputError.missing(tag) }
            guard found.count == 1 else { throw OutputError.several(tag, found.count) }
            let text = found[0].trimmingCharacters(in: .whitespacesAndNewlines)
            guard let value = Int(text) else { throw OutputError.notAnInteger(tag, text) }
            guard range.contains(value) else { throw OutputError.outOfRange(tag, value) }
            values.append(value)
        }
        return Verdict(relevance: values[0], redundancy: values[1], complexity: values[2])
    }
}
