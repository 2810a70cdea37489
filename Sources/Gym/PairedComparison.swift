import Foundation

/// Before/after on the same problems: the change in solve rate with a 95% confidence interval, and McNemar's
/// exact test on the problems whose verdict changed.
public struct PairedComparison: Codable, Sendable, Equatable {
    public var problems: Int
    public var before: Double
    public var after: Double
    /// Solved after but not before, and before but not after.
    public var gained: Int
    public var lost: Int
    /// 95% interval of after − before (Wald interval for a paired difference of proportions).
    public var low: Double
    public var high: Double
    /// Two-sided exact McNemar p-value: the binomial test of `gained` against `gained + lost` at one half.
    public var pValue: Double

    public var change: Double { after - before }

    enum CodingKeys: String, CodingKey {
        case problems, before, after, gained, lost, low, high
        case pValue = "p_value"
    }

    public init(before: [Bool], after: [Bool]) {
        precondition(before.count == after.count, "paired verdicts must cover the same problems")
        let n = before.count
        problems = n
        let solvedBefore = before.filter { $0 }.count, solvedAfter = after.filter { $0 }.count
        self.before = n == 0 ? 0 : Double(solvedBefore) / Double(n)
        self.after = n == 0 ? 0 : Double(solvedAfter) / Double(n)
        gained = zip(before, after).filter { !$0 && $1 }.count
        lost = zip(before, after).filter { $0 && !$1 }.count
        if n == 0 {
            (low, high) = (0, 0)
        } else {
            let difference = Double(gained - lost) / Double(n)
            let variance = (Double(gained + lost) / Double(n) - difference * difference) / Double(n)
            let half = 1.959964 * variance.squareRoot()
            (low, high) = (difference - half, difference + half)
        }
        pValue = Self.mcnemarExact(gained, lost)
    }

    /// P(as extreme as the observed split | each changed problem goes either way with probability ½), two-sided.
    static func mcnemarExact(_ b: Int, _ c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        let k = min(b, c)
        // log C(n, i) − n log 2, summed in linear space from the tail.
        var tail = 0.0
        for i in 0...k {
            tail += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) - Double(n) * log(2))
        }
        return min(1, 2 * tail)
    }

    /// "+4.0 [−1.2, +9.2], p = 0.13" in points.
    public var text: String {
        String(format: "%+.1f [%+.1f, %+.1f], p = %.2g", change * 100, low * 100, high * 100, pValue)
    }
}
