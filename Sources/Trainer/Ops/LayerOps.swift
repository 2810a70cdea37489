import CBLAS
import Foundation

// The training pass is built from forward/backward pairs over raw buffers, one pair per operation (llm.c's
// shape): each backward takes the forward's inputs and saved values and the gradient of its output, and adds to
// (or writes) the gradients of its inputs and weights. Each pair is checked alone against finite differences
// (OpGradientTests).

/// y = x · r · w with r = (mean(x²) + ε)^(−½), row by row.
enum RMSNorm {
    /// `inverseRMS` receives each row's r, which the backward pass needs.
    static func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                        inverseRMS: UnsafeMutablePointer<Float>?, rows: Int, dimension: Int, epsilon: Float) {
        Kernels.rmsNorm(x, weight, y, rows: rows, dimension: dimension, epsilon: epsilon, inverseRMS: inverseRMS)
    }

    /// dw += Σ dy·x·r; dx (+)= r·w·dy − x · r³/n · Σ(dy·w·x).
    static func backward(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, inverseRMS: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
                         into dx: UnsafeMutablePointer<Float>, accumulate: Bool, rows: Int, dimension: Int) {
        for row in 0..<rows {
            let r = inverseRMS[row], base = row * dimension
            let dyRow = dy + base, xRow = x + base, dxRow = dx + base
            var dot: Float = 0
            for i in 0..<dimension {
                dot += dyRow[i] * weight[i] * xRow[i]
                weightGradient[i] += dyRow[i] * xRow[i] * r
            }
            let coefficient = r * r * r / Float(dimension) * dot
            if accumulate {
                for i in 0..<dimension { dxRow[i] += r * weight[i] * dyRow[i] - xRow[i] * coefficient }
            } else {
                for i in 0..<dimension { dxRow[i] = r * weight[i] * dyRow[i] - xRow[i] * coefficient }
            }
        }
    }
}

/// y (rows × outputs) (+)= x (rows × inputs) · wᵀ, w stored (outputs, inputs) as PyTorch does.
enum Linear {
    static func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                        rows: Int, inputs: Int, outputs: Int, accumulate: Bool = false) {
        Kernels.linear(x, weight, y, rows: rows, inputs: inputs, outputs: outputs, accumulate: accumulate)
    }

    /// dx (rows × inputs) (+)= dy · w, and dw (outputs × inputs) += dyᵀ · x.
    static func backward(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         weightGradient: UnsafeMutablePointer<Float>, into dx: UnsafeMutablePointer<Float>, accumulate: Bool,
                         rows: Int, inputs: Int, outputs: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inputs), Int32(outputs), 1,
                    dy, Int32(outputs), weight, Int32(inputs), accumulate ? 1 : 0, dx, Int32(inputs))
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(rows), 1,
                    dy, Int32(outputs), x, Int32(inputs), 1, weightGradient, Int32(inputs))
    }
}

/// A bias added to every row.
enum Bias {
    static func forward(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, count: Int) {
        Kernels.addBias(x, bias, rows: rows, count: count)
    }

    /// db += Σ_rows dy (the input's gradient passes through unchanged).
    static func backward(_ dy: UnsafePointer<Float>, biasGradient: UnsafeMutablePointer<Float>, rows: Int, count: Int) {
        Kernels.sumRows(dy, into: biasGradient, rows: rows, count: count)
    }
}

/// Rotary position embedding, in place. A rotation's backward is the rotation by the opposite angle.
enum Rope {
    static func forward(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, firstPosition: Int, table: RopeTable, style: RopeStyle) {
        Kernels.rope(x, rows: rows, heads: heads, firstPosition: firstPosition, table: table, style: style)
    }

    static func backward(_ dx: UnsafeMutablePointer<Float>, rows: Int, heads: Int, firstPosition: Int, table: RopeTable, style: RopeStyle) {
        Kernels.rope(dx, rows: rows, heads: heads, firstPosition: firstPosition, table: table, style: style, inverse: true)
    }
}

/// out = silu(gate) · up.
enum SwiGLU {
    static func forward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        out.update(from: gate, count: count)
        Kernels.swiglu(out, up, count: count)
    }

    /// d up = dy · silu(g); d gate = dy · up · σ(g)(1 + g(1 − σ(g))). Both written, not added.
    static func backward(_ dy: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                         gateGradient: UnsafeMutablePointer<Float>, upGradient: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i], sigmoid = 1 / (1 + expf(-g)), upstream = dy[i]
            upGradient[i] = upstream * g * sigmoid
            gateGradient[i] = upstream * up[i] * sigmoid * (1 + g * (1 - sigmoid))
        }
    }
}

/// Token embedding lookup.
enum Embedding {
    static func forward(_ tokens: [Int32], table: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, dimension d: Int) {
        for (t, token) in tokens.enumerated() { (x + t * d).update(from: table + Int(token) * d, count: d) }
    }

    /// Adds each row's gradient to its token's row of the table's gradient.
    static func backward(_ dx: UnsafePointer<Float>, tokens: [Int32], tableGradient: UnsafeMutablePointer<Float>, dimension d: Int) {
        for (t, token) in tokens.enumerated() {
            let row = tableGradient + Int(token) * d, source = dx + t * d
            for i in 0..<d { row[i] += source[i] }
        }
    }
}
