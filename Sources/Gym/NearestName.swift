/// The known name closest to a mistyped one, for "did you mean" hints in error messages.
public enum NearestName {
    /// The candidate with the smallest edit distance to `name`, if it is close enough to be a likely typo
    /// (at most a third of the name's length, and at least 1 edit allowed).
    public static func closest(to name: String, in candidates: [String]) -> String? {
        let limit = max(1, name.count / 3)
        let scored = candidates.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= limit }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// `unknown key "x"`, with the closest known name as a hint when there is one.
    public static func unknown(_ what: String, _ name: String, known: [String]) -> String {
        let hint = closest(to: name, in: known).map { " (did you mean \"\($0)\"?)" } ?? ""
        return "unknown \(what) \"\(name)\"\(hint)"
    }
}
