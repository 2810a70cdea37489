/// The instruct style's prompts: plain instructions, a worked example on a different program, and the answer
/// forms of `PromptStyle.instruct`. Nothing in them is a placeholder the model could copy as an answer.
enum InstructPrompts {
    /// The worked proposal shown for the answer's form. A 0.5B model copies whatever program it is shown, so
    /// the example is short, plainly labelled as another idea, and followed by the request itself.
    static let example = (program: "def f(xs):\n    return sorted(set(xs))[-2]", input: "[4, 1, 4, 3]")

    /// The worked proposal for `ProposalShape.multiline`: state kept across a loop and a branch, as CRUXEval's
    /// programs do, on a topic that no topic hint names.
    static let multilineExample = (program: """
        def f(words):
            lengths = {}
            for w in words:
                if w[0] not in lengths:
                    lengths[w[0]] = 0
                lengths[w[0]] += len(w)
            return sorted(lengths.items())
        """, input: "['ab', 'cde', 'af']")

    /// Solvers' worked examples, one chosen per task by its program's hash. With a single fixed example (CRUXEval's
    /// `def f(s): return s + "a"`, `"x9j"` → `"x9ja"`) eight training steps taught Qwen2.5-Coder-0.5B to answer
    /// `"x9ja"` to most CRUXEval-O problems; rotating examples of different types leaves no one value to copy.
    static let solvedExamples: [(program: String, arguments: String, value: String)] = [
        ("def f(s): return s + \"a\"", "\"x9j\"", "\"x9ja\""),
        ("def f(xs): return [x * 2 for x in xs if x > 0]", "[3, -1, 5]", "[6, 10]"),
        ("def f(n, k): return n // k + n % k", "17, 5", "5"),
        ("def f(d): return {v: k for k, v in d.items()}", "{\"a\": 1}", "{1: \"a\"}"),
        ("def f(t): return t[::-1].upper()", "\"ab\"", "\"BA\""),
        ("def f(a, b): return (min(a, b), a == b)", "4, 9", "(4, False)"),
    ]

    /// The solver prompt's last line. Asked to reason first, Qwen2.5-Coder-0.5B explains for 200+ tokens and
    /// half its CRUXEval answers do not fit in 256; asked for the assertion alone it answers in about 20 tokens and
    /// scored higher on the first 32 problems of each direction (O 25% against 16%, I 19% against 3%).
    static func answerRequest(reasoning: Bool) -> String {
        reasoning ? "Think it through step by step, then write the completed assertion on its own line."
            : "Reply with only the completed assertion, one line of Python."
    }

    static func solvedExample(for triple: Triple) -> (program: String, arguments: String, value: String) {
        solvedExamples[Int(StableHash.fnv1a64(triple.program) % UInt64(solvedExamples.count))]
    }

    /// Builtin methods to build a proposal around, as CRUXEval's own generator prompted (a setting: `topic_hints`).
    static let topics = [
        "str.split", "str.join", "str.replace", "str.find", "str.rfind", "str.partition", "str.strip", "str.center",
        "str.ljust", "str.zfill", "str.swapcase", "str.title", "str.count", "str.startswith", "str.isdigit",
        "str.translate", "str.splitlines", "str.expandtabs", "list.insert", "list.pop", "list.remove", "list.extend",
        "list.index", "list.reverse", "list.sort with a key", "slicing with a step", "dict.get", "dict.setdefault",
        "dict.items", "dict.pop", "dict.update", "set.intersection", "set.difference", "enumerate", "zip", "sorted",
        "reversed", "sum", "min and max", "divmod", "any and all", "a while loop", "nested loops", "recursion",
        "a list comprehension with a condition", "a dict comprehension", "str.format", "ord and chr",
    ]

    /// The topic for a prompt: fixed by its references, so a prompt is a function of its inputs.
    static func topic(for references: [Triple], salt: String) -> String {
        let key = salt + references.map(\.program).joined() + references.compactMap(\.input).joined()
        return topics[Int(StableHash.fnv1a64(key) % UInt64(topics.count))]
    }

    /// The rules in words a small model follows; naming the banned modules made a 0.5B model import them all.
    /// The sandbox and `ProgramChecks` enforce the full list either way.
    static let programRules = """
    The function must be deterministic (no randomness, no clock, no files, no input()) and return plain Python \
    values (numbers, strings, booleans, None, and lists, tuples, dicts and sets of them).
    """

    /// Existing tasks, each shown in the answer's own form (the block ends with its call). Shown as a block and
    /// then "with the call `f(…)`" in prose, Qwen2.5-Coder-0.5B copied that shape: most of its malformed deduction
    /// and abduction proposals were a function block alone.
    static func references(_ triples: [Triple]) -> String {
        let listed = triples.filter { $0.input != nil }.map { triple in
            Prompts.fence("python", triple.program + "\n\nprint(f(\(triple.input!)))")
        }
        guard !listed.isEmpty else { return "" }
        return "\nThese tasks exist already; yours must be clearly different from all of them:\n\n" + listed.joined(separator: "\n\n") + "\n"
    }

    /// The proposal prompt's last sentence. A small model follows the end of its prompt most closely; ending on
    /// the program rules, it often wrote the function and stopped.
    static let callRequest = "The block's last line calls f on concrete arguments: `print(f(...))`."

    static func proposal(goal: String, references: [Triple], topicHints: Bool, shape: ProposalShape) -> String {
        let hint = topicHints ? " Build it around `\(topic(for: references, salt: goal))`." : ""
        let (shown, request) = switch shape {
        case .short: (example, "Now write a new short Python puzzle for another programmer in that form: your own function `f` and one call of it.")
        case .multiline: (multilineExample, "Now write a new Python puzzle for another programmer in that form: your own function `f`, four to eight lines that keep state across a loop or branch on its values, and one call of it.")
        }
        return """
        An answer is one ```python block that defines a function `f` and ends with one call of it on concrete \
        arguments, `print(f(...))`. For example, about something else:

        \(Prompts.fence("python", shown.program + "\n\nprint(f(\(shown.input)))"))
        \(Self.references(references))
        \(request) \(goal) Make it take careful reasoning.\(hint) \(programRules) \(callRequest)
        """
    }

    /// "f(a) == b" lines for pairs shown to a solver.
    static func pairs(_ pairs: [(String, String)]) -> String {
        pairs.map { "f(\($0.0)) == \($0.1)" }.joined(separator: "\n")
    }
}
