import Foundation
import Trainer
import XCTest

final class SamplerTests: XCTestCase {
    let logits: [Float] = [1.0, 3.0, 2.0, 0.5]

    func testTemperatureZeroIsArgmax() {
        var sampler = Sampler(temperature: 0)
        XCTAssertEqual((0..<10).map { _ in sampler.next(logits) }, Array(repeating: 1, count: 10))
    }

    func testSamplingIsSeededAndFollowsTheSoftmax() {
        var a = Sampler(temperature: 1, seed: 9), b = Sampler(temperature: 1, seed: 9)
        let first = (0..<50).map { _ in a.next(logits) }
        XCTAssertEqual(first, (0..<50).map { _ in b.next(logits) })
        var sampler = Sampler(temperature: 1, seed: 1)
        var counts = [0, 0, 0, 0]
        for _ in 0..<20_000 { counts[Int(sampler.next(logits))] += 1 }
        let weights = logits.map { exp(Double($0)) }
        let total = weights.reduce(0, +)
        for (count, weight) in zip(counts, weights) {
            XCTAssertEqual(Double(count) / 20_000, weight / total, accuracy: 0.015)
        }
    }

    func testTopPKeepsOnlyTheNucleus() {
        // Softmax of the logits is about [0.08, 0.61, 0.23, 0.05]: top-p 0.6 keeps only token 1.
        var sampler = Sampler(temperature: 1, topP: 0.6, seed: 3)
        XCTAssertEqual(Set((0..<200).map { _ in sampler.next(logits) }), [1])
    }

    func testGenerateCommandPrintsOnlyTheContinuation() throws {
        guard DefaultModel.locateSmall() != nil else { throw XCTSkip("the default model is not installed") }
        let output = String(decoding: try azr(["generate", "--raw", "--prompt", "def is_prime(n):\n    ", "--max-tokens", "12", "--temperature", "0"]),
                            as: UTF8.self)
        XCTAssertTrue(output.hasPrefix(" if n == 1:\n        return True\n    if n"), output)
    }
}
