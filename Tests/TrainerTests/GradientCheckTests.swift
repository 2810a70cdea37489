import Foundation
@testable import Trainer
import XCTest

/// The backward pass against central finite differences on a tiny random model: every tensor (embedding,
/// both norms, Q, K, V, O, gate, up, down, output norm) is probed at random coordinates.
final class GradientCheckTests: XCTestCase {
    let tokens: [Int32] = [3, 17, 5, 36, 0, 22, 9, 14]
    let coefficients: [Float] = [0.5, -1.2, 0.8, 0.3, -0.7, 1.1, 0.9]

    func objective(_ model: LlamaModel) throws -> Double {
        try model.accumulateGradient(tokens: tokens, coefficients: coefficients, into: LlamaGradients(like: model.parameters)).objective
    }

    func testGradientsMatchFiniteDifferences() throws {
        let model = TinyModel.make(seed: 11)
        let p = model.parameters
        let gradients = LlamaGradients(like: p)
        _ = try model.accumulateGradient(tokens: tokens, coefficients: coefficients, into: gradients)
        var regions: [(String, Int, Int)] = [("embedding", p.embedding, 37 * 16), ("output norm", p.outputNorm, 16)]
        for (index, layer) in p.layers.enumerated() {
            regions += [("\(index).attention norm", layer.attentionNorm, 16), ("\(index).query", layer.query, 256),
                        ("\(index).key", layer.key, 128), ("\(index).value", layer.value, 128),
                        ("\(index).attention output", layer.attentionOutput, 256), ("\(index).ffn norm", layer.feedForwardNorm, 16),
                        ("\(index).gate", layer.gate, 384), ("\(index).up", layer.up, 384), ("\(index).down", layer.down, 384)]
        }
        var picker: UInt64 = 5
        let step: Float = 1e-2
        for (name, offset, size) in regions {
            for _ in 0..<3 {
                picker = picker &* 6364136223846793005 &+ 1442695040888963407
                let index = offset + Int(picker >> 33) % size
                let original = p.storage[index]
                p.storage[index] = original + step
                let plus = try objective(model)
                p.storage[index] = original - step
                let minus = try objective(model)
                p.storage[index] = original
                let numeric = (plus - minus) / (2 * Double(step))
                let analytic = Double(gradients.storage[index])
                XCTAssertEqual(analytic, numeric, accuracy: 2e-2 * max(abs(numeric), abs(analytic)) + 3e-4,
                               "\(name) at \(index - offset)")
            }
        }
    }

    func testQwen2GradientsMatchFiniteDifferences() throws {
        let model = TinyModel.make(seed: 12, qwen2: true)
        let p = model.parameters
        let gradients = LlamaGradients(like: p)
        _ = try model.accumulateGradient(tokens: tokens, coefficients: coefficients, into: gradients)
        var regions: [(String, Int, Int)] = [("output", p.output!, 37 * 16), ("embedding", p.embedding, 37 * 16)]
        for (index, layer) in p.layers.enumerated() {
            regions += [("\(index).query bias", layer.queryBias!, 16), ("\(index).key bias", layer.keyBias!, 8),
                        ("\(index).value bias", layer.valueBias!, 8), ("\(index).query", layer.query, 256), ("\(index).key", layer.key, 128)]
        }
        try checkRegions(regions, of: model, against: gradients)
    }

    /// The entropy term: J = Σ eₜ·Hₜ alone, against finite differences of the entropies it reports.
    func testEntropyGradientMatchesFiniteDifferences() throws {
        let model = TinyModel.make(seed: 21)
        let p = model.parameters
        let entropyWeights: [Float] = [0, 0, 0.7, -0.4, 1.3, 0.2]
        func entropyObjective(into gradients: LlamaGradients) throws -> Double {
            let result = try model.accumulateGradient(tokens: tokens, scoredFrom: 1, into: gradients) { r, _ in
                TokenWeight(logProbability: 0, entropy: entropyWeights[r])
            }
            XCTAssertEqual(result.entropies.count, 6)
            XCTAssertTrue(result.entropies.allSatisfy { $0 > 0 && $0 < log(37) + 1e-4 })
            return zip(result.entropies, entropyWeights).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        let gradients = LlamaGradients(like: p)
        let objective = try entropyObjective(into: gradients)
        XCTAssertNotEqual(objective, 0)
        var picker: UInt64 = 9
        for offset in [p.embedding, p.layers[1].up, p.layers[0].query, p.outputNorm] {
            for _ in 0..<3 {
                picker = picker &* 6364136223846793005 &+ 1442695040888963407
                let index = offset + Int(picker >> 33) % 16
                let original = p.storage[index]
                p.storage[index] = original + 1e-2
                let plus = try entropyObjective(into: LlamaGradients(like: p))
                p.storage[index] = original - 1e-2
                let minus = try entropyObjective(into: LlamaGradients(like: p))
                p.storage[index] = original
                let numeric = (plus - minus) / 2e-2, analytic = Double(gradients.storage[index])
                XCTAssertEqual(analytic, numeric, accuracy: 2e-2 * max(abs(numeric), abs(analytic)) + 3e-4, "at \(index)")
            }
        }
    }

    func checkRegions(_ regions: [(String, Int, Int)], of model: LlamaModel, against gradients: LlamaGradients) throws {
        let p = model.parameters
        var picker: UInt64 = 5
        let step: Float = 1e-2
        for (name, offset, size) in regions {
            for _ in 0..<3 {
                picker = picker &* 6364136223846793005 &+ 1442695040888963407
                let index = offset + Int(picker >> 33) % size
                let original = p.storage[index]
                p.storage[index] = original + step
                let plus = try objective(model)
                p.storage[index] = original - step
                let minus = try objective(model)
                p.storage[index] = original
                let numeric = (plus - minus) / (2 * Double(step))
                let analytic = Double(gradients.storage[index])
                XCTAssertEqual(analytic, numeric, accuracy: 2e-2 * max(abs(numeric), abs(analytic)) + 3e-4,
                               "\(name) at \(index - offset)")
            }
        }
    }

    func testTrainingForwardAgreesWithInference() throws {
        let model = TinyModel.make(seed: 4)
        let result = try model.accumulateGradient(tokens: tokens, coefficients: coefficients, into: LlamaGradients(like: model.parameters))
        let logits = try model.forward(tokens, cache: KVCache(config: model.config, capacity: 16), lastOnly: false)
        let V = model.config.vocabulary
        for t in 0..<tokens.count - 1 {
            let row = Array(logits[t * V..<(t + 1) * V])
            let maximum = row.max()!
            let logSum = log(row.reduce(0.0) { $0 + Double(expf($1 - maximum)) }) + Double(maximum)
            XCTAssertEqual(Double(result.logProbabilities[t]), Double(row[Int(tokens[t + 1])]) - logSum, accuracy: 1e-4)
        }
    }
}

/// A two-layer random model (dimension 16, 4 query and 2 key/value heads, vocabulary 37) for exact checks;
/// `qwen2` gives it projection biases, half-split RoPE and an untied output matrix.
enum TinyModel {
    static func make(seed: UInt64, qwen2: Bool = false) -> LlamaModel {
        let config = LlamaConfig(layers: 2, dimension: 16, hiddenDimension: 24, heads: 4, kvHeads: 2, vocabulary: 37, ropeTheta: 100,
                                 tiedEmbedding: !qwen2, architecture: qwen2 ? "qwen2" : "llama")
        let parameters = LlamaParameters(config: config)
        var state = seed
        func normal() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u1 = Double(state >> 11) / Double(1 << 53) + 1e-12
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u2 = Double(state >> 11) / Double(1 << 53)
            return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        for i in 0..<parameters.count { parameters.storage[i] = 0.4 * normal() }
        let d = config.dimension
        for offset in parameters.layers.flatMap({ [$0.attentionNorm, $0.feedForwardNorm] }) + [parameters.outputNorm] {
            for i in 0..<d { parameters[offset][i] = 1 + 0.2 * normal() }
        }
        return LlamaModel(parameters: parameters)
    }
}
