import Foundation
@testable import Trainer
import XCTest

/// TRR++ on a toy reward must raise that reward: a real learning test, measured on fresh samples.
final class LearningTests: XCTestCase {
    let prompt: [Int32] = [3, 17, 5]
    let target: Int32 = 7

    func rewardRate(_ model: LlamaModel, samples: Int, seed: UInt64) throws -> Double {
        var sampler = Sampler(temperature: 1, seed: seed)
        var hits = 0
        for _ in 0..<samples where try model.sample(prompt: prompt, count: 4, sampler: &sampler).tokens.contains(target) { hits += 1 }
        return Double(hits) / Double(samples)
    }

    func testTRRRaisesAToyReward() throws {
        let model = TinyModel.make(seed: 21)
        let before = try rewardRate(model, samples: 300, seed: 1000)
        let trainer = TRRTrainer(model: model, learningRate: 0.02)
        var sampler = Sampler(temperature: 1, seed: 7)
        for _ in 0..<12 {
            var batch: [PolicySample] = []
            for _ in 0..<16 {
                let (tokens, logProbabilities) = try model.sample(prompt: prompt, count: 4, sampler: &sampler)
                batch.append(PolicySample(prompt: prompt, completion: tokens, reward: tokens.contains(target) ? 1 : 0,
                                          group: "toy.solve", oldLogProbabilities: logProbabilities))
            }
            try trainer.step(batch)
        }
        let after = try rewardRate(model, samples: 300, seed: 2000)
        print("toy reward before \(before), after \(after)")
        XCTAssertLessThan(before, 0.35, "the toy task must start hard")
        XCTAssertGreaterThan(after, before + 0.3, "reward before \(before), after \(after)")
    }

    func testClippingHoldsBackASecondEpoch() throws {
        let model = TinyModel.make(seed: 8)
        var sampler = Sampler(temperature: 1, seed: 3)
        var batch: [PolicySample] = []
        for index in 0..<8 {
            let (tokens, logProbabilities) = try model.sample(prompt: prompt, count: 5, sampler: &sampler)
            batch.append(PolicySample(prompt: prompt, completion: tokens, reward: Double(index % 2), group: "g",
                                      oldLogProbabilities: logProbabilities))
        }
        let trainer = TRRTrainer(model: model, learningRate: 0.05, maxGradientNorm: nil)
        let first = try trainer.step(batch)
        XCTAssertEqual(first.clippedFraction, 0, "the first epoch runs at ratio 1")
        var second = try trainer.step(batch)
        for _ in 0..<4 where second.clippedFraction == 0 { second = try trainer.step(batch) }
        XCTAssertGreaterThan(second.clippedFraction, 0, "later epochs move the ratio past 1 ± 0.2")
        XCTAssertTrue(second.loss.isFinite)
    }
}
