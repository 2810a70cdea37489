import Foundation

/// exp over SIMD lanes, and the vocabulary-sized loops built on it (maximum, Σ exp, softmax, log-sum-exp):
/// glibc's expf runs one value at a time at about 260 M/s, and the sampler, the log-softmax of every scored
/// position and attention's softmax each call it once per logit.
enum VectorExp {
    typealias Lanes = SIMD8<Float> // SIMD16 and `clamped` compile to scalar code here, several times slower
    static let width = Lanes.scalarCount

    /// e^x with a relative error below 2e-7 over [−87, 88]; smaller inputs give a tiny positive number instead of
    /// 0 (below 1e-37, which no sum or probability here can tell from 0).
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        // `replace(with:where:)` compiles to a blend; pointwiseMin/Max stay out-of-line calls, 6× slower.
        let low = Lanes(repeating: -87.3), high = Lanes(repeating: 88.7)
        var clamped = x
        clamped.replace(with: low, where: x .< low)
        clamped.replace(with: high, where: x .> high)
        // x = n·ln 2 + r, |r| ≤ ln 2 / 2; n by the round-to-nearest shifter trick (1.5·2²³).
        let shifter = Lanes(repeating: 12_582_912)
        let t = clamped * Lanes(repeating: 1.442_695_040_9) + shifter
        let n = t - shifter
        var r = clamped.addingProduct(n, Lanes(repeating: -0.693_145_751_953_125))
        r = r.addingProduct(n, Lanes(repeating: -1.428_606_765_330_187_045e-6))
        // e^r by its Taylor polynomial to r⁶ (Horner, fused).
        var p = Lanes(repeating: 1.0 / 120).addingProduct(Lanes(repeating: 1.0 / 720), r)
        p = Lanes(repeating: 1.0 / 24).addingProduct(p, r)
        p = Lanes(repeating: 1.0 / 6).addingProduct(p, r)
        p = Lanes(repeating: 0.5).addingProduct(p, r)
        p = Lanes(repeating: 1).addingProduct(p, r)
        p = Lanes(repeating: 1).addingProduct(p, r)
        // 2ⁿ from the shifter's low bits: (n + 127) << 23.
        let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(shifter, to: SIMD8<Int32>.self) &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: Lanes.self)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    static func store(_ value: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: value, as: Lanes.self) }

    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var best = Lanes(repeating: -.infinity)
        var i = 0
        while i + width <= count {
            let value = load(x + i)
            best.replace(with: value, where: value .> best)
            i += width
        }
        var result = best.max()
        while i < count {
            result = max(result, x[i])
            i += 1
        }
        return result
    }

    /// Σ e^((x[i] − shift)·scale).
    static func sumExp(_ x: UnsafePointer<Float>, count: Int, shift: Float, scale: Float = 1) -> Float {
        var first = Lanes(), second = Lanes()
        let s = Lanes(repeating: shift), k = Lanes(repeating: scale)
        var i = 0
        while i + 2 * width <= count {
            first += exp((load(x + i) - s) * k)
            second += exp((load(x + i + width) - s) * k)
            i += 2 * width
        }
        var total = (first + second).sum()
        while i < count {
            total += Foundation.exp((x[i] - shift) * scale)
            i += 1
        }
        return total
    }

    /// Σ e^(x[i] − shift) and Σ e^(x[i] − shift)·(x[i] − shift), for an entropy.
    static func sumExpAndWeighted(_ x: UnsafePointer<Float>, count: Int, shift: Float) -> (Float, Float) {
        var sum = Lanes(), weighted = Lanes()
        let s = Lanes(repeating: shift)
        var i = 0
        while i + width <= count {
            let shifted = load(x + i) - s, e = exp(shifted)
            sum += e
            weighted = weighted.addingProduct(e, shifted)
            i += width
        }
        var total = sum.sum(), totalWeighted = weighted.sum()
        while i < count {
            let shifted = x[i] - shift, e = Foundation.exp(shifted)
            total += e
            totalWeighted += e * shifted
            i += 1
        }
        return (total, totalWeighted)
    }

    /// x[i] = scale · e^(x[i] − shift), in place.
    static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float, scale: Float = 1) {
        let s = Lanes(repeating: shift), k = Lanes(repeating: scale)
        var i = 0
        while i + width <= count {
            store(k * exp(load(x + i) - s), x + i)
            i += width
        }
        while i < count {
            x[i] = scale * Foundation.exp(x[i] - shift)
            i += 1
        }
    }
}
