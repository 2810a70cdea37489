/// Pieces shared by the task types' prompts.
enum Prompts {
    static func fence(_ label: String, _ body: String) -> String {
        "```\(label)\n\(body.trimmingCharacters(in: .newlines))\n```"
    }

    static let programRules = """
    Rules for the program: define a function named `f` (helpers and classes may come before it); it must be \
    deterministic, read no files, print nothing that matters, import none of \
    \(ProgramChecks.referenceBannedImports.joined(separator: ", ")), and return a value made only of Python \
    literals (numbers, strings, bytes, booleans, None, and lists, tuples, dicts and sets of them). An input is \
    the text of f's arguments, e.g. `"abc", [1, 2]`.
    """

    static func references(_ triples: [Triple], showOutput: Bool = true) -> String {
        guard !triples.isEmpty else { return "" }
        let listed = triples.enumerated().map { index, triple -> String in
            var parts = ["### Existing task \(index + 1)", fence("python", triple.program)]
            if let input = triple.input { parts.append(fence("input", input)) }
            if showOutput, let output = triple.output { parts.append(fence("output", output)) }
            return parts.joined(separator: "\n")
        }
        return "\nThese tasks already exist; make yours clearly different from all of them:\n\n"
            + listed.joined(separator: "\n\n") + "\n"
    }
}
