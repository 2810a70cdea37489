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

    /// `samples` completions of `length` tokens in one group, rewarded 0, 1, 0, 1, … in order.
    func alternatingBatch(_ model: LlamaModel, samples: Int, length: Int, seed: UInt64) throws -> [PolicySample] {
        var sampler = Sampler(temperature: 1, seed: seed)
        return try (0..<samples).map { index in
            let (tokens, logProbabilities) = try model.sample(prompt: prompt, count: length, sampler: &sampler)
            return PolicySample(prompt: prompt, completion: tokens, reward: Double(index % 2), group: "g",
                                oldLogProbabilities: logProbabilities)
        }
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

    func testANonFiniteUpdateIsRefusedAndChangesNothing() throws {
        let model = TinyModel.make(seed: 4)
        let trainer = TRRTrainer(model: model, learningRate: 0.05)
        let batch = try alternatingBatch(model, samples: 4, length: 3, seed: 9)
        // A NaN reward makes its group's advantages, the loss and the gradient NaN.
        var poisoned = batch
        poisoned[1].reward = .nan
        let weights = Array(model.parameters.storage)
        XCTAssertThrowsError(try trainer.step(poisoned)) { error in
            XCTAssertTrue(error is TRRTrainer.NonFiniteUpdate, "\(error)")
            XCTAssertTrue("\(error)".contains("not finite"), "\(error)")
        }
        XCTAssertEqual(Array(model.parameters.storage), weights)
        XCTAssertEqual(trainer.optimizer.step, 0)
        // The same batch without the NaN updates as usual.
        XCTAssertTrue(try trainer.step(batch).loss.isFinite)
        XCTAssertNotEqual(Array(model.parameters.storage), weights)
    }

    func testClippingHoldsBackASecondEpoch() throws {
        let model = TinyModel.make(seed: 8)
        let batch = try alternatingBatch(model, samples: 8, length: 5, seed: 3)
        let trainer = TRRTrainer(model: model, learningRate: 0.05, maxGradientNorm: nil)
        let first = try trainer.step(batch)
        XCTAssertEqual(first.clippedFraction, 0, "the first epoch runs at ratio 1")
        var second = try trainer.step(batch)
        for _ in 0..<4 where second.clippedFraction == 0 { second = try trainer.step(batch) }
        XCTAssertGreaterThan(second.clippedFraction, 0, "later epochs move the ratio past 1 ± 0.2")
        XCTAssertTrue(second.loss.isFinite)
    }

    /// With a frozen reference and a KL weight, equal rewards (advantage 0) leave only the KL term: it is 0 at the
    /// reference, and after the weights drift, steps pull the model back toward the reference.
    func testKLAnchorPullsBackToTheReference() throws {
        let model = TinyModel.make(seed: 5), frozen = TinyModel.make(seed: 5)
        var sampler = Sampler(temperature: 1, seed: 11)
        func batch() throws -> [PolicySample] {
            try (0..<8).map { _ in
                let (tokens, _) = try model.sample(prompt: prompt, count: 4, sampler: &sampler)
                return PolicySample(prompt: prompt, completion: tokens, reward: 1, group: "g")
            }
        }
        let trainer = TRRTrainer(model: model, learningRate: 0.01, maxGradientNorm: nil, reference: frozen, klCoefficient: 1)
        let atStart = try trainer.step(try batch())
        XCTAssertEqual(atStart.kl ?? -1, 0, accuracy: 1e-6)
        // The reference runs the inference path, whose GEMMs sum in another order: equal up to float rounding.
        XCTAssertEqual(atStart.gradientNorm, 0, accuracy: 1e-4, "no advantage and no divergence: no gradient")
        var drift: UInt64 = 3
        for i in 0..<model.parameters.count {
            drift = drift &* 6364136223846793005 &+ 1442695040888963407
            model.parameters.storage[i] += 0.15 * (Float(drift >> 40) / Float(1 << 24) - 0.5)
        }
        let fixed = try batch()
        let drifted = try trainer.step(fixed)
        var last = drifted
        for _ in 0..<15 { last = try trainer.step(fixed) }
        XCTAssertGreaterThan(drifted.kl!, 1e-3)
        XCTAssertLessThan(last.kl!, drifted.kl! * 0.5, "KL \(drifted.kl!) → \(last.kl!)")
    }

    /// The entropy bonus alone (equal rewards) raises the entropy of the next-token distributions.
    func testEntropyBonusRaisesEntropy() throws {
        let model = TinyModel.make(seed: 6)
        var sampler = Sampler(temperature: 1, seed: 12)
        let fixed = try (0..<8).map { _ in
            PolicySample(prompt: prompt, completion: try model.sample(prompt: prompt, count: 4, sampler: &sampler).tokens, reward: 1, group: "g")
        }
        let trainer = TRRTrainer(model: model, learningRate: 0.01, entropyCoefficient: 1)
        let first = try trainer.step(fixed)
        var last = first
        for _ in 0..<10 { last = try trainer.step(fixed) }
        XCTAssertGreaterThan(last.entropy!, first.entropy! + 0.05, "entropy \(first.entropy!) → \(last.entropy!)")
    }

    /// Two worker threads sum the same gradient as one.
    func testParallelSequencesGiveTheSameStep() throws {
        let one = TinyModel.make(seed: 14), two = TinyModel.make(seed: 14)
        var sampler = Sampler(temperature: 1, seed: 4)
        let batch = try (0..<6).map { index in
            PolicySample(prompt: prompt, completion: try one.sample(prompt: prompt, count: 3 + index % 3, sampler: &sampler).tokens,
                         reward: Double(index % 3), group: index < 3 ? "a" : "b")
        }
        let a = try TRRTrainer(model: one, learningRate: 0.01, threads: 1).step(batch)
        let b = try TRRTrainer(model: two, learningRate: 0.01, threads: 2).step(batch)
        XCTAssertEqual(a.gradientNorm, b.gradientNorm, accuracy: 1e-5 * a.gradientNorm)
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-9)
        for i in stride(from: 0, to: one.parameters.count, by: 17) {
            XCTAssertEqual(one.parameters.storage[i], two.parameters.storage[i], accuracy: 1e-6)
        }
    }

    /// Releasing the working memory between steps changes nothing the steps compute.
    func testReleasingWorkingMemoryBetweenStepsGivesTheSameSteps() throws {
        let kept = TinyModel.make(seed: 15), released = TinyModel.make(seed: 15)
        let keptTrainer = TRRTrainer(model: kept, learningRate: 0.01, threads: 2)
        let releasedTrainer = TRRTrainer(model: released, learningRate: 0.01, threads: 2)
        for round in 0..<3 {
            let batch = try alternatingBatch(kept, samples: 6, length: 3, seed: 30 + UInt64(round))
            releasedTrainer.releaseWorkingMemory()
            let a = try keptTrainer.step(batch), b = try releasedTrainer.step(batch)
            XCTAssertEqual(a.loss, b.loss)
            XCTAssertEqual(a.gradientNorm, b.gradientNorm)
        }
        XCTAssertEqual(Array(kept.parameters.storage), Array(released.parameters.storage))
    }
}
