import CBLAS
import Foundation

/// Causal multi-head attention with grouped K/V heads, tiled over blocks of query rows so that memory grows
/// linearly with the sequence: the forward pass keeps only each row's log-sum-exp (heads × T floats), and the
/// backward pass recomputes each block's probabilities from it (as FlashAttention does) instead of storing
/// heads × T² of them. Every product is a BLAS GEMM over strided views of Q (T × heads·hd), K and V
/// (T × kvHeads·hd).
enum CausalAttention {
    struct Shape {
        var rows: Int
        var heads: Int
        var kvHeads: Int
        var headDimension: Int
        /// Query rows per tile.
        var block: Int = 128

        var dimension: Int { heads * headDimension }
        var kvDimension: Int { kvHeads * headDimension }
        var scale: Float { 1 / Float(headDimension).squareRoot() }
    }

    /// Scratch floats one call needs: two block × T tiles and one row of per-row sums.
    static func scratchFloats(rows: Int, block: Int = 128) -> Int { 2 * min(block, rows) * rows + rows }

    /// out = softmax(scale · Q·Kᵀ, causal) · V per head; `logSumExp` (heads × T) receives each row's normaliser.
    static func forward(query q: UnsafePointer<Float>, key k: UnsafePointer<Float>, value v: UnsafePointer<Float>,
                        into out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
                        shape s: Shape, scratch: UnsafeMutablePointer<Float>) {
        let d = s.dimension, kv = s.kvDimension, hd = s.headDimension, group = s.heads / s.kvHeads, T = s.rows
        let tile = scratch
        for head in 0..<s.heads {
            let kvHead = head / group
            for first in stride(from: 0, to: T, by: s.block) {
                let count = min(s.block, T - first), visible = first + count
                scores(q, k, head: head, kvHead: kvHead, first: first, count: count, shape: s, into: tile)
                for row in 0..<count {
                    let line = tile + row * visible, seen = first + row + 1
                    let normaliser = Kernels.logSumExp(UnsafeBufferPointer(start: line, count: seen))
                    logSumExp[head * T + first + row] = normaliser
                    VectorExp.expInPlace(line, count: seen, shift: normaliser)
                    (line + seen).update(repeating: 0, count: visible - seen)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(hd), Int32(visible), 1,
                            tile, Int32(visible), v + kvHead * hd, Int32(kv), 0, out + first * d + head * hd, Int32(d))
            }
        }
    }

    /// Given dOut, writes dQ and adds to dK and dV (which the caller zeroes for a fresh sequence).
    static func backward(_ dOut: UnsafePointer<Float>, query q: UnsafePointer<Float>, key k: UnsafePointer<Float>,
                         value v: UnsafePointer<Float>, output out: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>,
                         queryGradient dq: UnsafeMutablePointer<Float>, keyGradient dk: UnsafeMutablePointer<Float>,
                         valueGradient dv: UnsafeMutablePointer<Float>, shape s: Shape, scratch: UnsafeMutablePointer<Float>) {
        let d = s.dimension, kv = s.kvDimension, hd = s.headDimension, group = s.heads / s.kvHeads, T = s.rows
        let blockRows = min(s.block, T)
        let probabilities = scratch, dP = scratch + blockRows * T, rowTerms = scratch + 2 * blockRows * T
        for head in 0..<s.heads {
            let kvHead = head / group
            // D_t = Σ_j P_tj · dP_tj = dO_t · O_t: the softmax backward's per-row term.
            for t in 0..<T { rowTerms[t] = Kernels.dot(dOut + t * d + head * hd, out + t * d + head * hd, count: hd) }
            for first in stride(from: 0, to: T, by: s.block) {
                let count = min(s.block, T - first), visible = first + count
                scores(q, k, head: head, kvHead: kvHead, first: first, count: count, shape: s, into: probabilities)
                for row in 0..<count {
                    let line = probabilities + row * visible, seen = first + row + 1
                    VectorExp.expInPlace(line, count: seen, shift: logSumExp[head * T + first + row])
                    (line + seen).update(repeating: 0, count: visible - seen)
                }
                let dOutBlock = dOut + first * d + head * hd
                // dP = dO · Vᵀ, dV += Pᵀ · dO.
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(visible), Int32(hd), 1,
                            dOutBlock, Int32(d), v + kvHead * hd, Int32(kv), 0, dP, Int32(visible))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(visible), Int32(hd), Int32(count), 1,
                            probabilities, Int32(visible), dOutBlock, Int32(d), 1, dv + kvHead * hd, Int32(kv))
                // dS = P ⊙ (dP − D), zero above the diagonal (P is).
                for row in 0..<count {
                    let pLine = probabilities + row * visible, dLine = dP + row * visible, term = rowTerms[first + row]
                    for j in 0..<visible { dLine[j] = pLine[j] * (dLine[j] - term) }
                }
                // dQ = scale · dS · K, dK += scale · dSᵀ · Q.
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(hd), Int32(visible), s.scale,
                            dP, Int32(visible), k + kvHead * hd, Int32(kv), 0, dq + first * d + head * hd, Int32(d))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(visible), Int32(hd), Int32(count), s.scale,
                            dP, Int32(visible), q + first * d + head * hd, Int32(d), 1, dk + kvHead * hd, Int32(kv))
            }
        }
    }

    /// tile (count × visible) = scale · Q[first ..< first+count, head] · K[0 ..< visible, kvHead]ᵀ.
    private static func scores(_ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, head: Int, kvHead: Int, first: Int, count: Int,
                               shape s: Shape, into tile: UnsafeMutablePointer<Float>) {
        let d = s.dimension, kv = s.kvDimension, hd = s.headDimension, visible = first + count
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(visible), Int32(hd), s.scale,
                    q + first * d + head * hd, Int32(d), k + kvHead * hd, Int32(kv), 0, tile, Int32(visible))
    }
}
