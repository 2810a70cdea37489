import CBLAS
import Foundation

/// cos and sin of every RoPE angle for the first `positions` positions, computed once per model: sin, cos and
/// pow per pair per row otherwise cost more than the rotation.
final class RopeTable {
    let pairs: Int
    let positions: Int
    private let frequencies: [Double]
    private let values: UnsafeMutableBufferPointer<Float>

    init(theta: Float, headDimension: Int, positions: Int) {
        pairs = headDimension / 2
        self.positions = positions
        frequencies = (0..<headDimension / 2).map { pow(Double(theta), -Double(2 * $0) / Double(headDimension)) }
        values = .allocate(capacity: positions * headDimension)
        for position in 0..<positions { compute(position: position, into: values.baseAddress! + position * headDimension) }
    }

    deinit { values.deallocate() }

    private func compute(position: Int, into out: UnsafeMutablePointer<Float>) {
        for pair in 0..<pairs {
            let angle = Double(position) * frequencies[pair]
            out[2 * pair] = Float(cos(angle))
            out[2 * pair + 1] = Float(sin(angle))
        }
    }

    /// (cos, sin) interleaved for each pair at `position`.
    func fill(position: Int, into out: UnsafeMutablePointer<Float>) {
        if position < positions {
            out.update(from: values.baseAddress! + position * 2 * pairs, count: 2 * pairs)
        } else {
            compute(position: position, into: out)
        }
    }
}

/// The forward kernels. GEMMs go to OpenBLAS; the rest are raw-pointer loops the compiler vectorises.
enum Kernels {
    /// y (rows × outputs) = x (rows × inputs) · wᵀ, w stored (outputs, inputs) as PyTorch does; adds to y
    /// when `accumulate`.
    static func linear(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       rows: Int, inputs: Int, outputs: Int, accumulate: Bool = false) {
        // One row is a matrix-vector product: sgemm would repack the whole weight matrix for it.
        guard rows > 1 else {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outputs), Int32(inputs), 1, w, Int32(inputs), x, 1, accumulate ? 1 : 0, y, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                     x, Int32(inputs), w, Int32(inputs), accumulate ? 1 : 0, y, Int32(outputs))
    }

    /// y (+)= xᵀ for x (rows × columns): y has `columns` rows of `stride` floats, of which the first `rows` are
    /// written. In cache-sized tiles.
    static func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into y: UnsafeMutablePointer<Float>, stride: Int,
                          accumulate: Bool) {
        let tile = 32
        for rowBlock in Swift.stride(from: 0, to: rows, by: tile) {
            for columnBlock in Swift.stride(from: 0, to: columns, by: tile) {
                for column in columnBlock..<min(columnBlock + tile, columns) {
                    let target = y + column * stride
                    for row in rowBlock..<min(rowBlock + tile, rows) {
                        if accumulate { target[row] += x[row * columns + column] } else { target[row] = x[row * columns + column] }
                    }
                }
            }
        }
    }

    /// Σ a[i]·b[i]. The compiler will not reorder a float sum, so a plain loop runs one dependent add per
    /// element; two SIMD8 accumulators keep the FMA units busy.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var first = SIMD8<Float>(), second = SIMD8<Float>()
        var i = 0
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        while i + 16 <= count {
            first.addProduct(rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self),
                             rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            second.addProduct(rawA.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self),
                              rawB.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self))
            i += 16
        }
        var sum = (first + second).sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// out = x / sqrt(mean(x²) + eps) · weight, row by row; `inverseRMS`, when given, receives each row's
    /// 1 / sqrt(mean(x²) + eps), which the backward pass needs.
    static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                        rows: Int, dimension: Int, epsilon: Float, inverseRMS: UnsafeMutablePointer<Float>? = nil) {
        for row in 0..<rows {
            let input = x + row * dimension, output = out + row * dimension
            var sum = 0.0
            for i in 0..<dimension { sum += Double(input[i]) * Double(input[i]) }
            let scale = Float(1 / (sum / Double(dimension) + Double(epsilon)).squareRoot())
            inverseRMS?[row] = scale
            for i in 0..<dimension { output[i] = input[i] * scale * weight[i] }
        }
    }

    /// Rotates each head's coordinate pairs by position × θ^(−2i/headDimension), angles from `table`;
    /// `style` says which coordinates pair up. `inverse` rotates the other way, which is RoPE's backward pass.
    static func rope(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, firstPosition: Int, table: RopeTable,
                     style: RopeStyle, inverse: Bool = false) {
        let pairs = table.pairs, headDimension = 2 * pairs
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * pairs) { angles in
            for row in 0..<rows {
                table.fill(position: firstPosition + row, into: angles.baseAddress!)
                for pair in 0..<pairs {
                    let c = angles[2 * pair], s = inverse ? -angles[2 * pair + 1] : angles[2 * pair + 1]
                    let (first, second) = style == .adjacent ? (2 * pair, 2 * pair + 1) : (pair, pair + pairs)
                    for head in 0..<heads {
                        let p = x + (row * heads + head) * headDimension
                        let a = p[first], b = p[second]
                        p[first] = a * c - b * s
                        p[second] = a * s + b * c
                    }
                }
            }
        }
    }

    /// x *= factor.
    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        for i in 0..<count { x[i] *= factor }
    }

    /// Adds `bias` to every row of x (rows × count).
    static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, count: Int) {
        for row in 0..<rows {
            let line = x + row * count
            for i in 0..<count { line[i] += bias[i] }
        }
    }

    /// gradient[i] += Σ_rows dy[row, i]: a bias's gradient.
    static func sumRows(_ dy: UnsafePointer<Float>, into gradient: UnsafeMutablePointer<Float>, rows: Int, count: Int) {
        for row in 0..<rows {
            let line = dy + row * count
            for i in 0..<count { gradient[i] += line[i] }
        }
    }

    /// log Σ exp(row), shifted by the maximum (SIMD exp, sums in SIMD lanes).
    static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Float {
        guard let base = row.baseAddress, !row.isEmpty else { return -.infinity }
        let maximum = VectorExp.maximum(base, count: row.count)
        guard maximum.isFinite else { return maximum }
        return log(VectorExp.sumExp(base, count: row.count, shift: maximum)) + maximum
    }

    /// log Σ exp(row) and the entropy −Σ p·log p of softmax(row).
    static func logSumExpAndEntropy(_ row: UnsafePointer<Float>, count: Int) -> (Float, Float) {
        let maximum = VectorExp.maximum(row, count: count)
        let (sum, weighted) = VectorExp.sumExpAndWeighted(row, count: count, shift: maximum)
        let logSum = log(sum)
        return (logSum + maximum, logSum - weighted / sum)
    }

    static func logSumExp(_ row: ArraySlice<Float>) -> Float {
        row.withUnsafeBufferPointer { logSumExp($0) }
    }

    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let maximum = VectorExp.maximum(x, count: count)
        let sum = VectorExp.sumExp(x, count: count, shift: maximum)
        VectorExp.expInPlace(x, count: count, shift: maximum, scale: 1 / sum)
    }

    /// gate = silu(gate) · up, in place.
    static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }
}
