import Sandbox

/// Induction: the proposer takes an existing program and writes inputs plus a message describing the
/// function; the solver sees the message and the first half of the input/output pairs and writes a program,
/// which must reproduce the held-out half.
public struct InductionTask: Environment {
    public var name: String { "induction" }
    public var referenceBuffers: [String] { ["deduction", "abduction"] }
    public var referenceCount: Int { 1 }
    /// Inputs the proposer must write (N in the paper).
    public var inputCount: Int
    public var style: PromptStyle
    /// Instruct style: solver sampling stops after the first closed python block that defines a function,
    /// proposer sampling once the message and `inputCount` distinct calls are written.
    public var stopsAtAnswer: Bool
    public var seed: Triple { IdentitySeeds.induction() }

    public init(inputCount: Int = 10, style: PromptStyle = .azr, stopsAtAnswer: Bool = false) {
        self.inputCount = inputCount
        self.style = style
        self.stopsAtAnswer = stopsAtAnswer
    }

    public var solverStop: AnswerStop? { style == .instruct && stopsAtAnswer ? .functionBlock : nil }
    public var proposerStop: AnswerStop? { style == .instruct && stopsAtAnswer ? .inductionProposal(inputs: inputCount) : nil }

    public func proposerPrompt(references: [Triple]) -> String {
        let program = references.first?.program ?? IdentitySeeds.program
        if style == .instruct {
            return """
            Here is a Python function:

            \(Prompts.fence("python", program))

            Answer in two parts and nothing else. First, one line that starts with `Message:` and says in a \
            sentence what f does, for someone who will see only some of the calls and their results and must write \
            f themselves (do not paste the code). Second, a ```python block of \(inputCount) lines, each \
            `print(f(...))` on different, short concrete arguments, that together show what f does.
            """
        }
        return AnswerFormat.wrap("""
        ## Task: write inputs and a description for an existing Python program.
        \(Prompts.fence("python", program))
        Write \(inputCount) different inputs for f (each the text of its arguments, e.g. `"abc", [1, 2]`) that \
        together reveal what it does, and a short message that helps someone who sees only some of the \
        input/output pairs write the function themselves. Do not paste the code into the message.
        Think first, then answer in exactly this form, one input block per input:
        <answer>
        \(Prompts.fence("input", "the arguments of the first call"))
        \(Prompts.fence("input", "the arguments of the second call"))
        ...
        \(Prompts.fence("message", "the description"))
        </answer>
        """)
    }

    public func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome {
        let program = references.first?.program ?? IdentitySeeds.program
        let inputs: [String], message: String
        do {
            (inputs, message) = try inputsAndMessage(in: completion, mode: context.format)
        } catch {
            return .invalid(Invalid(.malformed, "\(error)"))
        }
        var seen = Set<String>()
        let distinct = inputs.filter { seen.insert($0).inserted }
        guard distinct.count >= inputCount else {
            return .invalid(Invalid(.tooFewInputs, "\(distinct.count) distinct inputs, \(inputCount) needed"))
        }
        let chosen = Array(distinct.prefix(inputCount))
        switch context.runner.validate(program: program, inputs: chosen) {
        case let .failure(invalid): return .invalid(invalid)
        case let .success(run):
            return .valid(Triple(type: name, program: run.program, inputs: chosen, outputs: run.outputs, message: message,
                                 imports: ProgramChecks.imports(of: run.program), step: context.step,
                                 source: "proposer:\(String(StableHash.fnv1a64(completion), radix: 16))",
                                 validationSeconds: run.seconds))
        }
    }

    /// The proposal's inputs and message. Instruct style, strict: the calls `f(…)` or `print(f(…))` that start lines of ```python
    /// blocks and a `Message:` line; lenient: every call of `f` with literal arguments anywhere, or ```input
    /// blocks, and the message from a `Message:` line, a ```message block or else the prose outside code.
    func inputsAndMessage(in completion: String, mode: AnswerFormat.Mode) throws -> (inputs: [String], message: String) {
        let trimmed = { (text: String) in text.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard style == .instruct else {
            return (try AnswerFormat.blocks("input", in: completion, mode: mode).map(trimmed),
                    trimmed(try AnswerFormat.block("message", in: completion, mode: mode)))
        }
        let blocks = try AnswerFormat.fences(in: completion, mode: .lenient)
        // A line that starts `Message:`; when nothing follows the label, the next non-empty line.
        let lines = completion.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let messageLine = lines.indices.last { lines[$0].lowercased().hasPrefix("message:") }.map { index -> String in
            let text = trimmed(String(lines[index].dropFirst("message:".count)))
            return text.isEmpty ? lines[(index + 1)...].first { !$0.isEmpty && !$0.hasPrefix("```") } ?? "" : text
        }
        switch mode {
        case .strict:
            let lines = blocks.filter { $0.label == "python" }.flatMap { $0.body.split(separator: "\n").map(String.init) }
                .filter { $0.hasPrefix("f(") || $0.hasPrefix("print(f(") }
            let inputs = lines.flatMap { ProposalReading.literalCalls(in: $0).prefix(1) }
            guard !inputs.isEmpty else { throw FormatError("no calls `f(…)` in a ```python block") }
            guard let message = messageLine, !message.isEmpty else { throw FormatError("no `Message:` line") }
            return (inputs, message)
        case .lenient:
            var inputs = ProposalReading.literalCalls(in: completion)
            if inputs.isEmpty { inputs = blocks.filter { $0.label == "input" }.map { trimmed($0.body) } }
            guard !inputs.isEmpty else { throw FormatError("no calls of f with literal arguments and no ```input blocks") }
            // A `Message:` anywhere in a line (after a `#`, say) also counts.
            let anywhere = completion.split(separator: "\n").lazy.compactMap { line -> String? in
                guard let range = line.range(of: "message:", options: .caseInsensitive) else { return nil }
                let text = trimmed(String(line[range.upperBound...]))
                return text.isEmpty ? nil : text
            }.first
            if let message = messageLine.flatMap({ $0.isEmpty ? nil : $0 }) ?? anywhere
                ?? blocks.last(where: { $0.label == "message" }).map({ trimmed($0.body) }), !message.isEmpty {
                return (inputs, message)
            }
            let prose = Self.prose(of: completion)
            guard !prose.isEmpty else { throw FormatError("no message") }
            return (inputs, String(prose.prefix(400)))
        }
    }

    /// The completion's text outside code fences and lines of code.
    static func prose(of completion: String) -> String {
        var inFence = false
        var lines: [String] = []
        for line in completion.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("```") { inFence.toggle(); continue }
            if !inFence, !text.hasPrefix("f("), !text.isEmpty { lines.append(text) }
        }
        return lines.joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    /// The pairs shown to the solver (first half) and held out (second half).
    public static func split(_ triple: Triple) -> (shown: [(String, String)], hidden: [(String, String)]) {
        let pairs = Array(zip(triple.inputs ?? [], triple.outputs ?? []))
        let half = (pairs.count + 1) / 2
        return (Array(pairs.prefix(half)), Array(pairs.dropFirst(half)))
    }

    /// The description and the calls the solver is shown. Induction offers no conjecture prompt of its own (its
    /// proposer describes a program it is given), so SGS conjectures another type's task for it.
    public func statement(of triple: Triple) -> String? {
        guard triple.message != nil, triple.inputs?.isEmpty == false else { return nil }
        return "Write the Python function `f` these calls come from. What it does: \(triple.message!)\n\n"
            + Prompts.fence("python", InstructPrompts.pairs(Self.split(triple).shown))
    }

    public func solverPrompt(for triple: Triple) -> String {
        if style == .instruct {
            return """
            Write the Python function `f` that these calls come from. What it does, in a sentence: \(triple.message ?? "")

            \(Prompts.fence("python", InstructPrompts.pairs(Self.split(triple).shown)))

            It must give these results and behave the same way on other arguments. Answer with one ```python block \
            that defines `f`.
            """
        }
        let shown = Self.split(triple).shown.map { Prompts.fence("input", $0.0) + "\n" + Prompts.fence("output", $0.1) }
        return AnswerFormat.wrap("""
        ## Task: write the Python function these examples come from.
        \(Prompts.fence("message", triple.message ?? ""))
        \(shown.joined(separator: "\n"))
        Write a function `f` that gives these outputs for these inputs and behaves the same way on other inputs:
        <answer>
        \(Prompts.fence("python", "def f(...):\n    ..."))
        </answer>
        """)
    }

    /// The solver's program with its entry point named `f`, or nil when the code read defines no function.
    /// Instruct style, strict: the one ```python block; lenient: the first python block that defines a function,
    /// usage lines dropped (as proposals are read).
    func solution(in completion: String, mode: AnswerFormat.Mode) throws -> String? {
        let program: String
        if style == .instruct && mode == .lenient {
            program = try ProposalReading.firstProgram(in: AnswerFormat.fences(in: completion, mode: .lenient)).program
        } else if style == .instruct {
            let blocks = try AnswerFormat.fences(in: completion, mode: .lenient).filter { $0.label == "python" }
            guard blocks.count == 1 else { throw FormatError(blocks.isEmpty ? "no ```python block" : "\(blocks.count) ```python blocks") }
            program = blocks[0].body
        } else {
            program = try AnswerFormat.block("python", in: completion, mode: mode)
        }
        return ProgramChecks.withEntryPoint(program)
    }

    public func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome {
        let solution: String?
        do { solution = try self.solution(in: completion, mode: context.format) } catch { return .malformed("\(error)") }
        guard let named = solution else { return .wrong("the answer defines no function") }
        let hidden = Self.split(triple).hidden
        guard !hidden.isEmpty else { return .wrong("the task has no held-out pairs") }
        switch context.runner.outputs(program: named, inputs: hidden.map(\.0)) {
        case let .failure(invalid): return .wrong(invalid.detail)
        case let .success(calls):
            for (call, pair) in zip(calls, hidden) {
                guard let literal = call.literal, let value = try? PythonValue(literal: literal),
                      let expected = try? PythonValue(literal: pair.1), value == expected
                else { return .wrong("differs on input \(pair.0.prefix(60))") }
            }
            return .correct
        }
    }
}
