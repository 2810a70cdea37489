/// Size and nesting of a program's text: the reward-hacking signal SGS watches (a conjecturer that games its
/// reward writes ever longer, more deeply nested programs that do not help the solver).
public struct ProgramShape: Sendable, Equatable {
    /// Characters of the program without blank lines and comment-only lines.
    public var characters: Int
    /// The deepest indentation level of a code line: 0 at the top level, 1 inside `def f`, 2 inside a loop in
    /// it, and so on (levels, not columns, so 2- and 4-space indents count alike).
    public var nesting: Int

    public init(_ program: String) {
        var characters = 0, nesting = 0
        var stack: [Int] = [0]
        for line in program.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            characters += line.count
            let indent = line.prefix { $0 == " " || $0 == "\t" }.reduce(0) { $0 + ($1 == "\t" ? 8 : 1) }
            while let top = stack.last, indent < top { stack.removeLast() }
            if indent > stack.last! { stack.append(indent) }
            nesting = max(nesting, stack.count - 1)
        }
        self.characters = characters
        self.nesting = nesting
    }
}
