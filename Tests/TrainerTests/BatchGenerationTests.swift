import Foundation
@testable import Trainer
import XCTest

final class BatchGenerationTests: XCTestCase {
    let prompts: [[Int32]] = [[3, 17, 5], [9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [36, 0]]

    func testBatchedGreedyEqualsOneAtATime() throws {
        let model = TinyModel.make(seed: 13)
        let batched = try model.generate(prompts: prompts, maxTokens: 6, temperature: 0)
        for (prompt, result) in zip(prompts, batched) {
            XCTAssertEqual(result.tokens, try model.greedy(prompt, count: 6), "\(prompt)")
        }
    }

    func testSeededSamplingDoesNotDependOnTheBatch() throws {
        let model = TinyModel.make(seed: 2)
        let together = try model.generate(prompts: prompts, maxTokens: 8, temperature: 1, seed: 40)
        let again = try model.generate(prompts: prompts, maxTokens: 8, temperature: 1, seed: 40)
        XCTAssertEqual(together.map(\.tokens), again.map(\.tokens))
        for index in prompts.indices {
            var sampler = Sampler(temperature: 1, seed: 40 &+ UInt64(index))
            let alone = try model.sample(prompt: prompts[index], count: 8, sampler: &sampler)
            XCTAssertEqual(together[index].tokens, alone.tokens)
            for (a, b) in zip(together[index].logProbabilities, alone.logProbabilities) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    func testStopTokenEndsOnlyItsSequence() throws {
        let model = TinyModel.make(seed: 13)
        let greedy = try model.greedy(prompts[0], count: 6)
        let results = try model.generate(prompts: prompts, maxTokens: 6, temperature: 0, stop: greedy[1])
        XCTAssertEqual(results[0].tokens, Array(greedy.prefix(2)), "stops right after the stop token")
        XCTAssertTrue(results.contains { $0.tokens.count == 6 }, "other sequences go on")
    }
}
