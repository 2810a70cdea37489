import Foundation
import Trainer
import XCTest

final class TRRAdvantagesTests: XCTestCase {
    func testPerSequenceWhiteningByHand() {
        // Group a: rewards 1, 0, 0, 1 → mean 0.5, unbiased variance 1/3 → ±0.5 / sqrt(1/3) = ±0.8660…
        // Group b: a single sample → 0.
        let advantages = TRRAdvantages(weighting: .sequences).advantages(
            rewards: [1, 0, 0, 1, 0.7], groups: ["a", "a", "a", "a", "b"], lengths: [3, 5, 2, 4, 9])
        let expected = 0.5 / (1.0 / 3 + 1e-8).squareRoot()
        for (value, want) in zip(advantages, [expected, -expected, -expected, expected, 0]) {
            XCTAssertEqual(value, want, accuracy: 1e-9)
        }
    }

    func testTokenWeightedWhiteningByHand() {
        // Rewards 1 (3 tokens) and 0 (1 token): token mean 0.75; weighted squares 3·0.0625 + 0.5625 = 0.75,
        // unbiased over 4 tokens → 0.25; advantages 0.25/0.5 = 0.5 and −0.75/0.5 = −1.5.
        let advantages = TRRAdvantages(weighting: .tokens, epsilon: 0).advantages(rewards: [1, 0], groups: ["g", "g"], lengths: [3, 1])
        XCTAssertEqual(advantages[0], 0.5, accuracy: 1e-12)
        XCTAssertEqual(advantages[1], -1.5, accuracy: 1e-12)
    }

    func testGroupsAreIndependentAndEqualRewardsGiveZero() {
        let advantages = TRRAdvantages().advantages(rewards: [5, 5, -1, 1], groups: ["x", "x", "y", "y"], lengths: [1, 1, 1, 1])
        XCTAssertEqual(advantages[0], 0)
        XCTAssertEqual(advantages[1], 0)
        XCTAssertEqual(advantages[2], -advantages[3], accuracy: 1e-12)
        XCTAssertLessThan(advantages[2], 0)
    }
}

final class AdamWTests: XCTestCase {
    /// Three steps against PyTorch's AdamW formulas computed in numpy (float64).
    func testMatchesTheReferenceFormulas() throws {
        var parameters: [Float] = [0.5, -1.0, 2.0, 0.0]
        let gradients: [[Float]] = [[0.1, -0.2, 0.3, 0.0], [0.05, 0.4, -0.1, 0.2], [3.0, 0.0, 0.0, -4.0]]
        let optimizer = AdamW(parameterCount: 4, learningRate: 0.01, weightDecay: 0.1, maxGradientNorm: 1.0)
        for gradient in gradients {
            var g = gradient
            parameters.withUnsafeMutableBufferPointer { p in
                _ = g.withUnsafeMutableBufferPointer { optimizer.update(parameters: p, gradient: $0) }
            }
        }
        let script = """
        import json, numpy as np
        p = np.array([0.5, -1.0, 2.0, 0.0]); m = np.zeros(4); v = np.zeros(4)
        lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
        for t, g in enumerate(\(gradients.map { $0.map(Double.init) }), 1):
            g = np.array(g); n = np.linalg.norm(g)
            if n > 1.0: g = g * (1.0 / (n + 1e-6))
            p = p * (1 - lr * wd)
            m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g * g
            p = p - lr / (1 - b1 ** t) * m / (np.sqrt(v / (1 - b2 ** t)) + eps)
        print(json.dumps(p.tolist()))
        """
        let data = try python(["-c", script])
        let expected = try JSONSerialization.jsonObject(with: data) as! [Double]
        for (ours, theirs) in zip(parameters, expected) { XCTAssertEqual(Double(ours), theirs, accuracy: 1e-6) }
        XCTAssertEqual(optimizer.step, 3)
    }

    func testClippingReportsTheNormBeforeClipping() {
        var parameters: [Float] = [0, 0]
        var gradient: [Float] = [3, 4]
        let optimizer = AdamW(parameterCount: 2, learningRate: 0.1, weightDecay: 0, maxGradientNorm: 1)
        let norm = parameters.withUnsafeMutableBufferPointer { p in gradient.withUnsafeMutableBufferPointer { optimizer.update(parameters: p, gradient: $0) } }
        XCTAssertEqual(norm, 5, accuracy: 1e-6)
        // Adam's first step moves each coordinate by about lr, whatever the gradient's scale.
        XCTAssertEqual(parameters[0], -0.1, accuracy: 1e-4)
        XCTAssertEqual(parameters[1], -0.1, accuracy: 1e-4)
    }
}
