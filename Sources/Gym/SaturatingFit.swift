import Foundation

/// The saturating curve SGS fits to a cumulative solve rate (arXiv 2604.20209, appendix A, after Khatri et al.
/// 2025): a sigmoid in log compute,
///
///     R(C) = R0 + (A − R0) / (1 + (C_mid / C)^B),
///
/// with R0 the first observed rate (not a free parameter), A the asymptote, C_mid the midpoint and B the
/// steepness. Here C counts self-play rounds (each round spends the same generation budget, so rounds are
/// proportional to the paper's generations). A, C_mid and B minimise the squared residuals (Nelder–Mead from
/// a fixed grid of starts, so the same points always give the same fit). The paper drops its first 100,000
/// generations before fitting; a CPU run has too few rounds to drop any.
public struct SaturatingFit: Sendable, Equatable {
    public var r0: Double
    /// A: the rate the curve approaches.
    public var asymptote: Double
    /// C_mid: the round at which half of A − R0 is gained.
    public var midpoint: Double
    /// B: how fast the curve approaches A.
    public var exponent: Double
    /// Sum of squared residuals over the fitted points.
    public var residual: Double

    public func value(at c: Double) -> Double {
        guard c > 0 else { return r0 }
        return r0 + (asymptote - r0) / (1 + pow(midpoint / c, exponent))
    }

    /// The least-squares fit to `points` (x > 0, in order), with A in [R0, `ceiling`]; nil with fewer than four
    /// points.
    public static func fit(_ points: [(x: Double, y: Double)], ceiling: Double = 1) -> SaturatingFit? {
        let used = points.filter { $0.x > 0 && $0.y.isFinite }
        guard used.count >= 4, let first = used.first else { return nil }
        let r0 = first.y
        let top = max(ceiling, used.map(\.y).max()!)
        func model(_ p: [Double]) -> SaturatingFit {
            // A in [R0, top] through a logistic; C_mid and B positive through exp.
            let a = r0 + (top - r0) / (1 + exp(-p[0]))
            return SaturatingFit(r0: r0, asymptote: a, midpoint: exp(p[1]), exponent: exp(p[2]), residual: 0)
        }
        func loss(_ p: [Double]) -> Double {
            let curve = model(p)
            return used.reduce(0) { $0 + pow(curve.value(at: $1.x) - $1.y, 2) }
        }
        let middle = log(used[used.count / 2].x)
        var best: (p: [Double], loss: Double)?
        for a in [-2.0, 0, 2] {
            for c in [middle - 1, middle, middle + 1.5] {
                for b in [log(0.5), 0, log(2.0)] {
                    let found = nelderMead(loss, start: [a, c, b])
                    if best == nil || found.loss < best!.loss { best = found }
                }
            }
        }
        guard let best else { return nil }
        var fit = model(best.p)
        fit.residual = best.loss
        return fit
    }

    /// Minimises `f` from `start` with the Nelder–Mead simplex (reflection, expansion, contraction, shrink).
    static func nelderMead(_ f: ([Double]) -> Double, start: [Double], step: Double = 0.5, iterations: Int = 400) -> (p: [Double], loss: Double) {
        let n = start.count
        var simplex = [start] + (0..<n).map { i -> [Double] in var p = start; p[i] += step; return p }
        var values = simplex.map(f)
        func combine(_ a: [Double], _ b: [Double], _ t: Double) -> [Double] { zip(a, b).map { $0 + t * ($1 - $0) } }
        for _ in 0..<iterations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            if values[n] - values[0] < 1e-14 { break }
            let centroid = (0..<n).map { i in simplex[0..<n].reduce(0) { $0 + $1[i] } / Double(n) }
            let reflected = combine(centroid, simplex[n], -1)
            let fr = f(reflected)
            if fr < values[0] {
                let expanded = combine(centroid, simplex[n], -2)
                let fe = f(expanded)
                if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
            } else if fr < values[n - 1] {
                simplex[n] = reflected; values[n] = fr
            } else {
                let contracted = combine(centroid, simplex[n], 0.5)
                let fc = f(contracted)
                if fc < values[n] {
                    simplex[n] = contracted; values[n] = fc
                } else {
                    for i in 1...n {
                        simplex[i] = combine(simplex[0], simplex[i], 0.5)
                        values[i] = f(simplex[i])
                    }
                }
            }
        }
        let bestIndex = values.indices.min { values[$0] < values[$1] }!
        return (simplex[bestIndex], values[bestIndex])
    }
}
