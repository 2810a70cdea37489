import CBLAS
import Foundation

/// The forward kernels. GEMMs go to OpenBLAS; the rest are raw-pointer loops the compiler vectorises.
enum Kernels {
    /// y (rows × outputs) = x (rows × inputs) · wᵀ, w stored (outputs, inputs) as PyTorch does; adds to y
    /// when `accumulate`.
    static func linear(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       rows: Int, inputs: Int, outputs: Int, accumulate: Bool = false) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                     x, Int32(inputs), w, Int32(inputs), accumulate ? 1 : 0, y, Int32(outputs))
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

    /// Rotates adjacent pairs (2i, 2i+1) of every head by position × θ^(−2i/headDimension): llama GGUF files
    /// store Q and K permuted for this pairing. `inverse` rotates the other way, which is RoPE's backward pass.
    static func rope(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDimension: Int, firstPosition: Int, theta: Float,
                     inverse: Bool = false) {
        for row in 0..<rows {
            let position = Double(firstPosition + row)
            for pair in 0..<headDimension / 2 {
                let angle = position * pow(Double(theta), -Double(2 * pair) / Double(headDimension))
                let c = Float(cos(angle)), s = inverse ? -Float(sin(angle)) : Float(sin(angle))
                for head in 0..<heads {
                    let p = x + (row * heads + head) * headDimension + 2 * pair
                    let a = p[0], b = p[1]
                    p[0] = a * c - b * s
                    p[1] = a * s + b * c
                }
            }
        }
    }

    /// log Σ exp(row), shifted by the maximum and summed in double precision.
    static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Float {
        var maximum = -Float.infinity
        for value in row { maximum = max(maximum, value) }
        var sum = 0.0
        for value in row { sum += Double(expf(value - maximum)) }
        return Float(log(sum)) + maximum
    }

    static func logSumExp(_ row: ArraySlice<Float>) -> Float {
        row.withUnsafeBufferPointer { logSumExp($0) }
    }

    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for i in 0..<count { maximum = max(maximum, x[i]) }
        var sum: Float = 0
        for i in 0..<count {
            x[i] = expf(x[i] - maximum)
            sum += x[i]
        }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }

    /// gate = silu(gate) · up, in place.
    static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }
}
