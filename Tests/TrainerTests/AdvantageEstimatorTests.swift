import Trainer
import XCTest

final class AdvantageEstimatorTests: XCTestCase {
    /// LSP's baseline: reward minus its group's mean, each sample once, no whitening.
    func testGroupMeanAdvantagesSubtractEachGroupsMean() {
        let estimator = GroupMeanAdvantages()
        let advantages = estimator.advantages(rewards: [1, 0, 0, 1, -0.25, -1, -0.5], groups: ["q0", "q0", "q0", "q0", "c", "c", "c"],
                                              lengths: [3, 50, 1, 7, 9, 9, 9])
        // q0: mean 0.5 whatever the lengths; c: mean −0.5833….
        let expected = [0.5, -0.5, -0.5, 0.5, -0.25 + 1.75 / 3, -1 + 1.75 / 3, -0.5 + 1.75 / 3]
        for (a, e) in zip(advantages, expected) { XCTAssertEqual(a, e, accuracy: 1e-12) }
        // A group of one has nothing to compare with: 0.
        XCTAssertEqual(estimator.advantages(rewards: [0.7], groups: ["alone"], lengths: [4]), [0])
    }

    /// A sample's weight scales its whole loss: the same batch with every weight 2 has twice the loss and twice
    /// the gradient, and the same advantages.
    func testASamplesWeightScalesItsLossAndGradient() throws {
        let prompt: [Int32] = [3, 17, 5]
        let source = TinyModel.make(seed: 21)
        var sampler = Sampler(temperature: 1, seed: 4)
        var batch: [PolicySample] = []
        for index in 0..<6 {
            let (tokens, logProbabilities) = try source.sample(prompt: prompt, count: 4, sampler: &sampler)
            batch.append(PolicySample(prompt: prompt, completion: tokens, reward: Double(index % 3), group: "g",
                                      oldLogProbabilities: logProbabilities))
        }
        let doubled = batch.map { sample -> PolicySample in var s = sample; s.weight = 2; return s }
        let one = try TRRTrainer(model: TinyModel.make(seed: 21), learningRate: 0, maxGradientNorm: nil,
                                 advantages: GroupMeanAdvantages()).step(batch)
        let two = try TRRTrainer(model: TinyModel.make(seed: 21), learningRate: 0, maxGradientNorm: nil,
                                 advantages: GroupMeanAdvantages()).step(doubled)
        XCTAssertGreaterThan(abs(one.loss), 0)
        XCTAssertEqual(two.loss, 2 * one.loss, accuracy: 1e-5 * abs(one.loss))
        XCTAssertEqual(two.gradientNorm, 2 * one.gradientNorm, accuracy: 1e-4 * one.gradientNorm)
        XCTAssertEqual(two.meanAdvantage, one.meanAdvantage)
    }
}
