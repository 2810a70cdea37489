import Sandbox
import Tasks

/// CRUXEval problems whose expected output equals one of the call's arguments, such as `f('abc') == 'abc'`.
///
/// A model that learns to answer "the input, unchanged" gains on these without reading the program, so
/// `azr experiment` reports them apart from the rest: a gain in reasoning can then be told from a learnt guess.
public enum EchoProblems {
    /// Whether `triple`'s output equals (Python's `==`) one of its arguments. An input with an argument that is
    /// not a literal (an expression, a keyword argument) is not an echo: it cannot be compared outside the sandbox.
    public static func isEcho(_ triple: Triple) -> Bool {
        guard let input = triple.input, let output = triple.output,
              let value = try? PythonValue(literal: output),
              let arguments = try? PythonLiteralParser().parseArguments(input) else { return false }
        return arguments.contains { $0 == value }
    }

    /// The problem keys (type/id) of the echo problems among `triples`.
    public static func keys(in triples: [Triple]) -> Set<String> {
        Set(triples.filter(isEcho).map(\.problemKey))
    }
}
