import Sandbox

/// Reads the program and arguments out of an instruct-style proposal. Strict: exactly the requested form, one
/// ```python block that defines `f` and ends with `print(f(<literal arguments>))` (or, AZR's way, one ```python
/// and one ```input block). Lenient, as the reference reads a model's code:
/// the first python block that defines a function (its function renamed to `f` when none is called that), its
/// top-level usage lines dropped (calls, prints, asserts, `if __name__ == "__main__":`), and the arguments taken
/// from an ```input block or else from the first call of `f` whose arguments are Python literals.
public enum ProposalReading {
    public static func programAndInput(in completion: String, mode: AnswerFormat.Mode) throws -> (program: String, input: String) {
        let blocks = try AnswerFormat.fences(in: completion, mode: .lenient)
        switch mode {
        case .strict:
            let programs = blocks.filter { $0.label == "python" }
            let inputs = blocks.filter { $0.label == "input" }
            guard programs.count == 1 else { throw FormatError(programs.isEmpty ? "no ```python block" : "\(programs.count) ```python blocks") }
            guard definesFunction(programs[0].body, named: "f") else { throw FormatError("the ```python block does not define f") }
            if inputs.count == 1 { return (programs[0].body, inputs[0].body.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard inputs.isEmpty else { throw FormatError("\(inputs.count) ```input blocks") }
            var statements = PythonSource.topLevelStatements(programs[0].body)
            while let last = statements.last, last.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { statements.removeLast() }
            guard let last = statements.popLast()?.trimmingCharacters(in: .whitespacesAndNewlines), last.hasPrefix("print(f("),
                  let arguments = literalCalls(in: last).first else {
                throw FormatError("the ```python block does not end with print(f(...)) on literal arguments")
            }
            return (statements.joined(separator: "\n").trimmingCharacters(in: .newlines), arguments)
        case .lenient:
            let (renamed, program, usage) = try firstProgram(in: blocks)
            if let input = blocks.last(where: { $0.label == "input" }) {
                return (program, input.body.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            // Usage in the block first (its variables standing for their literal values), then anywhere in the
            // answer (prose, other blocks).
            let variables = literalAssignments(in: PythonSource.topLevelStatements(renamed))
            if let arguments = literalCalls(in: usage.joined(separator: "\n"), variables: variables).first
                ?? literalCalls(in: completion).first { return (program, arguments) }
            // `input = "Hello world"`: the ```input block written as Python.
            if let arguments = ["input", "inputs", "args", "arguments", "example_input"].lazy.compactMap({ variables[$0] }).first {
                return (program, arguments)
            }
            throw FormatError("no ```input block and no call of f with literal arguments")
        }
    }

    /// Python-labelled fences a model writes.
    static let pythonLabels: Set<String> = ["python", "py", "python3"]

    /// Lenient reading of a model's code: the first python block that defines a function, with its entry point
    /// renamed to `f` (`renamed`), and that text without its top-level usage (`program`) and the usage itself.
    static func firstProgram(in blocks: [(label: String, body: String)]) throws -> (renamed: String, program: String, usage: [String]) {
        guard let block = blocks.first(where: { pythonLabels.contains($0.label) && definesFunction($0.body, named: nil) }) else {
            throw FormatError("no python block that defines a function")
        }
        let renamed = renamingEntryPoint(block.body)
        let (program, usage) = separatingUsage(renamed)
        return (renamed, program, usage)
    }

    /// The argument texts of every call of `f` in `text` whose arguments are Python literals, in order; a
    /// name in `variables` (`xs = [4, 1]` earlier) counts as its literal.
    public static func literalCalls(in text: String, variables: [String: String] = [:]) -> [String] {
        PythonSource.calls(of: "f", in: text).compactMap { call in
            var arguments = call.arguments.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !arguments.isEmpty else { return nil }
            if (try? PythonLiteralParser().parseArguments(arguments)) == nil {
                guard !variables.isEmpty else { return nil }
                for (name, value) in variables {
                    arguments = arguments.replacingOccurrences(of: #"(?<![\w.'"])"# + name + #"(?![\w'"])"#, with: value, options: .regularExpression)
                }
                guard (try? PythonLiteralParser().parseArguments(arguments)) != nil else { return nil }
            }
            return arguments
        }
    }

    /// Top-level `name = <literal>` statements, e.g. the `xs = [4, 1, 4, 3]` before `print(f(xs))`.
    static func literalAssignments(in statements: [String]) -> [String: String] {
        var found: [String: String] = [:]
        for statement in statements {
            guard let match = statement.range(of: #"^[A-Za-z_]\w*\s*=(?!=)"#, options: .regularExpression) else { continue }
            let name = statement[match].dropLast().trimmingCharacters(in: .whitespaces)
            let value = PythonSource.withoutComment(String(statement[match.upperBound...]))
            if (try? PythonValue(literal: value)) != nil { found[name] = value }
        }
        return found
    }

    static func definesFunction(_ program: String, named name: String?) -> Bool {
        let pattern = name.map { #"(^|\n)def\s+"# + $0 + #"\s*\("# } ?? #"(^|\n)def\s+[A-Za-z_]\w*\s*\("#
        return program.range(of: pattern, options: .regularExpression) != nil
    }

    /// Names the program's entry point `f`: unchanged when it defines `f`; else its last top-level function
    /// (helpers come first) is renamed, with every use of the old name as a whole word.
    static func renamingEntryPoint(_ program: String) -> String {
        if definesFunction(program, named: "f") { return program }
        let names = PythonSource.topLevelStatements(program).compactMap { statement -> String? in
            guard let range = statement.range(of: #"^def\s+[A-Za-z_]\w*"#, options: .regularExpression) else { return nil }
            return String(statement[range].dropFirst(3)).trimmingCharacters(in: .whitespaces)
        }
        guard let name = names.last else { return program }
        return program.replacingOccurrences(of: #"\b"# + name + #"\b"#, with: "f", options: .regularExpression)
    }

    /// The program without its top-level usage statements, and those statements. A `name = <literal>` whose name
    /// appears in a call of `f` is usage too (the call's argument), unless the program's functions use it.
    static func separatingUsage(_ program: String) -> (program: String, usage: [String]) {
        var kept: [(Int, String)] = []
        var usage: [String] = []
        var assignments: [(index: Int, name: String, statement: String)] = []
        for (index, statement) in PythonSource.topLevelStatements(program).enumerated() {
            let head = statement.trimmingCharacters(in: .whitespaces)
            let declares = ["def ", "class ", "@", "import ", "from ", "#", "async def "].contains { head.hasPrefix($0) }
            if !declares, let name = literalAssignments(in: [head]).keys.first {
                assignments.append((index, name, statement))
                continue
            }
            let isUsage = !declares && !head.isEmpty
                && (head.hasPrefix("if __name__") || head.hasPrefix("print(") || head.hasPrefix("assert ")
                    || !PythonSource.calls(of: "f", in: statement).isEmpty || !head.contains("="))
            if isUsage { usage.append(statement) } else { kept.append((index, statement)) }
        }
        let callText = usage.flatMap { PythonSource.calls(of: "f", in: $0).map(\.arguments) }.joined(separator: " ")
        let bodies = kept.map(\.1).joined(separator: "\n")
        for (index, name, statement) in assignments {
            let word = #"\b"# + name + #"\b"#
            let inCall = callText.range(of: word, options: .regularExpression) != nil
            // Counted where the program uses it: a constant the functions read stays.
            if inCall && bodies.range(of: word, options: .regularExpression) == nil {
                usage.insert(statement, at: 0)
            } else {
                kept.append((index, statement))
            }
        }
        var lines = kept.sorted { $0.0 < $1.0 }.map(\.1)
        // Trailing comments introduced the usage ("# Example usage:").
        while let last = lines.last?.trimmingCharacters(in: .whitespacesAndNewlines), last.isEmpty || last.hasPrefix("#") { lines.removeLast() }
        return (lines.joined(separator: "\n"), usage)
    }
}
