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

    /// Samples of one prompt share its prefill; with two slots, sequences join as others finish. Neither changes
    /// what any sequence samples.
    func testSharedPrefillsAndContinuousBatchingSampleWhatEachSequenceAloneWould() throws {
        let model = TinyModel.make(seed: 2)
        let repeated = [prompts[2], prompts[0], prompts[2], prompts[2], prompts[1], prompts[0]]
        let seeds: [UInt64] = [5, 9, 11, 5, 2, 7]
        let stop: Int32 = 4
        for slots in [nil, 2, 1] {
            let results = try model.generate(prompts: repeated, maxTokens: 7, temperature: 1, seeds: seeds, slots: slots, stop: stop)
            for index in repeated.indices {
                var sampler = Sampler(temperature: 1, seed: seeds[index])
                let alone = try model.sample(prompt: repeated[index], count: 7, sampler: &sampler, stop: stop)
                XCTAssertEqual(results[index].tokens, alone.tokens, "slots \(String(describing: slots)), sequence \(index)")
                for (a, b) in zip(results[index].logProbabilities, alone.logProbabilities) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            }
            XCTAssertEqual(results[0].tokens, results[3].tokens, "same prompt, same seed")
        }
    }

    /// A cache that continues another reads the prefix's positions and stores only its own.
    func testContinuedCacheMatchesAWholeCache() throws {
        let model = TinyModel.make(seed: 8)
        let prompt = prompts[2], more: [Int32] = [7, 30, 2]
        let whole = KVCache(config: model.config, capacity: 20)
        _ = try model.forward(prompt, cache: whole)
        let expected = try model.forward(more, cache: whole, lastOnly: false)
        let prefix = KVCache(config: model.config, capacity: prompt.count)
        _ = try model.forward(prompt, cache: prefix)
        let continued = KVCache(config: model.config, capacity: 20, prefix: prefix)
        let got = try model.forward(more, cache: continued, lastOnly: false)
        for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(continued.length, prompt.count + more.count)
    }

    /// Prefill longer than one attention block (the score tile is block × positions, not T²).
    func testLongPrefillMatchesTokenByToken() throws {
        let model = TinyModel.make(seed: 6)
        let tokens: [Int32] = (0..<(LlamaModel.attentionBlock + 40)).map { Int32(($0 * 13 + 1) % 37) }
        let all = try model.forward(tokens, cache: KVCache(config: model.config, capacity: tokens.count), lastOnly: false)
        let stepCache = KVCache(config: model.config, capacity: tokens.count)
        let V = model.config.vocabulary
        for (t, token) in tokens.enumerated() {
            let row = try model.forward([token], cache: stepCache)
            if t % 37 == 0 || t == tokens.count - 1 {
                for i in 0..<V { XCTAssertEqual(row[i], all[t * V + i], accuracy: 1e-4) }
            }
        }
        let chunked = try model.logProbabilities(of: tokens, from: 100)
        for (j, t) in (100..<tokens.count - 1).enumerated() {
            let row = all[t * V..<(t + 1) * V]
            let maximum = row.max()!
            let logSum = Float(log(row.reduce(0.0) { $0 + Double(expf($1 - maximum)) })) + maximum
            XCTAssertEqual(chunked[j], all[t * V + Int(tokens[t + 1])] - logSum, accuracy: 1e-4)
        }
    }
}
