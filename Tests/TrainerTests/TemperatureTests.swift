import Foundation
@testable import Trainer
import XCTest

/// Sampling at temperature T records log softmax(logits / T), and the trainer recomputes the same: PPO's ratio is
/// 1 on the policy that sampled.
final class TemperatureTests: XCTestCase {
    let prompt: [Int32] = [3, 17, 5, 36]

    func testTheTrainerRecomputesTheSamplingLogProbabilities() throws {
        let model = TinyModel.make(seed: 19, qwen2: true)
        for temperature: Float in [0.6, 1, 1.4] {
            let sampled = try model.generate(prompts: [prompt, prompt], maxTokens: 12, temperature: temperature, seed: 3)
            for sequence in sampled {
                let tokens = prompt + sequence.tokens
                let result = try model.accumulateGradient(tokens: tokens, scoredFrom: prompt.count - 1, into: LlamaGradients(like: model.parameters),
                                                          temperature: temperature) { _, _ in TokenWeight(logProbability: 0) }
                for (recomputed, recorded) in zip(result.logProbabilities, sequence.logProbabilities) {
                    XCTAssertEqual(recomputed, recorded, accuracy: 1e-4, "T = \(temperature)")
                }
                let reference = try model.logProbabilities(of: tokens, from: prompt.count - 1, temperature: temperature)
                for (a, b) in zip(reference, sequence.logProbabilities) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            }
        }
    }

    /// Through TRRTrainer with a tiny clip range: at the sampling temperature no token is clipped (ratio 1); told
    /// the wrong temperature, the ratios move and tokens are clipped.
    func testRatioIsOneOnTheSamplingPolicy() throws {
        let model = TinyModel.make(seed: 23)
        let sampled = try model.generate(prompts: Array(repeating: prompt, count: 6), maxTokens: 10, temperature: 0.6, seed: 8)
        func samples(temperature: Float) -> [PolicySample] {
            sampled.enumerated().map { index, sequence in
                PolicySample(prompt: prompt, completion: sequence.tokens, reward: Double(index % 3), group: "g",
                             oldLogProbabilities: sequence.logProbabilities, temperature: temperature)
            }
        }
        let trainer = TRRTrainer(model: model, learningRate: 0, clip: 1e-3)
        XCTAssertEqual(try trainer.step(samples(temperature: 0.6)).clippedFraction, 0)
        XCTAssertGreaterThan(try trainer.step(samples(temperature: 1)).clippedFraction, 0.2)
    }
}
