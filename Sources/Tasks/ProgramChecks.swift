import Foundation

/// Checks on a program's text that need no execution: it must define `f`, import nothing banned and not call
/// `input(`. These give the proposer a precise reason; the sandbox still enforces everything that matters.
public enum ProgramChecks {
    /// The reference implementation's banned list (DESIGN.md §1).
    public static let referenceBannedImports = ["logging", "random", "multiprocessing", "pebble", "subprocess",
                                                "threading", "datetime", "time", "hashlib", "hmac", "bcrypt",
                                                "calendar"]
    /// Attribute paths the reference bans as text.
    public static let bannedText = ["os.sys", "os.path", "sys.exit", "os.environ"]

    /// The top-level modules the program imports, in order of appearance.
    public static func imports(of program: String) -> [String] {
        var found: [String] = []
        for line in program.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("import ") {
                for part in text.dropFirst(7).split(separator: ",") {
                    let module = part.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                    if let top = module.split(separator: ".").first { found.append(String(top)) }
                }
            } else if text.hasPrefix("from "), let module = text.dropFirst(5).split(separator: " ").first,
                      !module.hasPrefix(".") {
                if let top = module.split(separator: ".").first { found.append(String(top)) }
            }
        }
        var seen = Set<String>()
        return found.filter { seen.insert($0).inserted }
    }

    /// Returns the program with its entry point named `f` (the reference renames the first top-level `def`),
    /// or nil when it defines no function at all.
    public static func withEntryPoint(_ program: String) -> String? {
        let lines = program.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.contains(where: { $0.range(of: #"^def\s+f\s*\("#, options: .regularExpression) != nil }) {
            return program
        }
        guard let index = lines.firstIndex(where: { $0.range(of: #"^def\s+[A-Za-z_]\w*\s*\("#, options: .regularExpression) != nil }) else {
            return nil
        }
        var renamed = lines
        renamed[index] = lines[index].replacingOccurrences(of: #"^def\s+[A-Za-z_]\w*"#, with: "def f", options: .regularExpression)
        return renamed.joined(separator: "\n")
    }

    /// The first rule the program breaks, or nil.
    public static func violation(in program: String, banned: [String]) -> String? {
        if let module = imports(of: program).first(where: { banned.contains($0) }) { return "imports \(module)" }
        if let text = bannedText.first(where: { program.contains($0) }) { return "uses \(text)" }
        if program.range(of: #"(^|[^\w.])input\s*\("#, options: .regularExpression) != nil { return "calls input()" }
        return nil
    }
}
