/// Reading Python source text without running it: calls, their argument text and where a statement ends, with
/// string literals and brackets respected. Used to read answers such as `assert f("a(", [1]) == 2` and the usage
/// lines around a proposed program; anything read here is still judged by the literal parser or the sandbox.
enum PythonSource {
    /// The index just past the string literal that starts at `start` (a quote, after any prefix letters), or the
    /// end of the text when it never closes.
    static func skipString(_ text: [Character], from start: Int) -> Int {
        let quote = text[start]
        let triple = start + 2 < text.count && text[start + 1] == quote && text[start + 2] == quote
        var index = start + (triple ? 3 : 1)
        while index < text.count {
            let character = text[index]
            if character == "\\" { index += 2; continue }
            if triple {
                if character == quote, index + 2 < text.count, text[index + 1] == quote, text[index + 2] == quote { return index + 3 }
            } else if character == quote {
                return index + 1
            } else if character == "\n" {
                return index
            }
            index += 1
        }
        return text.count
    }

    /// The index of the bracket that closes the one at `open`, or nil.
    static func closingBracket(_ text: [Character], open: Int) -> Int? {
        var depth = 0
        var index = open
        while index < text.count {
            let character = text[index]
            switch character {
            case "\"", "'":
                index = skipString(text, from: index)
                continue
            case "(", "[", "{":
                depth += 1
            case ")", "]", "}":
                depth -= 1
                if depth == 0 { return index }
            case "#":
                while index < text.count, text[index] != "\n" { index += 1 }
                continue
            default:
                break
            }
            index += 1
        }
        return nil
    }

    static func isIdentifier(_ character: Character) -> Bool { character == "_" || character.isLetter || character.isNumber }

    /// Every call of `name` in `source` (a whole word, not an attribute or a definition): the argument text and
    /// the rest of the text after the closing parenthesis.
    static func calls(of name: String, in source: String) -> [(arguments: String, after: String)] {
        let text = Array(source)
        let pattern = Array(name + "(")
        var found: [(String, String)] = []
        var index = 0
        // Candidates are found without tracking strings, so prose around an answer ("Let's see: f(3) == 9")
        // cannot hide a call; brackets and strings count from the call's parenthesis on.
        while index + pattern.count <= text.count {
            if Array(text[index..<index + pattern.count]) == pattern,
               index == 0 || !(isIdentifier(text[index - 1]) || text[index - 1] == "."),
               !precededByDef(text, index) {
                let open = index + pattern.count - 1
                if let close = closingBracket(text, open: open) {
                    found.append((String(text[(open + 1)..<close]), String(text[(close + 1)...])))
                    index = close + 1
                    continue
                }
            }
            index += 1
        }
        return found
    }

    private static func precededByDef(_ text: [Character], _ index: Int) -> Bool {
        var start = index
        while start > 0, text[start - 1] == " " || text[start - 1] == "\t" { start -= 1 }
        return start >= 3 && String(text[(start - 3)..<start]) == "def"
    }

    /// Visits the characters of `text` outside string literals, with the bracket depth before each; `visit`
    /// returns false to stop there. Returns the index it stopped at (the end when it never did).
    @discardableResult
    static func scanCode(_ text: [Character], _ visit: (_ index: Int, _ character: Character, _ depth: Int) -> Bool) -> Int {
        var depth = 0
        var index = 0
        while index < text.count {
            let character = text[index]
            if character == "\"" || character == "'" {
                index = skipString(text, from: index)
                continue
            }
            if !visit(index, character, depth) { return index }
            if "([{".contains(character) { depth += 1 } else if ")]}".contains(character) { depth -= 1 }
            index += 1
        }
        return text.count
    }

    /// `text` up to a `#` comment outside strings, trimmed.
    static func withoutComment(_ line: String) -> String {
        let text = Array(line)
        let end = scanCode(text) { _, character, _ in character != "#" }
        return String(text[..<end]).trimmingCharacters(in: .whitespaces)
    }

    /// `expression` up to its first comma outside brackets and strings, trimmed: in `assert f(x) == v, "message"`
    /// Python compares with `v` alone, and the rest is the assertion's message.
    static func beforeTopLevelComma(_ expression: String) -> String {
        let text = Array(expression)
        let end = scanCode(text) { _, character, depth in !(character == "," && depth == 0) }
        return String(text[..<end]).trimmingCharacters(in: .whitespaces)
    }

    /// The program's top-level statements, each with its continuation lines (indented bodies, open brackets,
    /// decorators with what they decorate), in order.
    static func topLevelStatements(_ program: String) -> [String] {
        var statements: [[Substring]] = []
        var depth = 0
        var decorating = false
        for line in program.split(separator: "\n", omittingEmptySubsequences: false) {
            let startsStatement = depth == 0 && !decorating && !line.isEmpty && !line.first!.isWhitespace
                && !(line.hasPrefix(")") || line.hasPrefix("]") || line.hasPrefix("}"))
                && !["else", "elif", "except", "finally"].contains(where: { line.hasPrefix($0) })
            if startsStatement || statements.isEmpty {
                statements.append([line])
            } else {
                statements[statements.count - 1].append(line)
            }
            if depth == 0 { decorating = line.hasPrefix("@") }
            depth = max(0, depth + bracketBalance(String(line)))
        }
        return statements.map { $0.joined(separator: "\n") }
    }

    private static func bracketBalance(_ line: String) -> Int {
        var balance = 0
        scanCode(Array(line)) { _, character, depth in
            balance = depth + ("([{".contains(character) ? 1 : ")]}".contains(character) ? -1 : 0)
            return character != "#"
        }
        return balance
    }
}
