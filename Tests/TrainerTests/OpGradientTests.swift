import Foundation
@testable import Trainer
import XCTest

/// Each training operation's backward against central finite differences of its own forward, alone: the
/// objective is J = Σ rᵢ·yᵢ for a fixed random r, so dJ/dy = r is the upstream gradient given to backward.
final class OpGradientTests: XCTestCase {
    var state: UInt64 = 77

    func random(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return scale * (Float(Int(state >> 40) % 2001) / 1000 - 1)
        }
    }

    /// Compares `analytic` with (J(x + h) − J(x − h)) / 2h at a few coordinates of `x`.
    func check(_ name: String, _ x: inout [Float], analytic: [Float], coordinates: Int = 12, step: Float = 1e-2,
               objective: ([Float]) -> Double) {
        for probe in 0..<coordinates {
            let i = (probe * 7919 + 3) % x.count
            let original = x[i]
            x[i] = original + step
            let plus = objective(x)
            x[i] = original - step
            let minus = objective(x)
            x[i] = original
            let numeric = (plus - minus) / (2 * Double(step))
            XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 1e-2 * max(abs(numeric), 1) + 1e-3, "\(name)[\(i)]")
        }
    }

    func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }

    func testRMSNorm() {
        let rows = 3, d = 10
        var x = random(rows * d), weight = random(d)
        let r = random(rows * d)
        func forward(_ x: [Float], _ weight: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: rows * d)
            RMSNorm.forward(x, weight: weight, into: &y, inverseRMS: nil, rows: rows, dimension: d, epsilon: 1e-5)
            return y
        }
        var inverse = [Float](repeating: 0, count: rows), y = [Float](repeating: 0, count: rows * d)
        RMSNorm.forward(x, weight: weight, into: &y, inverseRMS: &inverse, rows: rows, dimension: d, epsilon: 1e-5)
        var dx = [Float](repeating: 0, count: rows * d), dw = [Float](repeating: 0, count: d)
        RMSNorm.backward(r, x: x, inverseRMS: inverse, weight: weight, weightGradient: &dw, into: &dx, accumulate: false, rows: rows, dimension: d)
        check("x", &x, analytic: dx) { self.dot(forward($0, weight), r) }
        check("weight", &weight, analytic: dw) { self.dot(forward(x, $0), r) }
    }

    func testLinearAndBias() {
        let rows = 4, inputs = 6, outputs = 5
        var x = random(rows * inputs), w = random(outputs * inputs)
        let r = random(rows * outputs)
        func forward(_ x: [Float], _ w: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: rows * outputs)
            Linear.forward(x, weight: w, into: &y, rows: rows, inputs: inputs, outputs: outputs)
            return y
        }
        var dx = [Float](repeating: 0, count: rows * inputs), dw = [Float](repeating: 0, count: outputs * inputs)
        Linear.backward(r, x: x, weight: w, weightGradient: &dw, into: &dx, accumulate: false, rows: rows, inputs: inputs, outputs: outputs)
        check("x", &x, analytic: dx) { self.dot(forward($0, w), r) }
        check("w", &w, analytic: dw) { self.dot(forward(x, $0), r) }
        var bias = random(outputs), db = [Float](repeating: 0, count: outputs)
        Bias.backward(r, biasGradient: &db, rows: rows, count: outputs)
        check("bias", &bias, analytic: db, coordinates: outputs) { bias in
            var y = [Float](repeating: 0, count: rows * outputs)
            Bias.forward(&y, bias: bias, rows: rows, count: outputs)
            return self.dot(y, r)
        }
    }

    func testSwiGLU() {
        let count = 40
        var gate = random(count, scale: 3), up = random(count)
        let r = random(count)
        func forward(_ gate: [Float], _ up: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: count)
            SwiGLU.forward(gate: gate, up: up, into: &y, count: count)
            return y
        }
        var dGate = [Float](repeating: 0, count: count), dUp = [Float](repeating: 0, count: count)
        SwiGLU.backward(r, gate: gate, up: up, gateGradient: &dGate, upGradient: &dUp, count: count)
        check("gate", &gate, analytic: dGate) { self.dot(forward($0, up), r) }
        check("up", &up, analytic: dUp) { self.dot(forward(gate, $0), r) }
    }

    func testRopeBackwardIsTheInverseRotation() {
        let table = RopeTable(theta: 100, headDimension: 8, positions: 16)
        for style in [RopeStyle.adjacent, .halves] {
            let rows = 5, heads = 2
            var x = random(rows * heads * 8)
            let r = random(rows * heads * 8)
            var dx = r
            Rope.backward(&dx, rows: rows, heads: heads, firstPosition: 3, table: table, style: style)
            check("rope \(style)", &x, analytic: dx) { x in
                var y = x
                Rope.forward(&y, rows: rows, heads: heads, firstPosition: 3, table: table, style: style)
                return self.dot(y, r)
            }
        }
    }

    /// Plain causal attention over the whole T × T score matrix, for the tiled kernel to match.
    func naiveAttention(q: [Float], k: [Float], v: [Float], shape s: CausalAttention.Shape) -> [Float] {
        let d = s.dimension, kv = s.kvDimension, hd = s.headDimension, group = s.heads / s.kvHeads
        var out = [Float](repeating: 0, count: s.rows * d)
        for head in 0..<s.heads {
            let kvHead = head / group
            for t in 0..<s.rows {
                var scores = (0...t).map { j in
                    (0..<hd).reduce(Float(0)) { $0 + q[t * d + head * hd + $1] * k[j * kv + kvHead * hd + $1] } * s.scale
                }
                let maximum = scores.max()!
                scores = scores.map { expf($0 - maximum) }
                let sum = scores.reduce(0, +)
                for j in 0...t {
                    for i in 0..<hd { out[t * d + head * hd + i] += scores[j] / sum * v[j * kv + kvHead * hd + i] }
                }
            }
        }
        return out
    }

    func testTiledAttentionMatchesPlainAttentionAndFiniteDifferences() {
        // Blocks of 3 rows over 8 rows: full blocks, a short last block, and grouped K/V heads.
        let shape = CausalAttention.Shape(rows: 8, heads: 4, kvHeads: 2, headDimension: 4, block: 3)
        let T = shape.rows, d = shape.dimension, kv = shape.kvDimension
        var q = random(T * d), k = random(T * kv), v = random(T * kv)
        let r = random(T * d)
        var scratch = [Float](repeating: 0, count: CausalAttention.scratchFloats(rows: T, block: shape.block))
        func forward(_ q: [Float], _ k: [Float], _ v: [Float]) -> (out: [Float], lse: [Float]) {
            var out = [Float](repeating: 0, count: T * d), lse = [Float](repeating: 0, count: shape.heads * T)
            CausalAttention.forward(query: q, key: k, value: v, into: &out, logSumExp: &lse, shape: shape, scratch: &scratch)
            return (out, lse)
        }
        let (out, lse) = forward(q, k, v)
        for (ours, plain) in zip(out, naiveAttention(q: q, k: k, v: v, shape: shape)) { XCTAssertEqual(ours, plain, accuracy: 1e-5) }
        var dq = [Float](repeating: 0, count: T * d), dk = [Float](repeating: 0, count: T * kv), dv = [Float](repeating: 0, count: T * kv)
        CausalAttention.backward(r, query: q, key: k, value: v, output: out, logSumExp: lse, queryGradient: &dq, keyGradient: &dk,
                                 valueGradient: &dv, shape: shape, scratch: &scratch)
        check("query", &q, analytic: dq, coordinates: 20) { self.dot(forward($0, k, v).out, r) }
        check("key", &k, analytic: dk, coordinates: 20) { self.dot(forward(q, $0, v).out, r) }
        check("value", &v, analytic: dv, coordinates: 20) { self.dot(forward(q, k, $0).out, r) }
    }

    /// More rows than one chunk, so the chunking itself is exercised; entropy weights on some rows only.
    func testChunkedOutputLoss() throws {
        let rows = OutputLoss.chunkRows + 6, d = 5, V = 11
        var hidden = random(rows * d), w = random(V * d)
        let targets = (0..<rows).map { Int32(($0 * 5 + 2) % V) }
        let c = random(rows), e = (0..<rows).map { $0 % 3 == 0 ? Float(0.3) : 0 }
        var scratch = [Float](repeating: 0, count: OutputLoss.scratchFloats(vocabulary: V, rows: rows))
        func run(_ hidden: [Float], _ w: [Float]) -> (OutputLoss.Result, [Float], [Float]) {
            var dw = [Float](repeating: 0, count: V * d), dh = [Float](repeating: 0, count: rows * d)
            let result = OutputLoss.forwardBackward(hidden: hidden, targets: targets[...], weight: w, weightGradient: &dw, hiddenGradient: &dh,
                                                    vocabulary: V, dimension: d, scratch: &scratch) { r, _ in
                TokenWeight(logProbability: c[r], entropy: e[r])
            }
            return (result, dw, dh)
        }
        let (result, dw, dh) = run(hidden, w)
        XCTAssertEqual(result.entropies.count, rows)
        let plain = OutputLoss.logProbabilities(hidden: hidden, targets: targets[...], weight: w, vocabulary: V, dimension: d)
        for (a, b) in zip(result.logProbabilities, plain) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        check("hidden", &hidden, analytic: dh, coordinates: 20) { run($0, w).0.objective }
        check("output weight", &w, analytic: dw, coordinates: 20) { run(hidden, $0).0.objective }
    }

    /// Recomputing each layer's activations in the backward pass gives the gradient that keeping them gives.
    func testLayerRecomputationGivesTheSameGradient() throws {
        for qwen2 in [false, true] {
            let model = TinyModel.make(seed: 31, qwen2: qwen2)
            let tokens: [Int32] = (0..<150).map { Int32(($0 * 11 + 3) % 37) }
            let gradients = [true, false].map { recompute -> [Float] in
                let g = LlamaGradients(like: model.parameters)
                let workspace = TrainingWorkspace(config: model.config, capacity: tokens.count, recomputesLayers: recompute)
                _ = try! model.accumulateGradient(tokens: tokens, scoredFrom: 20, workspace: workspace, into: g) { r, _ in
                    TokenWeight(logProbability: Float(r % 5) - 2)
                }
                return Array(g.storage)
            }
            XCTAssertEqual(gradients[0], gradients[1], "qwen2: \(qwen2)")
            XCTAssertTrue(gradients[0].contains { $0 != 0 })
        }
    }

    /// The workspace grows linearly with the sequence: no T² term left.
    func testWorkspaceIsLinearInLength() {
        let config = LlamaConfig(layers: 30, dimension: 576, hiddenDimension: 1536, heads: 9, kvHeads: 3, vocabulary: 49_152)
        for recompute in [false, true] {
            let short = TrainingWorkspace.floats(config: config, capacity: 2048, recomputesLayers: recompute)
            let long = TrainingWorkspace.floats(config: config, capacity: 16_384, recomputesLayers: recompute)
            XCTAssertLessThan(Double(long), 8.2 * Double(short), "recompute: \(recompute)")
        }
        XCTAssertTrue(TrainingWorkspace.needsRecomputation(config: config, capacity: 14_240, budgetBytes: 2 << 30))
        XCTAssertFalse(TrainingWorkspace.needsRecomputation(config: config, capacity: 512, budgetBytes: 2 << 30))
    }
}
